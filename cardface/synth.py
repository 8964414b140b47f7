"""Synthetic photos of a My Number Card front, for tests and the bench.

The layout follows the card's front as the official app describes it: 氏名 and 住所 at the top
left, the birth line (昭和60年 7月23日生 性別 男), the expiry (2034年 7月23日まで有効) in a
box, the photo on the right with the 4-digit security code under it, and 個人番号カード. The card
is drawn flat with Noto CJK (or IPA) fonts, then placed on a darker background with rotation,
perspective, glare, blur, noise and JPEG compression.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import date

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from cardface import motion
from cardface.fonts import Style, font_for
from mynacard.pins import to_wareki

logger = logging.getLogger(__name__)

# Found on first use (cardface/fonts.py): Noto CJK or IPA, else a clear FontsMissing.
SANS, SANS_BOLD, SERIF = Style.SANS, Style.SANS_BOLD, Style.SERIF
BASE_WIDTH = 1000
BASE_HEIGHT = round(BASE_WIDTH * 54.0 / 85.6)


def wareki(day: date) -> str:
    """`昭和60年 7月23日` as printed on a card: era, year (元 for the first), padded month/day."""
    era, year = to_wareki(day)
    year_text = "元" if year == 1 else str(year)
    return f"{era.name}{year_text}年{day.month:>2}月{day.day:>2}日"


def seireki(day: date) -> str:
    return f"{day.year}年{day.month:>2}月{day.day:>2}日"


@dataclass(frozen=True)
class CardFront:
    """The printed items of one synthetic card front."""

    birth_date: date = date(1985, 7, 23)
    expiry_date: date = date(2034, 7, 23)
    security_code: str = "4821"
    name: str = "番号　花子"
    address: tuple[str, ...] = ("東京都千代田区霞が関", "二丁目1番2号")
    sex: str = "男"
    birth_in_era: bool = True  # older cards print 和暦; newer ones 西暦
    expiry_in_reiwa: bool = False
    serif: bool = False

    @property
    def birth_line(self) -> str:
        printed = wareki(self.birth_date) if self.birth_in_era else seireki(self.birth_date)
        return f"{printed}生"

    @property
    def expiry_line(self) -> str:
        printed = wareki(self.expiry_date) if self.expiry_in_reiwa else seireki(self.expiry_date)
        return f"{printed}まで有効"


NAMES = ("番号　花子", "山田　太郎", "佐藤　美咲", "鈴木　一郎", "高橋　結衣", "MILLER JOHN")
ADDRESSES = (
    ("東京都千代田区霞が関", "二丁目1番2号"),
    ("大阪府大阪市北区中之島", "一丁目3番20号"),
    ("北海道札幌市中央区北一条西", "二丁目1番地"),
    ("福岡県福岡市博多区東公園", "7番7号"),
)


def random_front(rng: random.Random, *, today: date = date(2026, 11, 27)) -> CardFront:
    """A plausible card still valid on `today` (the only kind the service can use: the wizard
    turns an expired one away): a birthday-aligned expiry (1 in 8 not, as for foreign
    residents)."""
    birth = date(rng.randint(1930, 2015), rng.randint(1, 12), rng.randint(1, 28))
    if rng.random() < 0.125:
        year = rng.randint(today.year, today.year + 9)
        expiry = date(year, rng.randint(1, 12), rng.randint(1, 28))
    else:
        expiry = birth.replace(year=rng.randint(today.year, today.year + 9))
    if expiry < today:
        # A date of this year already past (about 1 card in 11 drawn so) is moved to ten years
        # on, the renewed card's, without another draw: every other value and scene of a run
        # stays as it was.
        expiry = expiry.replace(year=expiry.year + 10)
    return CardFront(
        birth_date=birth,
        expiry_date=expiry,
        security_code=f"{rng.randint(0, 9999):04d}",
        name=rng.choice(NAMES),
        address=rng.choice(ADDRESSES),
        sex=rng.choice("男女"),
        birth_in_era=rng.random() < 0.7,
        expiry_in_reiwa=rng.random() < 0.2,
        serif=rng.random() < 0.3,
    )


@dataclass(frozen=True)
class Scene:
    """How the card is photographed."""

    card_width: int = 800  # the card's long side in the photo, pixels
    rotation: float = 0.0  # degrees, in the image plane
    tilt: float = 0.0  # 0..0.35: share by which the far edge is foreshortened
    tilt_axis: str = "top"  # which edge is far: top, bottom, left, right
    blur: float = 0.0  # Gaussian sigma, photo pixels
    jpeg_quality: int = 90
    glare: float = 0.0  # 0..1 strength of a specular highlight over the text
    canvas: tuple[int, int] = (1280, 960)
    noise: float = 2.0
    upside_down: bool = False
    seed: int = 0
    # A hand moving during the exposure: the length of the smear in photo pixels and its
    # direction in degrees (0 = horizontal, 45 = diagonal down-right).
    motion: float = 0.0
    motion_angle: float = 0.0


def _font(style: Style, size: int) -> ImageFont.FreeTypeFont:
    face = font_for(style)
    return ImageFont.truetype(str(face.path), size, index=face.index)


def render_card(front: CardFront) -> Image.Image:
    """The flat card, BASE_WIDTH x BASE_HEIGHT, RGBA with rounded corners transparent."""
    w, h = BASE_WIDTH, BASE_HEIGHT
    # A pale pink-to-blue wash like the real card's background print.
    x = np.linspace(0.0, 1.0, w)[None, :, None]
    left = np.array([246, 238, 240], dtype=np.float64)
    right = np.array([232, 240, 248], dtype=np.float64)
    wash = (left * (1 - x) + right * x) * np.ones((h, 1, 1))
    card = Image.fromarray(wash.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(card)
    for r in range(40, 900, 36):  # faint guilloche-like arcs
        draw.arc((-r + 200, -r + 500, r + 200, r + 500), 200, 340, fill=(236, 226, 232), width=2)

    body = SERIF if front.serif else SANS
    ink = (30, 30, 34)
    label = _font(SANS, 22)
    draw.text((40, 44), "氏名", font=label, fill=ink)
    draw.text((120, 32), front.name, font=_font(body, 44), fill=ink)
    draw.text((40, 140), "住所", font=label, fill=ink)
    for i, line in enumerate(front.address):
        draw.text((120, 132 + i * 46), line, font=_font(body, 32), fill=ink)
    draw.text((40, 306), f"{front.birth_line}  性別 {front.sex}", font=_font(body, 34), fill=ink)
    expiry_font = _font(body, 32)
    box = draw.textbbox((52, 396), front.expiry_line, font=expiry_font)
    draw.rectangle((box[0] - 12, box[1] - 10, box[2] + 12, box[3] + 10), outline=ink, width=2)
    draw.text((52, 396), front.expiry_line, font=expiry_font, fill=ink)
    draw.text((40, 520), "個人番号カード", font=_font(SANS_BOLD, 40), fill=(40, 40, 90))
    draw.text((560, 548), "電子証明書の有効期限の記載欄", font=_font(SANS, 16), fill=ink)

    # The photo, and the security code centred under it.
    px0, py0, px1, py1 = 700, 60, 950, 400
    draw.rectangle((px0, py0, px1, py1), fill=(200, 204, 210))
    draw.ellipse((760, 110, 890, 270), fill=(150, 130, 120))
    draw.ellipse((720, 260, 930, 460), fill=(70, 80, 100))
    draw.rectangle((px0, py1, px1, py1 + 60), fill=tuple(int(v) for v in right))
    code_font = _font(SANS, 30)
    cw = draw.textlength(front.security_code, font=code_font)
    draw.text(((px0 + px1 - cw) / 2, py1 + 14), front.security_code, font=code_font, fill=ink)

    mask = Image.new("L", (w, h), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, w - 1, h - 1), radius=36, fill=255)
    rgba = card.convert("RGBA")
    rgba.putalpha(mask)
    return rgba


def _destination(scene: Scene, rng: random.Random) -> np.ndarray:
    cw = float(scene.card_width)
    ch = cw * 54.0 / 85.6
    shrink = scene.tilt * cw / 2
    corners = np.array([[-cw / 2, -ch / 2], [cw / 2, -ch / 2], [cw / 2, ch / 2], [-cw / 2, ch / 2]])
    if scene.tilt_axis == "top":
        corners[0, 0] += shrink
        corners[1, 0] -= shrink
    elif scene.tilt_axis == "bottom":
        corners[3, 0] += shrink
        corners[2, 0] -= shrink
    elif scene.tilt_axis == "left":
        corners[0, 1] += shrink * ch / cw
        corners[3, 1] -= shrink * ch / cw
    else:
        corners[1, 1] += shrink * ch / cw
        corners[2, 1] -= shrink * ch / cw
    angle = np.deg2rad(scene.rotation + (180.0 if scene.upside_down else 0.0))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    corners = corners @ rot.T
    cx, cy = scene.canvas[0] / 2, scene.canvas[1] / 2
    # Off-centre by a little, but never off the frame.
    span_x = max(0.0, scene.canvas[0] / 2 - np.abs(corners[:, 0]).max() - 10)
    span_y = max(0.0, scene.canvas[1] / 2 - np.abs(corners[:, 1]).max() - 10)
    cx += rng.uniform(-span_x, span_x) * 0.5
    cy += rng.uniform(-span_y, span_y) * 0.5
    return (corners + [cx, cy]).astype(np.float32)


def photo_corners(scene: Scene) -> np.ndarray:
    """Where render_photo puts the card's corners (TL, TR, BR, BL of the card as printed)."""
    return _destination(scene, random.Random(scene.seed))  # noqa: S311 (test images only)


def _background(scene: Scene, rng: np.random.Generator) -> np.ndarray:
    w, h = scene.canvas
    y = np.linspace(0.0, 1.0, h)[:, None, None]
    top = np.array([58, 62, 70], dtype=np.float64)
    bottom = np.array([36, 40, 46], dtype=np.float64)
    bg = top * (1 - y) + bottom * y
    bg = bg * np.ones((1, w, 1)) + rng.normal(0, 6, (h, w, 1))  # a dull table top
    return bg


def render_photo(front: CardFront, scene: Scene) -> np.ndarray:
    """A BGR photo of the card, before JPEG compression."""
    rng = random.Random(scene.seed)  # noqa: S311 (test images only)
    nprng = np.random.default_rng(scene.seed)
    card = np.asarray(render_card(front))
    bgr = cv2.cvtColor(card[:, :, :3], cv2.COLOR_RGB2BGR).astype(np.float64)
    alpha = card[:, :, 3].astype(np.float64) / 255.0
    src = np.array(
        [[0, 0], [BASE_WIDTH - 1, 0], [BASE_WIDTH - 1, BASE_HEIGHT - 1], [0, BASE_HEIGHT - 1]],
        dtype=np.float32,
    )
    dst = _destination(scene, rng)
    matrix = cv2.getPerspectiveTransform(src, dst)
    size = scene.canvas
    interp = cv2.INTER_AREA if scene.card_width < BASE_WIDTH else cv2.INTER_LINEAR
    warped = cv2.warpPerspective(bgr, matrix, size, flags=interp)
    walpha = cv2.warpPerspective(alpha, matrix, size, flags=cv2.INTER_LINEAR)[:, :, None]
    photo = _background(scene, nprng) * (1 - walpha) + warped * walpha

    if scene.glare > 0:
        # A specular highlight over the left half of the card, where the dates are.
        gx, gy = cv2.perspectiveTransform(
            np.array([[[rng.uniform(200, 450), rng.uniform(280, 420)]]], dtype=np.float32),
            matrix,
        )[0, 0]
        yy, xx = np.mgrid[0 : size[1], 0 : size[0]]
        sigma = scene.card_width * 0.16
        blob = np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * sigma**2))
        photo = photo + (scene.glare * 400.0 * blob)[:, :, None] * walpha
    if scene.blur > 0:
        photo = cv2.GaussianBlur(photo, (0, 0), scene.blur)
    if scene.motion > 0:
        smear = motion.kernel(scene.motion, scene.motion_angle).astype(np.float64)
        photo = cv2.filter2D(photo, -1, smear)
    if scene.noise > 0:
        photo = photo + nprng.normal(0, scene.noise, photo.shape)
    return np.clip(photo, 0, 255).astype(np.uint8)


def encode_jpeg(image: np.ndarray, quality: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


def render_jpeg(front: CardFront, scene: Scene) -> bytes:
    """The photo as the page would upload it."""
    return encode_jpeg(render_photo(front, scene), scene.jpeg_quality)


def render_other_document(*, seed: int = 0) -> bytes:
    """A receipt on a table: Japanese text and a date, but not a card (for not_a_card)."""
    rng = np.random.default_rng(seed)
    w, h = 1280, 960
    paper = Image.new("RGB", (700, 880), (250, 250, 246))
    draw = ImageDraw.Draw(paper)
    font = _font(SANS, 34)
    lines = ["領収書", "2024年 3月 1日", "お買上げ明細", "おにぎり  150円", "お茶  128円",
             "合計", "1280", "ありがとうございました"]
    for i, line in enumerate(lines):
        draw.text((60 if line != "1280" else 460, 50 + i * 100), line, font=font, fill=(20, 20, 20))
    photo = np.full((h, w, 3), 50, dtype=np.float64) + rng.normal(0, 6, (h, w, 1))
    photo[40:920, 290:990] = np.asarray(paper)[:, :, ::-1]
    return encode_jpeg(np.clip(photo, 0, 255).astype(np.uint8), 90)
