"""The card helper downloads the site offers: what scripts/build-helper.sh left in a directory.

The build writes ``helper.json`` (version, API level, and per artifact its file, OS, kind, size
and SHA-256) beside the artifacts and their ``.sha256`` files; the site serves exactly the files
that manifest lists (never any other path in the directory). With no manifest the offer is empty
and the pages say the download is not available yet (docs/bridge-deployment.md).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

MANIFEST = "helper.json"
#: The resident's choice on the page, in this order; ``darwin`` is what a macOS build reports.
SYSTEMS = ("windows", "macos", "linux")
_SYSTEM_ALIASES = {"darwin": "macos", "win32": "windows"}
_KIND_LABELS = {
    "deb": _("Debian・Ubuntu 用インストーラー(.deb)"),
    "archive": _("圧縮ファイル(インストール不要)"),
    "msi": _("Windows 用インストーラー(.msi)"),
    "exe": _("Windows 用インストーラー(.exe)"),
    "pkg": _("Mac 用インストーラー(.pkg)"),
    "dmg": _("Mac 用ディスクイメージ(.dmg)"),
}
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,200}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class HelperDownload:
    """One artifact a resident can download."""

    file: str
    system: str
    kind: str
    size: int
    sha256: str

    @property
    def label(self) -> str:
        return str(_KIND_LABELS.get(self.kind, self.kind))

    @property
    def size_mb(self) -> str:
        return f"{self.size / 1_000_000:.0f}"


@dataclass(frozen=True)
class HelperOffer:
    """The manifest's version and API level, and the downloads per system."""

    version: str | None = None
    api: int | None = None
    downloads: tuple[HelperDownload, ...] = ()

    def for_system(self, system: str) -> list[HelperDownload]:
        # The installer first: it also sets up the autostart.
        order = ["deb", "msi", "exe", "pkg", "dmg", "archive"]
        found = [d for d in self.downloads if d.system == system]
        return sorted(found, key=lambda d: order.index(d.kind) if d.kind in order else 99)

    def by_system(self) -> dict[str, list[HelperDownload]]:
        return {system: self.for_system(system) for system in SYSTEMS}

    def served_names(self) -> frozenset[str]:
        names = {d.file for d in self.downloads}
        return frozenset(names | {f"{name}.sha256" for name in names})


def _entry(raw: object, directory: Path) -> HelperDownload | None:
    if not isinstance(raw, dict):
        return None
    name, system, kind = raw.get("file"), raw.get("os"), raw.get("kind")
    size, digest = raw.get("size"), raw.get("sha256")
    if not (isinstance(name, str) and _SAFE_NAME.fullmatch(name) and ".." not in name):
        return None
    if not (isinstance(system, str) and isinstance(kind, str) and isinstance(size, int)):
        return None
    if not (isinstance(digest, str) and _SHA256.fullmatch(digest)):
        return None
    if not (directory / name).is_file():
        logger.warning("helper manifest lists a missing file; not offered")
        return None
    return HelperDownload(name, _SYSTEM_ALIASES.get(system, system), kind, size, digest)


def load_offer(directory: Path) -> HelperOffer:
    """Read ``helper.json`` in ``directory``; an empty offer when there is none or it is broken."""
    path = directory / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return HelperOffer()
    except (OSError, ValueError):
        logger.warning("helper manifest unreadable; no helper download offered")
        return HelperOffer()
    if not isinstance(data, dict):
        return HelperOffer()
    entries = data.get("artifacts") if isinstance(data.get("artifacts"), list) else []
    downloads = tuple(d for d in (_entry(raw, directory) for raw in entries or []) if d)
    version = data.get("version") if isinstance(data.get("version"), str) else None
    api = data.get("api") if isinstance(data.get("api"), int) else None
    return HelperOffer(version=version, api=api, downloads=downloads)


def resolve(directory: Path, name: str) -> Path | None:
    """The file to serve for ``name``, only if the manifest lists it (or its checksum)."""
    if name not in load_offer(directory).served_names():
        return None
    path = directory / name
    return path if path.is_file() else None
