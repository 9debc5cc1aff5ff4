#!/usr/bin/env bash
# Load test (make loadtest): gunicorn with the production settings on loopback; wrk measures
# each surface alone (page view, listing, search page, search API, matching API) at 1, 10 and
# 50 clients, then 50 clients for 60 s mixing page views, search, search API and matching API.
# Needs wrk (Debian package "wrk"; installed here when running as root).
# LOADTEST_SURFACES="" skips the per-surface table; LOADTEST_SURFACE_DURATION sets its runs.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT=${LOADTEST_PORT:-8010}
CONNECTIONS=${LOADTEST_CONNECTIONS:-50}
DURATION=${LOADTEST_DURATION:-60s}
SURFACES=${LOADTEST_SURFACES-page listing search api match}
SURFACE_CLIENTS=${LOADTEST_SURFACE_CLIENTS:-1 10 50}
SURFACE_DURATION=${LOADTEST_SURFACE_DURATION:-15s}

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -qq wrk >/dev/null
  else
    echo "wrk is required: apt-get install wrk"; exit 1
  fi
fi

export DJANGO_SETTINGS_MODULE=knowledge.settings.production
export DJANGO_SECRET_KEY=${DJANGO_SECRET_KEY:-$($PY -c "import secrets; print(secrets.token_urlsafe(50))")}
export DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
export DJANGO_SECURE_SSL_REDIRECT=0  # plain HTTP on loopback
# The load test measures capacity; the per-client rate limits (tested in the test suite)
# would otherwise answer most of 50 clients from one address with 429.
export KNOWLEDGE_API_RATE_LIMIT=off
export KNOWLEDGE_MATCH_RATE_LIMIT=off

$PY manage.py migrate --noinput -v0
$PY manage.py load_demo_content
# The production settings queue indexing for a db_worker that does not run here: without
# this, a fresh installation would be measured searching an empty index.
$PY manage.py rebuild_search_index --stale --no-progress
$PY manage.py collectstatic --noinput -v0
# The test's searches are not the Redaktion's: the query-log rows written during the run are
# removed afterwards (do not run this against an installation in use).
LOG_START=$($PY manage.py shell -c "
from django.db.models import Max
from network.models import QueryLog
print('LOGSTART', QueryLog.objects.aggregate(m=Max('id'))['m'] or 0)
" | sed -n 's/^LOGSTART //p')
$PY manage.py shell -c "
from knowledge.models import KnowledgePage
from knowledge.access import viewable_pages
for p in viewable_pages(None, KnowledgePage).specific(): print(p.url)
" | grep '^/' > loadtest/pages.txt  # only URLs, not the shell's start-up banner
# Listings: the section overviews, the content browser and the municipality pages.
$PY manage.py shell -c "
from wagtail.models import Page
for p in Page.objects.live().filter(depth=3).specific(): print(p.url)
for q in ('', '?typ=lesson_learned', '?thema=qualifizierung'): print('/inhalte/' + q)
print('/kommunen/'); print('/uebersicht/'); print('/zeitstrahl/')
" | grep '^/' > loadtest/listings.txt

# Workers are not recycled during the test (production: every ~50,000 requests). A recycle
# reloads the model for about 9 s and closes the idle keep-alive connections of the worker;
# wrk counts a request sent on one of them as a read error, where browsers and proxies
# retry. LOADTEST_MAX_REQUESTS=50000 measures with the production setting.
export GUNICORN_MAX_REQUESTS=${LOADTEST_MAX_REQUESTS:-0}
GUNICORN_BIND=127.0.0.1:$PORT .venv/bin/gunicorn -c deploy/gunicorn.conf.py &
SERVER=$!
cleanup() {
  kill $SERVER 2>/dev/null || true
  wait $SERVER 2>/dev/null || true
  $PY manage.py shell -c "
from network.models import QueryLog
print('Removed', QueryLog.objects.filter(id__gt=$LOG_START).delete()[0], 'query-log rows of the load test.')
" | grep '^Removed' || true
}
trap cleanup EXIT
for _ in $(seq 1 120); do
  curl -fs -o /dev/null "http://127.0.0.1:$PORT/suche/?q=Aufw%C3%A4rmen" && break
  sleep 1
done
# Measure searches that find something: the first test query must have hits.
FIRST_QUERY=$(head -1 loadtest/queries.txt | sed 's/ /%20/g')
if ! curl -fs "http://127.0.0.1:$PORT/api/v1/search?q=$FIRST_QUERY" | grep -q '"total": *[1-9]'; then
  echo "The search finds nothing for the first test query: is the index built?"; exit 1
fi
# Warm every worker thread once (model already loaded in post_worker_init).
wrk -t2 -c8 -d5s -s loadtest/mix.lua "http://127.0.0.1:$PORT" >/dev/null
ROWS=""
for surface in $SURFACES; do
  for clients in $SURFACE_CLIENTS; do
    echo "== $surface, $clients clients, $SURFACE_DURATION =="
    out=$(SURFACE=$surface CLIENTS=$clients wrk -t"$([ "$clients" = 1 ] && echo 1 || echo 2)" \
      -c"$clients" -d"$SURFACE_DURATION" --timeout 30s -s loadtest/mix.lua "http://127.0.0.1:$PORT")
    echo "$out" | grep -v '^ROW'
    ROWS="$ROWS$(echo "$out" | grep '^ROW' | sed 's/^ROW //')"$'\n'
  done
done
echo "== wrk -t2 -c$CONNECTIONS -d$DURATION (mixed traffic) =="
out=$(SURFACE=mix CLIENTS=$CONNECTIONS wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --timeout 30s \
  -s loadtest/mix.lua "http://127.0.0.1:$PORT")
echo "$out" | grep -v '^ROW'
ROWS="$ROWS$(echo "$out" | grep '^ROW' | sed 's/^ROW //')"$'\n'
echo
echo "| Surface | Clients | Requests/s | p50 ms | p95 ms | Errors |"
echo "|---|---|---|---|---|---|"
printf '%s' "$ROWS"
echo "peak RSS of gunicorn processes (MB): $(ps -o rss= --ppid $SERVER | awk '{s+=$1} END {print int(s/1024)}')"
