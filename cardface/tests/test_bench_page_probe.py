"""bench/cardface_bench.py's PageProbe: the page's own probe (run in Node) decides which of the
bench's live holds the page sends, as static/reset/cardface.js would."""

from __future__ import annotations

import random
import shutil
from dataclasses import replace

import pytest

from bench.cardface_bench import TODAY, PageProbe, webcam_scene
from cardface import synth
from tests.prerequisites import in_ci

pytestmark = pytest.mark.skipif(shutil.which("node") is None and not in_ci(),
                                reason="node is not installed")


@pytest.fixture(scope="module")
def probe():
    page = PageProbe()
    yield page
    page.close()


def _frame(card_width: int, seed: int) -> bytes:
    rng = random.Random(seed)
    front = synth.random_front(rng, today=TODAY)
    return synth.render_jpeg(front, replace(webcam_scene(rng), card_width=card_width))


def test_the_page_threshold_comes_from_the_page(probe: PageProbe) -> None:
    assert probe.min_card_px == 216  # static/reset/cardface.js MIN_CARD_PX


@pytest.mark.parametrize("card_width", [204, 230, 256])
def test_the_page_measures_a_640x480_card_about_as_drawn(probe: PageProbe,
                                                          card_width: int) -> None:
    # The probe is 200 px wide over a crop of about 560 camera px: a probe pixel is 2.8.
    assert probe.sent_width(_frame(card_width, card_width)) == pytest.approx(card_width, abs=6)


def test_a_hold_is_sent_by_its_median_frame(probe: PageProbe) -> None:
    near, far = _frame(240, 1), _frame(204, 2)
    assert probe.sends([near, near, far])
    assert not probe.sends([far, far, near])
    assert probe.sent_width(b"not an image") == 0.0
