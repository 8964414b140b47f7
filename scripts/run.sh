#!/usr/bin/env bash
# The main job on the embedded default: the web app (daphne, SQLite, in-memory channel layer) and
# the local helper with the simulated demo card, so the whole flow works on a machine with no reader.
# daphne starts its own face worker processes (MYNA_FACE_WORKERS, default one per core) on the first
# face check, and stops them when it exits: nothing else to start here (docs/faceverify.md, "Load").
set -euo pipefail
cd "$(dirname "$0")/.."
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
BRIDGE_PORT=${BRIDGE_PORT:-9581}
VENV=${VENV:-.venv}
export MYNA_BRIDGE_URL="ws://127.0.0.1:${BRIDGE_PORT}/"

# --kiosk: the same bridge and demo card also serve the completion terminal at /kiosk/ (a
# development convenience: a resident's own helper never runs in kiosk mode).
bridge_args=(--simulate --kiosk --port "$BRIDGE_PORT" --allow-origin "http://${HOST}:${PORT}")
[ "$HOST" = "127.0.0.1" ] && bridge_args+=(--allow-origin "http://localhost:${PORT}")
"$VENV/bin/myna-bridge" "${bridge_args[@]}" &
bridge_pid=$!
trap 'kill $bridge_pid 2>/dev/null || true' EXIT INT TERM

echo "myna-reset: open http://${HOST}:${PORT}/  (card bridge with the simulated demo card on ws://127.0.0.1:${BRIDGE_PORT}/)"
echo "myna-reset: kiosk (finish a booked reset) at http://${HOST}:${PORT}/kiosk/"
echo "myna-reset: counter terminal (counter resets with a clerk at /staff/counter-reset/) at http://${HOST}:${PORT}/kiosk/counter/"
echo "myna-reset: demo card — birth 1985-07-23, expiry 2034-07-23, security code 4821, PIN 2580, signature password MYNA2580"
"$VENV/bin/daphne" -b "$HOST" -p "$PORT" webapp.asgi:application
