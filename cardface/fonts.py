"""Find the Japanese fonts the synthetic card fronts are drawn with.

scripts/setup.sh installs Debian's fonts-noto-cjk; fonts-ipafont (or fonts-ipaexfont) works as
well. The known Debian paths are tried first (no subprocess, same answer on every machine), then
fontconfig's `fc-list :lang=ja` for other layouts. Without any Japanese font the card would be
drawn in tofu boxes and every OCR test would fail for a confusing reason, so FontsMissing says
plainly what to install instead.
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum, unique
from pathlib import Path

logger = logging.getLogger(__name__)


@unique
class Style(StrEnum):
    SANS = "sans"
    SANS_BOLD = "sans_bold"
    SERIF = "serif"


@dataclass(frozen=True)
class FontFace:
    """A font file and the face inside it (a .ttc holds several; Noto CJK's index 0 is JP)."""

    path: Path
    index: int = 0


class FontsMissing(RuntimeError):
    """No Japanese font is installed."""


# Debian/Ubuntu paths, best first for each style.
_NOTO = Path("/usr/share/fonts/opentype/noto")
KNOWN_PATHS: dict[Style, tuple[FontFace, ...]] = {
    Style.SANS: (
        FontFace(_NOTO / "NotoSansCJK-Regular.ttc"),
        FontFace(Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf")),
        FontFace(Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf")),
        FontFace(Path("/usr/share/fonts/truetype/fonts-japanese-gothic.ttf")),
    ),
    Style.SANS_BOLD: (FontFace(_NOTO / "NotoSansCJK-Bold.ttc"),),
    Style.SERIF: (
        FontFace(_NOTO / "NotoSerifCJK-Regular.ttc"),
        FontFace(Path("/usr/share/fonts/opentype/ipafont-mincho/ipam.ttf")),
        FontFace(Path("/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf")),
        FontFace(Path("/usr/share/fonts/truetype/fonts-japanese-mincho.ttf")),
    ),
}
# A style without its own font falls back to these, in order (IPA fonts have no bold).
FALLBACK: dict[Style, tuple[Style, ...]] = {
    Style.SANS: (Style.SERIF,),
    Style.SANS_BOLD: (Style.SANS, Style.SERIF),
    Style.SERIF: (Style.SANS,),
}
INSTALL_HINT = (
    "no Japanese font found for the synthetic card fronts: install Debian's fonts-noto-cjk "
    "(scripts/setup.sh does) or fonts-ipafont"
)


@dataclass(frozen=True)
class _Listed:
    face: FontFace
    family: str
    style: str


def _fc_list() -> list[_Listed]:
    """Fonts fontconfig says cover Japanese; empty when fontconfig is not installed."""
    exe = shutil.which("fc-list")
    if exe is None:
        return []
    try:
        out = subprocess.run(  # noqa: S603 (fixed arguments, no shell)
            [exe, "--format", "%{file}|%{index}|%{family[0]}|%{style[0]}\n", ":lang=ja"],
            capture_output=True, text=True, timeout=20, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    listed: list[_Listed] = []
    for row in out.splitlines():
        parts = row.split("|")
        if len(parts) != 4 or not parts[1].isdigit():
            continue
        listed.append(_Listed(FontFace(Path(parts[0]), int(parts[1])), parts[2], parts[3]))
    return listed


def _fits(item: _Listed, style: Style) -> bool:
    family = item.family.lower()
    if "mono" in family or not item.face.path.is_file():
        return False
    serif = "serif" in family or "mincho" in family or "明朝" in item.family
    bold = "bold" in item.style.lower()
    if style is Style.SERIF:
        return serif and not bold
    return not serif and bold == (style is Style.SANS_BOLD)


def _rank(item: _Listed) -> tuple[int, str]:
    # In a CJK collection the JP face draws 直 and 令 the Japanese way.
    return (0 if item.family.endswith(" JP") else 1, str(item.face.path))


def find_font(
    style: Style,
    *,
    known: dict[Style, tuple[FontFace, ...]] = KNOWN_PATHS,
    lister: Callable[[], list[_Listed]] = _fc_list,
) -> FontFace:
    """The best installed font for `style`, or a close substitute; FontsMissing if none.

    For each style in turn (the one asked for, then FALLBACK's): its known Debian paths, then
    what fontconfig lists for it. fc-list runs at most once, and only when a path is missing.
    """
    listed: list[_Listed] | None = None
    for candidate in (style, *FALLBACK[style]):
        for face in known[candidate]:
            if face.path.is_file():
                return face
        if listed is None:
            listed = lister()
        fitting = sorted((item for item in listed if _fits(item, candidate)), key=_rank)
        if fitting:
            return fitting[0].face
    raise FontsMissing(INSTALL_HINT)


@functools.cache
def font_for(style: Style) -> FontFace:
    """find_font, looked up once per process."""
    face = find_font(style)
    logger.debug("card front font for %s: %s", style.value, face.path.name)
    return face
