"""static/reset/cardface.js's pure parts, run in Node with a minimal DOM stand-in."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.prerequisites import in_ci

MODULE = Path(__file__).resolve().parents[2] / "static" / "reset" / "cardface.js"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None and not in_ci(), reason="node is not installed")

SCRIPT = r"""
const created = [];
class Node_ {
  constructor(tag) { this.tag = tag; this.attrs = {}; this.textContent = ""; this.classList = {
    toggle: (name, on) => { this.attrs["class:" + name] = on; } }; this.dataset = {};
    this.listeners = []; }
  addEventListener(type, fn) { this.listeners.push([type, fn]); }
  setAttribute(k, v) { this.attrs[k] = v; }
  getAttribute(k) { return this.attrs[k] ?? null; }
  insertAdjacentElement(_where, node) { created.push(node); }
}
const byId = {};
globalThis.document = {
  createElement: (tag) => new Node_(tag),
  getElementById: (id) => byId[id] ?? created.find((n) => n.attrs.id === id) ?? null,
};
globalThis.Event = class { constructor(type) { this.type = type; } };
const events = [];
const input = (name) => Object.assign(new Node_("input"), {
  name, value: "typed", dispatchEvent: (e) => events.push(`${name}:${e.type}`),
});
const inputs = { birth_date: input("birth_date"), expiry_date: input("expiry_date"),
                 security_code: input("security_code") };
const form = { elements: { namedItem: (n) => inputs[n] ?? null } };

const m = await import(process.argv[1]);
const out = {};
out.guide = m.guideRect(1920, 1080);
out.crop = m.cropRect(1920, 1080);
out.portrait = m.guideRect(720, 1280);
out.filled = m.fillForm(form, { ok: false, reason: "unreadable", birth_date: "1985-07-23",
  expiry_date: null, security_code: "4821",
  confidence: { birth_date: 0.99, security_code: 0.9 } });
out.values = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.value]));
out.events = events;
out.notes = created.map((n) => [n.attrs.id, n.textContent, n.attrs["class:unsure"]]);
out.describedby = inputs.birth_date.getAttribute("aria-describedby");
out.localised = m.localised({ "cardface.capture": "Take the photo", "cardface.bogus": "x",
  "capture": "unprefixed", "cardface.intro": 5, "cardface.reason.glare": "Glare." });
// Probe images: a dark table and a pale card with dark text lines (x0, y0, w, h in pixels).
const W = 200, H = 140;
const image = (fn) => Uint8Array.from({ length: W * H }, (_, i) => fn(i % W, Math.floor(i / W)));
const card = (x0, y0, w, h, ink = 40, paper = 230) => image((x, y) => {
  if (x < x0 || x >= x0 + w || y < y0 || y >= y0 + h) return 50;
  const text = (y - y0) % 8 < 2 && (x - x0) % 6 < 4 && x - x0 > 8 && x - x0 < w * 0.6;
  return text ? ink : paper;
});
const smear = (g, n) => image((x, y) => {
  let sum = 0;
  for (let k = 0; k < n; k++) sum += g[y * W + Math.min(W - 1, x + k)];
  return Math.round(sum / n);
});
out.card = m.probeMeasures(card(40, 30, 120, 76), W, H, null);
out.square = m.probeMeasures(card(60, 20, 90, 90), W, H, null);
out.empty = m.probeMeasures(image(() => 50), W, H, null);
out.still = m.probeMeasures(card(40, 30, 120, 76), W, H, card(40, 30, 120, 76)).motion;
out.moved = m.probeMeasures(card(50, 30, 120, 76), W, H, card(40, 30, 120, 76)).motion;
const face = card(0, 0, W, H);
out.sharp = m.sharpness(face, W, H);
out.smeared = m.sharpness(smear(face, 7), W, H);
out.dim = m.sharpness(card(0, 0, W, H, 20, 115), W, H);
// A card 300 camera pixels wide, as the server gets it: a burst is scaled to 1280 at most, a
// still to 1600 (cardface.js BURST_MAX_WIDTH, MAX_SIDE).
out.sent = {
  burst1080: m.sentWidth(300, m.cropRect(1920, 1080), 1280),
  still1080: m.sentWidth(300, m.cropRect(1920, 1080), 1600),
  burst720: m.sentWidth(300, m.cropRect(1280, 720), 1280),
  burst480: m.sentWidth(300, m.cropRect(640, 480), 1280),
};
console.log(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    assert NODE is not None
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", SCRIPT, MODULE.as_uri()],
        capture_output=True, text=True, timeout=60, check=True,
    )
    return json.loads(done.stdout)


def test_the_guide_frame_is_card_shaped_and_centred(result: dict[str, Any]) -> None:
    for key, (width, height) in (("guide", (1920, 1080)), ("portrait", (720, 1280))):
        g = result[key]
        assert isinstance(g, dict)
        assert abs(g["w"] / g["h"] - 85.6 / 54) < 1e-6
        assert abs(g["x"] * 2 + g["w"] - width) < 1e-6
        assert abs(g["y"] * 2 + g["h"] - height) < 1e-6


def test_the_still_keeps_a_margin_the_server_accepts(result: dict[str, Any]) -> None:
    crop, guide = result["crop"], result["guide"]
    assert isinstance(crop, dict) and isinstance(guide, dict)
    assert crop["x"] < guide["x"] and crop["w"] > guide["w"]
    assert crop["x"] >= 0 and crop["y"] >= 0
    # cardface/locate.py WHOLE_IMAGE_ASPECT_RANGE: a frame-filling card is still read.
    assert 1.45 <= crop["w"] / crop["h"] <= 1.75


def test_it_fills_only_what_was_read_and_shows_the_confidence(result: dict[str, Any]
                                                              ) -> None:
    assert result["filled"] == ["birth_date", "security_code"]
    assert result["values"] == {
        "birth_date": "1985/07/23", "expiry_date": "typed", "security_code": "4821",
    }
    assert "birth_date:input" in result["events"]
    assert not any(str(e).startswith("expiry_date") for e in result["events"])
    notes = {n[0]: n for n in result["notes"]}
    assert "99%" in notes["birth_date-cardface"][1] and not notes["birth_date-cardface"][2]
    assert "90%" in notes["security_code-cardface"][1] and notes["security_code-cardface"][2]
    assert "birth_date-cardface" in str(result["describedby"])


def test_the_page_can_translate_every_text_by_key(result: dict[str, Any]) -> None:
    text = result["localised"]
    assert isinstance(text, dict)
    assert text["capture"] == "Take the photo"
    assert text["reason.glare"] == "Glare."
    # Unknown keys, unprefixed keys and non-strings change nothing.
    assert "bogus" not in text
    assert text["intro"].startswith("マイナンバーカード(表面)を黒わくにあわせてください")
    assert "マイナちゃんマーク" in text["intro"]
    assert text["reason.too_small"].startswith("カードが小さく写っています")


def test_the_probe_finds_a_card_shaped_area_and_nothing_else(result: dict[str, Any]) -> None:
    box = result["card"]["box"]
    assert isinstance(box, dict)
    assert abs(box["x"] - 40) <= 1 and abs(box["y"] - 30) <= 1
    assert abs(box["w"] - 120) <= 2 and abs(box["h"] - 76) <= 2
    assert result["square"]["box"] is None  # bright, but not ID-1 shaped
    assert result["empty"]["box"] is None and result["empty"]["span"] == 0


def test_the_probe_sees_motion_and_scores_a_smear_below_a_sharp_frame(
    result: dict[str, Any],
) -> None:
    assert result["still"] == 0 and result["moved"] > 6
    sharp, smeared, dim = result["sharp"], result["smeared"], result["dim"]
    assert isinstance(sharp, float | int) and isinstance(smeared, float | int)
    assert smeared < sharp * 0.7, (smeared, sharp)
    # Exposure-normalised: the same card at half the light scores alike.
    assert abs(dim - sharp) < 0.1 * sharp


def test_sizes_are_compared_as_the_server_gets_them(result: dict[str, Any]) -> None:
    """On a 1920x1080 camera a burst's crop is scaled from 1782 to 1280 px wide: a card 300
    camera pixels wide reaches the server 215 px wide, under the page's MIN_CARD_PX (216), so
    the page asks to come closer instead of sending frames the server cannot read the code in.
    Cameras whose crop fits unscaled compare camera pixels as they are."""
    sent = result["sent"]
    assert isinstance(sent, dict)
    assert 214 < sent["burst1080"] < 216, sent
    assert 268 < sent["still1080"] < 270, sent  # under SMALL_CARD_PX: 撮影する sends a burst
    assert sent["burst720"] == sent["burst480"] == 300
