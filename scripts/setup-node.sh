#!/usr/bin/env bash
# Installs the npm packages the browser tests need (axe-core, for the accessibility check of
# every wizard step) into tests/e2e/node_modules. Called at the end of scripts/setup.sh; safe to
# run again: it does nothing when the pinned version is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

AXE_VERSION=${AXE_VERSION:-4.14.1}
DEST=tests/e2e
if ! command -v npm >/dev/null 2>&1; then
  echo "setup-node: npm not found; install Debian's npm (apt-get install npm) for the browser tests" >&2
  exit 0
fi
installed=""
if [ -f "$DEST/node_modules/axe-core/package.json" ]; then
  installed=$(node -p "require('./$DEST/node_modules/axe-core/package.json').version" 2>/dev/null || true)
fi
if [ "$installed" != "$AXE_VERSION" ]; then
  echo "setup-node: npm install axe-core@$AXE_VERSION into $DEST"
  npm install --prefix "$DEST" --no-audit --no-fund --no-save --silent "axe-core@$AXE_VERSION"
fi
