#!/usr/bin/env bash
# `make serve`: the production shape on this machine — nginx terminating TLS in front of N daphne
# workers (docs/deployment.md). Migrates, collects static files, renders deploy/nginx.conf.template
# into a private prefix (SERVE_DIR: config, pid, logs, temp files, a self-signed certificate), starts
# the workers and nginx, and prints "READY" once every worker's /readyz answers. Ctrl-C (or TERM)
# stops everything it started. No root needed, nothing written outside SERVE_DIR and MYNA_VAR_DIR.
#
# Settings come from the environment like any run of the app (.env.example); the ones a proxy
# needs are defaulted here. Knobs:
#   WORKERS (CPU count)  BIND (127.0.0.1)  HTTPS_PORT (8443)  HTTP_PORT (8080, redirects only)
#   WORKER_PORT_BASE (8001: workers on 8001..8000+WORKERS)  SERVER_NAME (localhost)
#   TLS_CERT / TLS_KEY (default: a self-signed pair made once in SERVE_DIR/tls)
#   BRIDGE_PORT (set: also run `myna-bridge --simulate` there for this origin, as `make run` does)
#   RENDER_ONLY=1 (write SERVE_DIR/nginx.conf and stop: for installing into a system nginx)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${VENV:-.venv}
PY="$VENV/bin/python"

WORKERS=${WORKERS:-$(nproc)}
BIND=${BIND:-127.0.0.1}
HTTPS_PORT=${HTTPS_PORT:-8443}
HTTP_PORT=${HTTP_PORT:-8080}
WORKER_PORT_BASE=${WORKER_PORT_BASE:-8001}
SERVER_NAME=${SERVER_NAME:-localhost}
SERVE_DIR=$(realpath -m "${SERVE_DIR:-var/serve}")
NGINX=${NGINX:-nginx}

# What the app needs behind this proxy (webapp/settings.py); an operator's values win.
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-webapp.settings}
export BEHIND_TLS_PROXY=${BEHIND_TLS_PROXY:-true}
export SESSION_COOKIE_SECURE=${SESSION_COOKIE_SECURE:-true}
export CSRF_COOKIE_SECURE=${CSRF_COOKIE_SECURE:-true}
export LOG_FORMAT=${LOG_FORMAT:-json}
export ALLOWED_HOSTS=${ALLOWED_HOSTS:-localhost,127.0.0.1,[::1],$SERVER_NAME}
export PYTHONUNBUFFERED=1
if [ -n "${BRIDGE_PORT:-}" ]; then
  export MYNA_BRIDGE_URL="ws://127.0.0.1:${BRIDGE_PORT}/"
fi

mkdir -p "$SERVE_DIR"/{logs,tmp,tls}
log() { echo "myna-reset serve: $*"; }

# --- TLS: a self-signed certificate for local runs (a real one in production: TLS_CERT/TLS_KEY)
TLS_CERT=${TLS_CERT:-$SERVE_DIR/tls/cert.pem}
TLS_KEY=${TLS_KEY:-$SERVE_DIR/tls/key.pem}
if [ ! -s "$TLS_CERT" ] || [ ! -s "$TLS_KEY" ]; then
  log "making a self-signed certificate for $SERVER_NAME in $SERVE_DIR/tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$SERVER_NAME" \
    -addext "subjectAltName=DNS:$SERVER_NAME,DNS:localhost,IP:127.0.0.1,IP:::1" \
    -keyout "$TLS_KEY" -out "$TLS_CERT" 2>/dev/null
  chmod 600 "$TLS_KEY"
fi

# --- nginx.conf from the template
STATIC_ROOT=$("$PY" -c 'from django.conf import settings; print(settings.STATIC_ROOT)')
upstreams=""
for i in $(seq 0 $((WORKERS - 1))); do
  upstreams+="        server 127.0.0.1:$((WORKER_PORT_BASE + i)) max_fails=1 fail_timeout=5s;"$'\n'
done
cp deploy/nginx-proxy-headers.conf "$SERVE_DIR/proxy-headers.conf"
UPSTREAMS="$upstreams" "$PY" - "$SERVE_DIR/nginx.conf" <<PYEOF
import os, sys
text = open("deploy/nginx.conf.template", encoding="utf-8").read()
values = {
    "SERVE_DIR": "$SERVE_DIR", "BIND": "$BIND", "HTTPS_PORT": "$HTTPS_PORT",
    "HTTP_PORT": "$HTTP_PORT", "SERVER_NAME": "$SERVER_NAME", "TLS_CERT": "$TLS_CERT",
    "TLS_KEY": "$TLS_KEY", "STATIC_ROOT": "$STATIC_ROOT",
    "UPSTREAM_SERVERS": os.environ["UPSTREAMS"].rstrip("\n"),
}
for name, value in values.items():
    text = text.replace(f"@{name}@", value)
assert "@" not in "".join(line for line in text.splitlines() if not line.lstrip().startswith("#")), "unfilled placeholder"
open(sys.argv[1], "w", encoding="utf-8").write(text)
PYEOF
"$NGINX" -t -q -p "$SERVE_DIR" -c "$SERVE_DIR/nginx.conf" -e "$SERVE_DIR/logs/nginx-error.log"
if [ "${RENDER_ONLY:-0}" = "1" ]; then
  log "wrote $SERVE_DIR/nginx.conf"
  exit 0
fi

# --- the database and static files, once, before any worker starts
"$PY" manage.py migrate --no-input -v 0
"$PY" manage.py collectstatic --no-input -v 0

# --- workers, nginx (and the demo bridge), stopped together
pids=()
stop() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

for i in $(seq 0 $((WORKERS - 1))); do
  port=$((WORKER_PORT_BASE + i))
  # daphne's own access log is off: the app writes one JSON line per request (webapp/request_id.py)
  # and nginx one per request and WebSocket upgrade; --proxy-headers takes the client address and
  # scheme from nginx.
  "$VENV/bin/daphne" -b 127.0.0.1 -p "$port" --proxy-headers --access-log /dev/null \
    webapp.asgi:application >>"$SERVE_DIR/logs/worker-$port.log" 2>&1 &
  pids+=($!)
done
"$NGINX" -p "$SERVE_DIR" -c "$SERVE_DIR/nginx.conf" -e "$SERVE_DIR/logs/nginx-error.log" \
  -g "daemon off;" &
pids+=($!)
if [ -n "${BRIDGE_PORT:-}" ]; then
  origin="https://${SERVER_NAME}:${HTTPS_PORT}"
  "$VENV/bin/myna-bridge" --simulate --port "$BRIDGE_PORT" --allow-origin "$origin" \
    --allow-origin "https://127.0.0.1:${HTTPS_PORT}" --allow-origin "https://localhost:${HTTPS_PORT}" \
    >>"$SERVE_DIR/logs/bridge.log" 2>&1 &
  pids+=($!)
fi

# Ready when every worker says so on its own port (the probe nginx also forwards on loopback).
"$PY" - "$WORKER_PORT_BASE" "$WORKERS" <<'PYEOF'
import sys, time, urllib.request
base, count = int(sys.argv[1]), int(sys.argv[2])
deadline = time.monotonic() + 120
pending = {base + i for i in range(count)}
while pending and time.monotonic() < deadline:
    for port in sorted(pending):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
                if answer.status == 200:
                    pending.discard(port)
        except OSError:
            pass
    time.sleep(0.3)
sys.exit(1 if pending else 0)
PYEOF
log "READY https://${SERVER_NAME}:${HTTPS_PORT}/ (${WORKERS} workers on 127.0.0.1:${WORKER_PORT_BASE}+, logs in $SERVE_DIR/logs)"

# Any one of them ending ends the run: a half-up deployment is worse than a stopped one.
wait -n
log "a process ended; stopping the rest"
exit 1
