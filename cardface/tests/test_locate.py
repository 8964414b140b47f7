"""Finding and straightening the card, and the picture measures — no OCR involved."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cardface import locate, quality, synth
from cardface.reader import decode_image

FRONT = synth.CardFront()


def _photo(scene: synth.Scene) -> np.ndarray:
    image = decode_image(synth.render_jpeg(FRONT, scene))
    assert image is not None
    return image


@pytest.mark.parametrize(
    "scene",
    [
        synth.Scene(seed=1),
        synth.Scene(rotation=25, seed=2),
        synth.Scene(rotation=-80, card_width=700, seed=3),
        synth.Scene(tilt=0.3, tilt_axis="left", seed=4),
        synth.Scene(tilt=0.2, rotation=10, tilt_axis="bottom", card_width=500, seed=5),
        synth.Scene(upside_down=True, blur=2.0, jpeg_quality=30, seed=6),
    ],
    ids=["flat", "rotated", "upright", "tilted", "tilted-small", "upside-down-blurred"],
)
def test_it_finds_the_card_corners(scene: synth.Scene) -> None:
    quad = locate.find_card(_photo(scene))
    assert quad is not None
    found = np.asarray(quad.corners)
    tolerance = 0.03 * scene.card_width  # the rounded corners cut the fitted corner a little
    for corner in synth.photo_corners(scene):
        assert np.linalg.norm(found - corner, axis=1).min() < tolerance
    # Landscape: the first edge is a long side.
    assert quad.width_px > quad.height_px


def test_the_warp_is_id1_sized_and_shows_the_card() -> None:
    image = _photo(synth.Scene(rotation=15, tilt=0.15, seed=7))
    quad = locate.find_card(image)
    assert quad is not None
    card = locate.warp_card(image, quad)
    assert card.shape == (locate.CARD_HEIGHT, locate.CARD_WIDTH, 3)
    assert abs(locate.CARD_WIDTH / locate.CARD_HEIGHT - 85.6 / 54.0) < 0.005
    # The card is pale; the dark table must be gone from the warped image.
    assert np.median(cv2.cvtColor(card, cv2.COLOR_BGR2GRAY)) > 200


def test_it_finds_no_card_on_an_empty_table() -> None:
    rng = np.random.default_rng(3)
    table = np.clip(rng.normal(60, 8, (960, 1280, 3)), 0, 255).astype(np.uint8)
    assert locate.find_card(table) is None


def test_it_rejects_a_blob_of_the_wrong_shape() -> None:
    image = np.full((960, 1280, 3), 50, dtype=np.uint8)
    cv2.rectangle(image, (200, 400), (1100, 520), (240, 240, 240), thickness=-1)  # a strip
    assert locate.find_card(image) is None


def test_a_frame_filling_card_falls_back_to_the_whole_image() -> None:
    card = np.asarray(synth.render_card(FRONT).convert("RGB"))[:, :, ::-1]
    assert locate.whole_image_as_card(card) is not None
    assert locate.whole_image_as_card(np.zeros((500, 500, 3), np.uint8)) is None


def test_sharpness_falls_with_blur() -> None:
    values = []
    for blur in (0.0, 1.5, 4.0):
        image = _photo(synth.Scene(blur=blur, seed=8))
        quad = locate.find_card(image)
        assert quad is not None
        values.append(quality.measure(locate.warp_card(image, quad)).sharpness)
    assert values[0] > values[1] > values[2]
    assert values[2] < quality.SOFT_SHARPNESS < values[0]


def test_glare_is_counted_but_a_white_sheet_is_not() -> None:
    def glare(scene: synth.Scene) -> float:
        image = _photo(scene)
        quad = locate.find_card(image)
        assert quad is not None
        return quality.measure(locate.warp_card(image, quad)).glare

    assert glare(synth.Scene(seed=9)) < quality.SOFT_GLARE
    assert glare(synth.Scene(glare=1.0, seed=9)) > quality.SOFT_GLARE
    white = np.full((631, 1000, 3), 248, dtype=np.uint8)
    assert quality.measure(white).glare == 0.0
    burnt = np.full((631, 1000, 3), 255, dtype=np.uint8)
    assert quality.measure(burnt).glare == 1.0


def test_decode_refuses_what_is_not_a_sane_image() -> None:
    assert decode_image(b"") is None
    assert decode_image(b"not an image at all") is None
    ok, png = cv2.imencode(".png", np.zeros((20000, 2500), np.uint8))  # 50 MP of nothing
    assert ok
    assert decode_image(png.tobytes()) is None
