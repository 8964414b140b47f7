#!/usr/bin/env bash
# Installs what myna-reset needs on a fresh Debian/Ubuntu machine, and nothing that is already there.
# Called by `make run` and `make test`; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
APT_PACKAGES=(
  libpcsclite-dev swig      # build pyscard
  pcscd pcsc-tools          # the PC/SC daemon the bridge talks to
  vsmartcard-vpcd           # virtual reader: the simulated card appears to pcscd as a reader
  chromium                  # end-to-end tests (driven by Playwright, never downloaded by it)
  nginx                     # `make serve` and its test: TLS proxy in front of the workers (deploy/)
  openssl                   # the self-signed certificate `make serve` makes for local runs
  fonts-noto-cjk            # Japanese glyphs: rendered pages and synthetic card fronts
  gettext                   # compilemessages
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing apt packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

stamp="$VENV/.installed"
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: pip install -e .[dev]"
  if ! "$VENV/bin/pip" install -q -e ".[dev]" > "$VENV/pip-install.log" 2>&1; then
    cat "$VENV/pip-install.log" >&2
    echo "setup: pip install failed (log above, also in $VENV/pip-install.log)" >&2
    exit 1
  fi
  touch "$stamp"
fi

"$VENV/bin/python" manage.py compilemessages -v 0 --ignore "$VENV" 2>/dev/null || "$VENV/bin/python" manage.py compilemessages -v 0
"$VENV/bin/python" manage.py migrate -v 0 --no-input
"$VENV/bin/python" manage.py collectstatic -v 0 --no-input
scripts/setup-node.sh
