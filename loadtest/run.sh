#!/usr/bin/env bash
# Load test (make loadtest): gunicorn with the production settings on loopback, wrk with
# 50 concurrent connections for 60 s mixing page views, search, search API and matching API.
# Needs wrk (Debian package "wrk"; installed here when running as root).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT=${LOADTEST_PORT:-8010}
CONNECTIONS=${LOADTEST_CONNECTIONS:-50}
DURATION=${LOADTEST_DURATION:-60s}

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
# The load test measures capacity; the per-client API rate limit (tested in the test suite)
# would otherwise answer most of 50 clients from one address with 429.
export KNOWLEDGE_API_RATE_LIMIT=off

$PY manage.py migrate --noinput -v0
$PY manage.py load_demo_content
$PY manage.py collectstatic --noinput -v0
$PY manage.py shell -c "
from knowledge.models import KnowledgePage
from knowledge.access import viewable_pages
for p in viewable_pages(None, KnowledgePage).specific(): print(p.url)
" | grep '^/' > loadtest/pages.txt  # only URLs, not the shell's start-up banner

GUNICORN_BIND=127.0.0.1:$PORT .venv/bin/gunicorn -c deploy/gunicorn.conf.py &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -fs -o /dev/null "http://127.0.0.1:$PORT/suche/?q=Aufw%C3%A4rmen" && break
  sleep 1
done
# Warm every worker thread once (model already loaded in post_worker_init).
wrk -t2 -c8 -d5s -s loadtest/mix.lua "http://127.0.0.1:$PORT" >/dev/null
echo "== wrk -t2 -c$CONNECTIONS -d$DURATION (mixed traffic) =="
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --timeout 30s -s loadtest/mix.lua "http://127.0.0.1:$PORT"
echo "peak RSS of gunicorn processes (MB): $(ps -o rss= --ppid $SERVER | awk '{s+=$1} END {print int(s/1024)}')"
