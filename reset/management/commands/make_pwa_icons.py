"""Draw the PWA icons (a card with a chip and a key) with Pillow: 192, 512 and maskable 512."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

logger = logging.getLogger(__name__)

ACCENT = (11, 92, 173)


def draw_icon(size: int, *, maskable: bool) -> Any:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (size, size), ACCENT)
    draw = ImageDraw.Draw(image)
    # Maskable icons keep their content inside the central 80 % safe zone (W3C manifest spec).
    pad = int(size * (0.2 if maskable else 0.1))
    card_w = size - 2 * pad
    card_h = int(card_w * 0.63)
    top = (size - card_h) // 2
    draw.rounded_rectangle([pad, top, pad + card_w, top + card_h], radius=size // 20, fill="white")
    chip = card_w // 5
    cx0, cy0 = pad + card_w // 8, top + card_h // 3
    draw.rounded_rectangle(
        [cx0, cy0, cx0 + chip, cy0 + int(chip * 0.8)], radius=size // 80, fill=(230, 170, 40)
    )
    line = max(2, size // 48)
    radius = card_w // 9
    kx, ky = pad + int(card_w * 0.68), top + card_h // 2
    draw.ellipse([kx - radius, ky - radius, kx + radius, ky + radius], outline=ACCENT, width=line)
    draw.line([kx + radius, ky, kx + int(radius * 2.6), ky], fill=ACCENT, width=line)
    draw.line([kx + int(radius * 2.2), ky, kx + int(radius * 2.2), ky + radius], fill=ACCENT,
              width=line)
    return image


class Command(BaseCommand):
    help = "Write static/icons/icon-192.png, icon-512.png and icon-maskable-512.png."

    def handle(self, *args: Any, **options: Any) -> None:
        folder = Path(settings.BASE_DIR) / "static" / "icons"
        folder.mkdir(parents=True, exist_ok=True)
        for name, size, maskable in (
            ("icon-192.png", 192, False),
            ("icon-512.png", 512, False),
            ("icon-maskable-512.png", 512, True),
        ):
            draw_icon(size, maskable=maskable).save(folder / name, optimize=True)
            self.stdout.write(f"wrote {folder / name}")
