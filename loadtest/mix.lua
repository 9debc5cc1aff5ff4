-- wrk script: what members do, on loopback. SURFACE (environment) picks the traffic:
--   mix (default)  40 % page views (each renders related material), 30 % search page,
--                  15 % search API, 15 % matching API
--   page | listing | search | api | match   one surface only
-- Prints throughput, latency percentiles and all error counts, then one "ROW" line that
-- loadtest/run.sh turns into the README table.
local surface = os.getenv("SURFACE") or "mix"
local clients = os.getenv("CLIENTS") or "?"

local function read_lines(path)
  local t = {}
  for line in io.lines(path) do
    if #line > 0 then t[#t + 1] = line end
  end
  return t
end

local pages = read_lines("loadtest/pages.txt")
local listings = read_lines("loadtest/listings.txt")
local queries = read_lines("loadtest/queries.txt")

local function urlencode(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

local counter = 0
function init(args)
  counter = tonumber(id) * 7919
end

local function page_view() return wrk.format("GET", pages[(counter % #pages) + 1]) end
local function listing() return wrk.format("GET", listings[(counter % #listings) + 1]) end
local function query() return queries[(counter % #queries) + 1] end
local function search_page() return wrk.format("GET", "/suche/?q=" .. urlencode(query())) end
local function search_api()
  return wrk.format("GET", "/api/v1/search?q=" .. urlencode(query()) .. "&limit=10")
end
local function match_api()
  local body = '{"description": "Wir planen: ' .. query() .. '. Wer hat damit Erfahrung?", "limit": 5}'
  return wrk.format("POST", "/api/v1/match", {["Content-Type"] = "application/json"}, body)
end

local single = {page = page_view, listing = listing, search = search_page, api = search_api,
                match = match_api}

function request()
  counter = counter + 1
  if single[surface] then return single[surface]() end
  local slot = counter % 20
  if slot < 8 then return page_view()
  elseif slot < 14 then return search_page()
  elseif slot < 17 then return search_api()
  else return match_api() end
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  local errors = e.status + e.connect + e.read + e.write + e.timeout
  io.write(string.format("requests: %d in %.1f s = %.1f req/s\n", summary.requests, seconds,
    summary.requests / seconds))
  io.write(string.format("latency ms: p50 %.0f  p95 %.0f  p99 %.0f  max %.0f\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
  io.write(string.format("errors: non-2xx/3xx %d, connect %d, read %d, write %d, timeout %d\n",
    e.status, e.connect, e.read, e.write, e.timeout))
  io.write(string.format("ROW | %s | %s | %.1f | %.0f | %.0f | %d |\n", surface, clients,
    summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    errors))
end
