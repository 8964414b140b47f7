"""The whole reading: decode, find the card, check the picture, OCR, parse, decide.

The image lives only in local variables of this module: it is never written anywhere, and the
log says what was done and why it failed, never what the card says.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import TypeVar
from zoneinfo import ZoneInfo

import cv2
import numpy as np

from cardface import locate, motion, quality
from cardface.ocr import get_engine, read_lines
from cardface.parse import SECURITY_CODE_REGION, ParsedFace, parse_lines
from cardface.result import CardFaceReading, CardFaceReason, FieldReading

logger = logging.getLogger(__name__)

T = TypeVar("T")

JST = ZoneInfo("Asia/Tokyo")
MAX_IMAGE_BYTES = 4 * 1024 * 1024
# Refuse to decode absurd pixel counts (a small JPEG can claim a huge canvas).
MAX_PIXELS = 40_000_000
MIN_IMAGE_SIDE = 240
# The card's long side in the photo below which nobody could read it: at 150 px the security
# code is under 5 px tall and the dates' digits 4 px wide. Above it a small card is straightened
# at its own scale and upscaled (locate.warp_card), then sharpened, instead of being refused
# (issue 15: a 640x480 webcam at arm's length shows the card 200-260 px wide).
MIN_CARD_WIDTH_PX = 150
# Below this width the upscaled card is soft enough that an unsharp mask helps the recogniser.
SMALL_CARD_WIDTH_PX = 480
# The security code is the smallest print on the card (about 2.2 % of the card's width tall):
# at 230 px the recogniser read a 4 as a 1 with 0.98 confidence - a person looking at the same
# pixels sees "1821" too. Below this width the code is never taken from one still (the answer
# says to come closer; a burst of such frames is averaged, cardface/burst.py) and the dates only
# as the corroborated pair. It was 280: on 1000 fresh stills 270-440 px wide (card, canvas,
# rotation and JPEG drawn), 9 of 389 codes read from cards 280-322 px wide were wrong (6633
# read 6533 at 0.993, 6483 read 6183 at 0.986: a 6 as 5, a 4 as 1, the print itself showing
# it, every processing of the code's region reading alike), 8 of them under 310 px; and in
# bursts of 12 frames of cards 280-330 px wide read frame by frame, 3 of 65 gave a wrong value
# (an expiry at 0.999), where the same bursts averaged gave none.
CODE_MIN_CARD_WIDTH_PX = 320
# From CODE_MIN_CARD_WIDTH_PX to this width a still's code must be this sure: a card 322 px wide
# read 5615 as 5515 at 0.959; from 320 to 360 px, 4 of 250 right codes were under 0.99.
CODE_SURE_CARD_WIDTH_PX = 360
SMALL_CODE_CONFIDENCE = 0.99
# A reading must carry at least this many of the card's printed words to count as a card.
MIN_CARD_WORDS = 2
# A reading that gave every value, each this sure (the bar a lone frame meets in a burst,
# burst.SOLO_CONFIDENCE), is believed without more work: without the usual reading when it
# was made with the lines found at the card's own scale (quick_reading), and
# without measuring and undoing a smear when it was made of the photo as it is. The measure
# finds a smear on many sharp cards (on the bench, 16 of 20 clean cards 1000 px wide, every
# card under a 1.5 px focus blur); deconvolving such a card garbles it, and reading the
# garbled copy, turned round and then the photo cost four passes (2.3 s for a clean
# capture). A heavy smear read as it is can be wrong and sure (an 11 px smear: both dates
# wrong at 0.99), but never gave all three there.
SURE_READING_CONFIDENCE = 0.95


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from the header alone, before any pixel is decoded."""
    from io import BytesIO

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(BytesIO(data)) as probe:
            return probe.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def decode_image(data: bytes) -> np.ndarray | None:
    """A BGR image from JPEG/PNG/WebP bytes, or None if it is not a sane image."""
    if not data or len(data) > MAX_IMAGE_BYTES:
        return None
    size = _image_size(data)
    if size is None or size[0] * size[1] > MAX_PIXELS:
        return None
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.ndim != 3:
        return None
    return image


def _better(a: ParsedFace, b: ParsedFace) -> ParsedFace:
    def key(p: ParsedFace) -> tuple[int, int]:
        return (p.found, p.card_words)

    return b if key(b) > key(a) else a


def _read_pass(card: np.ndarray, today: date) -> ParsedFace:
    lines = read_lines(card)
    parsed = parse_lines(lines, today=today)
    if parsed.security_code is None and (parsed.birth_date or parsed.expiry_date):
        # The card is upright and readable but the small code under the photo was not read
        # surely: read its region alone, where the detector scales the digits up.
        parsed = parse_lines(
            lines, code_lines=read_lines(card, region=SECURITY_CODE_REGION), today=today
        )
    return parsed


@dataclass
class Orientation:
    """Which way round a set of aligned cards reads (cardface/burst.py reads the average of
    all a burst's frames, then of each half, all laid onto one frame): learnt from the first
    reading that found every value or the card's own words, after which a card known upright
    is not read turned round too. Each turn is one more OCR pass (about 0.45 s), and on the
    bench every such pass of a burst's average read upright was wasted (see _ocr_card)."""

    turned: bool | None = None

    def learn(self, parsed: ParsedFace, *, turned: bool) -> None:
        if self.turned is None and (parsed.found == 3 or parsed.card_words >= MIN_CARD_WORDS):
            self.turned = turned


def _ocr_card(card: np.ndarray, today: date, *, upright: ParsedFace | None = None,
              orientation: Orientation | None = None) -> ParsedFace:
    """The card read upright (or `upright`, a pass already made) and, short of every value,
    turned round, unless `orientation` already knows it upright."""
    parsed = upright if upright is not None else _read_pass(card, today)
    known_upright = orientation is not None and orientation.turned is False
    if parsed.found == 3 or known_upright:
        if orientation is not None:
            orientation.learn(parsed, turned=False)
        return parsed
    # Upside down (or the other of the two 90-degree turns, which the straightening cannot tell
    # apart): read the card turned round and keep whichever pass found more.
    turned = _read_pass(cv2.rotate(card, cv2.ROTATE_180), today)
    best = _better(parsed, turned)
    if orientation is not None:
        orientation.learn(best, turned=best is turned)
    return best


def _sure(parsed: ParsedFace) -> bool:
    """Every value read, each SURE_READING_CONFIDENCE sure."""
    values = (parsed.birth_date, parsed.expiry_date, parsed.security_code)
    return all(v is not None and v.confidence >= SURE_READING_CONFIDENCE for v in values)


def sharpen(card: np.ndarray) -> np.ndarray:
    """An unsharp mask: upscaling a small card leaves every stroke edge a few pixels soft."""
    soft = cv2.GaussianBlur(card, (0, 0), 2.0)
    return cv2.addWeighted(card, 1.8, soft, -0.8, 0)


@dataclass
class Smear:
    """A hand's smear on the card, measured in the card's neighbourhood in the photo (photo
    pixels, before the perspective warp scales it) only when asked: a card whose photo reads
    surely as it is needs neither the measure nor the undoing (SURE_READING_CONFIDENCE)."""

    crop: np.ndarray
    local: locate.CardQuad

    @cached_property
    def found(self) -> motion.MotionBlur | None:
        blur = motion.estimate(self.crop)
        return blur if blur.present else None

    def restored_card(self, blur: motion.MotionBlur) -> np.ndarray:
        """The card straightened from the neighbourhood with the smear `blur` undone."""
        return locate.warp_card(motion.deconvolve(self.crop, blur), self.local)


def card_neighbourhood(image: np.ndarray, quad: locate.CardQuad,
                       ) -> tuple[np.ndarray, locate.CardQuad]:
    """The card's bounding box and a small margin, and the card's corners in it."""
    corners = np.asarray(quad.corners, dtype=np.float32)
    h, w = image.shape[:2]
    x, y, bw, bh = cv2.boundingRect(corners)
    margin = 16
    x0, y0 = max(0, x - margin), max(0, y - margin)
    x1, y1 = min(w, x + bw + margin), min(h, y + bh + margin)
    local = locate.CardQuad(tuple((cx - x0, cy - y0) for cx, cy in quad.corners))
    return image[y0:y1, x0:x1], local


def _straighten(image: np.ndarray, quad: locate.CardQuad) -> tuple[np.ndarray, Smear | None]:
    """The card as photographed, and (if the card is large enough to measure one) its smear."""
    crop, local = card_neighbourhood(image, quad)
    card = locate.warp_card(crop, local)
    if quad.width_px < SMALL_CARD_WIDTH_PX:
        card = sharpen(card)
    if quad.width_px < CODE_MIN_CARD_WIDTH_PX:
        # Too few rows of text for the smear's measure to be trusted, and too small a card to
        # give every value anyway (see CODE_MIN_CARD_WIDTH_PX).
        return card, None
    return card, Smear(crop, local)


def merge_passes(a: ParsedFace, b: ParsedFace) -> ParsedFace:
    """Two readings of one card: a value found by either, unless the two disagree on it.

    Disagreement means one of them misread, and we cannot tell which: that value is dropped.
    """

    def pick(x: FieldReading[T] | None, y: FieldReading[T] | None) -> FieldReading[T] | None:
        if x is None or y is None:
            return x or y
        if x.value != y.value:
            logger.info("card face: two passes disagree, value dropped")
            return None
        return x if x.confidence >= y.confidence else y

    return ParsedFace(
        pick(a.birth_date, b.birth_date),
        pick(a.expiry_date, b.expiry_date),
        pick(a.security_code, b.security_code),
        max(a.card_words, b.card_words),
    )


def dates_read_alike(birth: FieldReading[date] | None,
                     expiry: FieldReading[date] | None) -> bool:
    """Whether both dates were read, with the same month and day.

    Birth and expiry print month and day twice (a national's card expires on a birthday); both
    found with the same month and day are two independent readings of them that agree.
    """
    return (birth is not None and expiry is not None
            and (birth.value.month, birth.value.day) == (expiry.value.month, expiry.value.day))


def _small_card_values(parsed: ParsedFace, today: date) -> ParsedFace:
    """What a card too small for its security code may still give: both dates, read alike
    (dates_read_alike). A lone date, or a pair that does not match, is dropped at this size.

    The month and day printed twice say nothing of the years, so each date must also be
    SURE_READING_CONFIDENCE sure (the bar a lone frame meets in a burst): a 640x480 frame of a
    card 238 px wide read 2037/4/3 for 2032/4/3 at 0.91 beside a right birth date (at 0.956).
    Of 23 right pairs read from single sharp frames of 120 bench bursts, 3 were under the bar.
    And a pair whose expiry is already past is dropped (the birth with it: the expiry vouched
    for its month and day): a card past its expiry cannot be used here, so such an expiry is
    the likelier misread (a bench still 250 px wide read 2024/7/28 for 2034/7/28, sure at
    0.989, beside a right birth date; the averaged path drops a past expiry for the same reason,
    burst._what_the_whole_gives_alone)."""
    birth, expiry = parsed.birth_date, parsed.expiry_date
    sure = all(x is not None and x.confidence >= SURE_READING_CONFIDENCE for x in (birth, expiry))
    if (not sure or not dates_read_alike(birth, expiry)
            or (expiry is not None and expiry.value < today)):
        birth = expiry = None
    return ParsedFace(birth, expiry, None, parsed.card_words)


def read_card_image(image: np.ndarray, *, today: date | None = None) -> CardFaceReading:
    """Read a BGR photo of a card front."""
    # The card's dates are Japanese calendar days.
    today = today or datetime.now(JST).date()
    h, w = image.shape[:2]
    if min(h, w) < MIN_IMAGE_SIDE:
        return CardFaceReading.failed(CardFaceReason.TOO_SMALL)
    image = locate.downscale(image)
    quad = locate.find_card(image)
    smear: Smear | None = None
    if quad is not None:
        if quad.width_px < MIN_CARD_WIDTH_PX:
            return CardFaceReading.failed(CardFaceReason.TOO_SMALL)
        card, smear = _straighten(image, quad)
    else:
        fallback = locate.whole_image_as_card(image)
        if fallback is None:
            return CardFaceReading.failed(CardFaceReason.NOT_A_CARD)
        if max(h, w) < MIN_CARD_WIDTH_PX:
            return CardFaceReading.failed(CardFaceReason.TOO_SMALL)
        card = fallback

    # The card's width in the photo: its outline's, or the photo's own when it fills the frame.
    card_width = quad.width_px if quad is not None else float(max(image.shape[:2]))
    if card_width < CODE_MIN_CARD_WIDTH_PX:
        return _small_card_reading(card, today)
    reading = read_straight_card(card, today, smear=smear, card_shaped=quad is not None,
                                 quick=True)
    if card_width < CODE_SURE_CARD_WIDTH_PX:
        return _without_unsure_code(reading)
    return reading


def without_past_expiry(reading: CardFaceReading, today: date) -> CardFaceReading:
    """An answer never gives an expiry already past: a card past its expiry cannot be used here
    (the form says so of a typed one), and a 令和 year that lost its tens digit looks just like
    one - stills 300 px wide read 令和7年 for 令和17年 and 令和1年 for 令和11年, sure at 0.9995 and
    0.997, where a past expiry needed 0.95 (parse.MIN_CONFIDENCE_PAST_EXPIRY). Inside a reading
    such an expiry is kept: it still vetoes another reading of the card (burst.combine)."""
    expiry = reading.expiry_date
    if expiry is None or expiry.value >= today:
        return reading
    logger.info("card face: expiry already past, not given")
    return reading.without("expiry_date", CardFaceReason.UNREADABLE)


def _without_unsure_code(reading: CardFaceReading) -> CardFaceReading:
    """A still of a card under CODE_SURE_CARD_WIDTH_PX without a code read under
    SMALL_CODE_CONFIDENCE: the answer then says the card is small, and to come closer (unless
    it already says why it fell short, such as a blur, which helps the resident more)."""
    code = reading.security_code
    if code is None or code.confidence >= SMALL_CODE_CONFIDENCE:
        return reading
    logger.info("card face: code on a small card not sure enough, dropped")
    return reading.without("security_code", CardFaceReason.TOO_SMALL)


def _small_card_reading(card: np.ndarray, today: date) -> CardFaceReading:
    """One still of a card too small for its code: the corroborated dates at most, and the
    advice to come closer (a burst of such frames is averaged instead: cardface/fuse.py)."""
    measured = quality.measure(card)
    if measured.glare >= quality.HOPELESS_GLARE:
        return CardFaceReading.failed(CardFaceReason.GLARE)
    if measured.sharpness < quality.HOPELESS_SHARPNESS:
        return CardFaceReading.failed(CardFaceReason.BLURRED)
    parsed = _small_card_values(_ocr_card(card, today), today)
    if parsed.card_words < MIN_CARD_WORDS:
        return CardFaceReading.failed(CardFaceReason.TOO_SMALL)
    return CardFaceReading(parsed.birth_date, parsed.expiry_date, None, CardFaceReason.TOO_SMALL)


@dataclass(frozen=True)
class QuickReading:
    """The reading with the lines detected at the card's own size (quick_reading): `sure` when
    it gave every value, each SURE_READING_CONFIDENCE sure; `nothing` (what it read upright)
    when it found no value and none of the card's words either way round."""

    sure: ParsedFace | None = None
    nothing: ParsedFace | None = None


def quick_reading(card: np.ndarray, today: date) -> QuickReading:
    """The card read with its lines detected at its own size (ocr.read_lines own_scale: about
    three quarters of the time of the usual reading), upright and, when that found nothing of a
    card, turned round (upside down, or the other of the two 90-degree turns, as _ocr_card
    does), so that such a card costs two quick readings and not a quick one and the usual two.

    Only a sure reading is taken: with the lines detected at this size, a card under a 3 px
    focus blur, deconvolved for a smear it did not have, read its code 6543 for 6583 at 0.92
    (at the usual size its code's region read 6583 at 0.999). This reading is of the photo
    as it is, never of a deconvolved copy.
    """
    def read(image: np.ndarray) -> ParsedFace:
        return parse_lines(read_lines(image, own_scale=True), today=today)

    upright = read(card)
    if _sure(upright):
        return QuickReading(sure=upright)
    if upright.found or upright.card_words:
        return QuickReading()
    turned = read(cv2.rotate(card, cv2.ROTATE_180))
    if _sure(turned):
        return QuickReading(sure=turned)
    if turned.found or turned.card_words:
        return QuickReading()
    return QuickReading(nothing=upright)


def read_straight_card(
    card: np.ndarray, today: date, *, smear: Smear | None = None, card_shaped: bool = True,
    quick: bool = False, orientation: Orientation | None = None,
) -> CardFaceReading:
    """Read a card already straightened to CARD_WIDTH (and, where a smear may be, undo it).

    `quick` first tries the cheaper sure reading (quick_reading): for a photo
    straightened from the camera, not for an average of frames, which has its own rules.
    `orientation` is shared by the readings of one set of aligned cards (see Orientation).
    """
    measured = quality.measure(card)
    if measured.glare >= quality.HOPELESS_GLARE:
        return CardFaceReading.failed(CardFaceReason.GLARE)
    # A smear is measured only where it decides something: a hopelessly soft card is read
    # only if the softness is a smear that can be undone, and a card read surely as it is
    # needs no undoing.
    if measured.sharpness < quality.HOPELESS_SHARPNESS and (smear is None or not smear.found):
        return CardFaceReading.failed(CardFaceReason.BLURRED)
    first = quick_reading(card, today) if quick else QuickReading()
    if (sure := first.sure) is not None:
        return CardFaceReading(sure.birth_date, sure.expiry_date, sure.security_code)
    if first.nothing is not None and (smear is None or smear.found is None):
        # Nothing of a card either way round, and no smear to undo: the usual two passes found
        # nothing either on every such bench photo (40 of 130 stills of the 13 hardest
        # conditions: 30 hopeless blurs, 10 receipts), and cost a second more.
        return CardFaceReading.failed(_diagnose(first.nothing, measured, card_shaped=card_shaped))
    upright = _read_pass(card, today)
    if _sure(upright):
        parsed = upright
        if orientation is not None:
            orientation.learn(parsed, turned=False)
    elif smear is not None and (blur := smear.found) is not None:
        parsed = _read_smeared(card, smear.restored_card(blur), today, upright=upright)
    else:
        parsed = _ocr_card(card, today, upright=upright, orientation=orientation)
    if parsed.found == 3:
        return CardFaceReading(parsed.birth_date, parsed.expiry_date, parsed.security_code)
    reason = _diagnose(parsed, measured, card_shaped=card_shaped)
    if parsed.card_words < MIN_CARD_WORDS:
        # Without the card's own words nearby, a lone date or number may belong to anything.
        return CardFaceReading.failed(reason)
    return CardFaceReading(parsed.birth_date, parsed.expiry_date, parsed.security_code, reason)


def _read_smeared(card: np.ndarray, restored: np.ndarray, today: date, *,
                  upright: ParsedFace) -> ParsedFace:
    """A card on which a smear was measured and which the photo as it is (`upright`) did not
    read surely: the deconvolved card, and, if that fell short, the two readings merged (they
    must agree on every value both found)."""
    logger.info("card face: motion blur found, trying deconvolution")
    parsed = _ocr_card(restored, today)
    if parsed.found < 3:
        parsed = merge_passes(parsed, _ocr_card(card, today, upright=upright))
    return parsed


def _diagnose(
    parsed: ParsedFace, measured: quality.Quality, *, card_shaped: bool
) -> CardFaceReason:
    """Why a reading failed, in the order that helps the resident most."""
    blurred = measured.sharpness < quality.SOFT_SHARPNESS
    glare = measured.glare >= quality.SOFT_GLARE
    if parsed.card_words == 0 and parsed.found == 0 and not (card_shaped and (blurred or glare)):
        return CardFaceReason.NOT_A_CARD
    if glare:
        return CardFaceReason.GLARE
    if blurred:
        return CardFaceReason.BLURRED
    return CardFaceReason.UNREADABLE


def read_card_face_image(jpeg_bytes: bytes, *, today: date | None = None) -> CardFaceReading:
    """Read the birth date, expiry date and security code from a photo of a card front.

    The bytes are decoded, read and dropped; nothing is stored or logged but the outcome.
    """
    image = decode_image(jpeg_bytes)
    if image is None:
        logger.info("card face: upload is not a decodable image")
        return CardFaceReading.failed(CardFaceReason.NOT_A_CARD)
    # Outside the guard below: a missing model is a deployment fault and must fail loudly.
    get_engine()
    today = today or datetime.now(JST).date()
    try:
        reading = without_past_expiry(read_card_image(image, today=today), today)
    except Exception as exc:
        # An OpenCV or OCR failure on one odd photo is answered like any unreadable photo (the
        # manual form remains) rather than with a 500 whose logged traceback would carry the
        # exception's text, which may quote what was recognised: log its type only.
        logger.error("card face read failed: %s", type(exc).__name__)
        reading = CardFaceReading.failed(CardFaceReason.UNREADABLE)
    finally:
        del image
    if reading.ok:
        logger.info("card face read: ok")
    else:
        read = sum(x is not None for x in (reading.birth_date, reading.expiry_date,
                                           reading.security_code))
        logger.info("card face read: %s, %d of 3 values", reading.reason, read)
    return reading
