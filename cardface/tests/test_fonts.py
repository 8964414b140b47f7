"""The synthetic card fronts find their Japanese fonts, or say plainly what to install."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from cardface import fonts
from cardface.fonts import FontFace, FontsMissing, Style, find_font

NOTHING_KNOWN: dict[Style, tuple[FontFace, ...]] = {style: () for style in Style}


def _draws_japanese(face: FontFace) -> bool:
    """A font without the glyph draws 昭 and 令 as the same tofu box."""
    font = ImageFont.truetype(str(face.path), 40, index=face.index)

    def drawn(text: str) -> bytes:
        image = Image.new("L", (60, 60), 0)
        ImageDraw.Draw(image).text((5, 5), text, font=font, fill=255)
        return image.tobytes()

    return drawn("昭") != drawn("令") and any(drawn("昭"))


@pytest.mark.parametrize("style", list(Style))
def test_the_installed_fonts_are_found_and_draw_japanese(style: Style) -> None:
    face = find_font(style)
    assert face.path.is_file()
    assert _draws_japanese(face)


def test_fontconfig_is_asked_when_the_debian_paths_are_missing(tmp_path: Path) -> None:
    gothic = tmp_path / "gothic.ttc"
    mincho = tmp_path / "mincho.ttf"
    gothic.write_bytes(b"x")
    mincho.write_bytes(b"x")
    listed = [
        fonts._Listed(FontFace(gothic, 3), "Some Sans CJK KR", "Regular"),
        fonts._Listed(FontFace(gothic, 0), "Some Sans CJK JP", "Regular"),
        fonts._Listed(FontFace(gothic, 5), "Some Sans Mono CJK JP", "Regular"),
        fonts._Listed(FontFace(mincho), "IPAMincho", "Regular"),
        fonts._Listed(FontFace(tmp_path / "gone.ttf"), "Gone Gothic", "Bold"),
    ]
    calls: list[int] = []

    def lister() -> list[fonts._Listed]:
        calls.append(1)
        return listed

    assert find_font(Style.SANS, known=NOTHING_KNOWN, lister=lister) == FontFace(gothic, 0)
    assert find_font(Style.SERIF, known=NOTHING_KNOWN, lister=lister) == FontFace(mincho)
    # No bold installed (the listed one is gone): the regular sans stands in for it.
    assert find_font(Style.SANS_BOLD, known=NOTHING_KNOWN, lister=lister) == FontFace(gothic, 0)
    assert len(calls) == 3  # once per lookup, not once per style tried


def test_a_known_debian_path_wins_without_asking_fontconfig(tmp_path: Path) -> None:
    ipag = tmp_path / "ipag.ttf"
    ipag.write_bytes(b"x")
    known = {**NOTHING_KNOWN, Style.SANS: (FontFace(tmp_path / "absent.ttc"), FontFace(ipag))}

    def lister() -> list[fonts._Listed]:
        raise AssertionError("fc-list must not run")

    assert find_font(Style.SANS, known=known, lister=lister) == FontFace(ipag)


def test_no_japanese_font_is_a_clear_error() -> None:
    with pytest.raises(FontsMissing, match="install Debian's fonts-noto-cjk"):
        find_font(Style.SANS, known=NOTHING_KNOWN, lister=list)


def test_fc_list_output_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    if fonts.shutil.which("fc-list") is None:
        # Only the fallback route needs it; the Debian paths above are the main one.
        pytest.skip("fontconfig (fc-list) is not installed")
    listed = fonts._fc_list()
    assert listed, "fc-list :lang=ja listed nothing although fonts-noto-cjk is installed"
    assert all(item.face.path.is_absolute() and item.face.index >= 0 for item in listed)
    monkeypatch.setattr(fonts.shutil, "which", lambda name: None)
    assert fonts._fc_list() == []
