-- wrk script: a mix of what members do, on loopback.
-- 40 % page views (each renders related material), 30 % search page, 15 % search API,
-- 15 % matching API. Prints throughput, latency percentiles and all error counts.
local function read_lines(path)
  local t = {}
  for line in io.lines(path) do
    if #line > 0 then t[#t + 1] = line end
  end
  return t
end

local pages = read_lines("loadtest/pages.txt")
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

function request()
  counter = counter + 1
  local slot = counter % 20
  local q = queries[(counter % #queries) + 1]
  if slot < 8 then
    return wrk.format("GET", pages[(counter % #pages) + 1])
  elseif slot < 14 then
    return wrk.format("GET", "/suche/?q=" .. urlencode(q))
  elseif slot < 17 then
    return wrk.format("GET", "/api/v1/search?q=" .. urlencode(q) .. "&limit=10")
  else
    local body = '{"description": "Wir planen: ' .. q .. '. Wer hat damit Erfahrung?", "limit": 5}'
    return wrk.format("POST", "/api/v1/match", {["Content-Type"] = "application/json"}, body)
  end
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format("requests: %d in %.1f s = %.1f req/s\n", summary.requests, seconds,
    summary.requests / seconds))
  io.write(string.format("latency ms: p50 %.0f  p95 %.0f  p99 %.0f  max %.0f\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
  io.write(string.format("errors: non-2xx/3xx %d, connect %d, read %d, write %d, timeout %d\n",
    e.status, e.connect, e.read, e.write, e.timeout))
end
