#!/usr/bin/env bash
# Builds the standalone card helper (myna-bridge without Django or Python on the target) and,
# on Debian/Ubuntu, its .deb. Artifacts, each with a SHA-256 file beside it, and helper.json
# (what the site's download page reads) go to $HELPER_OUT (default dist/helper).
#
#   scripts/build-helper.sh                      # or: make helper
#   MYNA_SERVICE_ORIGIN=https://reset.example.jp scripts/build-helper.sh
#
# MYNA_SERVICE_ORIGIN (comma-separated) is written into the .deb's /etc/myna-bridge/config.toml,
# the helper's origin allow-list; without it the development pages are allowed (a warning says
# so). Everything PyInstaller caches stays under build/helper (PYINSTALLER_CONFIG_DIR).
# Windows and macOS: see docs/bridge-deployment.md, "Building the helper".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${VENV:-.venv}
PY="$VENV/bin/python"
OUT=${HELPER_OUT:-dist/helper}
WORK=build/helper
ORIGINS=${MYNA_SERVICE_ORIGIN:-http://localhost:8000,http://127.0.0.1:8000}
HOMEPAGE=${MYNA_HELPER_HOMEPAGE:-https://github.com/myna-reset/myna-reset}

[ -x "$PY" ] || { echo "build-helper: no virtualenv at $VENV (run make setup first)" >&2; exit 1; }
[ -n "${MYNA_SERVICE_ORIGIN:-}" ] || echo "build-helper: MYNA_SERVICE_ORIGIN not set; the .deb allows only the development pages ($ORIGINS)" >&2

# The optional extra helper-build, exactly (not the project: the venv's editable install stays).
mapfile -t BUILD_REQS < <("$PY" - <<'PYEOF'
import tomllib
with open("pyproject.toml", "rb") as handle:
    print("\n".join(tomllib.load(handle)["project"]["optional-dependencies"]["helper-build"]))
PYEOF
)
"$VENV/bin/pip" install -q "${BUILD_REQS[@]}"

VERSION=$(PYTHONPATH=$ROOT "$PY" -c "from bridge import __version__; print(__version__)")
API=$(PYTHONPATH=$ROOT "$PY" -c "from bridge.protocol import API_LEVEL; print(API_LEVEL)")
# Origins are checked by the helper's own parser, so a typo fails the build, not the resident.
ORIGINS_TOML=$(PYTHONPATH=$ROOT ORIGINS="$ORIGINS" "$PY" - <<'PYEOF'
import json, os
from bridge.config import normalize_origin
print(json.dumps([normalize_origin(o) for o in os.environ["ORIGINS"].split(",") if o.strip()]))
PYEOF
)
OS=$(uname -s | tr 'A-Z' 'a-z')
MACHINE=$(uname -m)
echo "build-helper: myna-bridge $VERSION (API level $API) for $OS-$MACHINE"

mkdir -p "$WORK" "$OUT"
export PYINSTALLER_CONFIG_DIR="$ROOT/$WORK/pyinstaller-config"
export MYNA_HELPER_ROOT="$ROOT"

PYTHONPATH=$ROOT "$VENV/bin/pyinstaller" --noconfirm --log-level WARN \
  --distpath "$WORK/dist" --workpath "$WORK/work" packaging/helper/myna-bridge.spec
FROZEN="$WORK/dist/myna-bridge"

# The build must answer with its own version, without the venv (a fresh environment).
got=$(env -i HOME="$HOME" PATH=/usr/bin:/bin "$FROZEN/myna-bridge" --version)
[ "$got" = "myna-bridge $VERSION" ] || { echo "build-helper: built binary says '$got'" >&2; exit 1; }

EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
checksum() { (cd "$(dirname "$1")" && sha256sum "$(basename "$1")" > "$(basename "$1").sha256"); }

# One-folder archive: unpack anywhere and run myna-bridge-VERSION/myna-bridge.
TARBALL="$OUT/myna-bridge-$VERSION-$OS-$MACHINE.tar.gz"
rm -rf "$WORK/tar" && mkdir -p "$WORK/tar"
cp -a "$FROZEN" "$WORK/tar/myna-bridge-$VERSION"
tar -C "$WORK/tar" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$EPOCH" \
  -czf "$TARBALL" "myna-bridge-$VERSION"
checksum "$TARBALL"
ARTIFACTS=("$TARBALL")

if [ "$OS" = linux ] && command -v dpkg-deb >/dev/null; then
  ARCH=$(dpkg --print-architecture)
  DEB="$OUT/myna-bridge_${VERSION}_${ARCH}.deb"
  STAGE="$WORK/deb-root"
  rm -rf "$STAGE"
  install -d "$STAGE/DEBIAN" "$STAGE/usr/lib" "$STAGE/usr/bin" "$STAGE/etc/myna-bridge" \
    "$STAGE/usr/lib/systemd/user/default.target.wants" "$STAGE/usr/share/applications" \
    "$STAGE/usr/share/doc/myna-bridge"
  cp -a "$FROZEN" "$STAGE/usr/lib/myna-bridge"
  ln -s ../lib/myna-bridge/myna-bridge "$STAGE/usr/bin/myna-bridge"
  install -m 644 packaging/helper/deb/myna-bridge.service "$STAGE/usr/lib/systemd/user/"
  # Enabled for every user by the package itself, so removing the package removes the link too.
  ln -s ../myna-bridge.service "$STAGE/usr/lib/systemd/user/default.target.wants/myna-bridge.service"
  install -m 644 packaging/helper/deb/myna-bridge.desktop "$STAGE/usr/share/applications/"
  install -m 644 packaging/helper/deb/README "$STAGE/usr/share/doc/myna-bridge/README"
  install -m 644 LICENSE "$STAGE/usr/share/doc/myna-bridge/copyright"
  cat > "$STAGE/etc/myna-bridge/config.toml" <<TOML
# myna-bridge settings (docs/bridge-deployment.md). Only these pages may use the card reader.
[bridge]
port = 9581
allow_origins = $ORIGINS_TOML
TOML
  chmod 644 "$STAGE/etc/myna-bridge/config.toml"
  echo /etc/myna-bridge/config.toml > "$STAGE/DEBIAN/conffiles"
  install -m 755 packaging/helper/deb/postinst packaging/helper/deb/prerm "$STAGE/DEBIAN/"
  SIZE=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
  sed -e "s|@VERSION@|$VERSION|; s|@ARCH@|$ARCH|; s|@INSTALLED_SIZE@|$SIZE|; s|@API@|$API|" \
      -e "s|@HOMEPAGE@|$HOMEPAGE|; s|@ORIGINS@|$(echo "$ORIGINS_TOML" | tr -d '[]"')|" \
      packaging/helper/deb/control.in > "$STAGE/DEBIAN/control"
  find "$STAGE" -exec touch -h -d "@$EPOCH" {} +
  SOURCE_DATE_EPOCH=$EPOCH dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$DEB" >/dev/null
  checksum "$DEB"
  ARTIFACTS+=("$DEB")
fi

# helper.json: what the site offers for download (reset/helper_downloads.py reads it).
PYTHONPATH=$ROOT "$PY" - "$OUT" "$VERSION" "$API" "$OS" "${ARTIFACTS[@]}" <<'PYEOF'
import hashlib, json, sys
from pathlib import Path
out, version, api, system, *files = sys.argv[1:]
entries = []
for name in files:
    path = Path(name)
    kind = "deb" if path.suffix == ".deb" else "archive"
    entries.append({"file": path.name, "os": system, "kind": kind, "size": path.stat().st_size,
                    "sha256": hashlib.sha256(path.read_bytes()).hexdigest()})
manifest = Path(out) / "helper.json"
old = json.loads(manifest.read_text()) if manifest.exists() else {}
# Keep artifacts of other systems built elsewhere and copied here (same version only).
kept = [a for a in old.get("artifacts", []) if old.get("version") == version
        and a["os"] != system and (Path(out) / a["file"]).exists()]
manifest.write_text(json.dumps({"version": version, "api": int(api),
                                "artifacts": kept + entries}, indent=2) + "\n")
PYEOF
for artifact in "${ARTIFACTS[@]}"; do
  echo "build-helper: $artifact ($(du -h "$artifact" | cut -f1)), sha256 in $artifact.sha256"
done
