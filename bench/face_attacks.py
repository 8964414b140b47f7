"""Presentation-attack table: every attack of faceverify/tests/attacks.py, several attempts each,
against the real engine; and the genuine sequence measured the same way.

    .venv/bin/python bench/face_attacks.py [--attempts 3] [--genuine 10] [--step 0.25]
    .venv/bin/python bench/face_attacks.py --calibration

Prints a Markdown table (attack, attempts, accepted, how each attempt ended) for
docs/faceverify.md; with --calibration instead, the planarity / surroundings / smile-change values
of single frames: tilted photos (20°–60° both ways) against real turned heads. Each attempt has
its own seed: a new prompt order and new frame noise. The goal is 0 accepted on every attack row
and every genuine attempt accepted.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from faceverify.analyzer import analyze_image  # noqa: E402
from faceverify.geometry import Points  # noqa: E402
from faceverify.imaging import Image, scale_to_width, to_gray  # noqa: E402
from faceverify.liveness import Prompt  # noqa: E402
from faceverify.planarity import expression_change, median_turn_parallax  # noqa: E402
from faceverify.screen import surround_follow  # noqa: E402
from faceverify.tests import attacks, synth  # noqa: E402

View = tuple[float, Points, Points, np.ndarray]  # yaw, points, points at 320 px, gray at 320 px


def view(image: Image) -> View | None:
    faces = analyze_image(image)
    if len(faces) != 1:
        return None
    small, factor = scale_to_width(image, 320)
    face = faces[0]
    return face.pose.yaw, face.points, face.points * factor, to_gray(small)


def calibration() -> None:
    """Single-frame values of each signal: frontal frames (seeds 1, 2) against one turned frame."""
    print("| source | tilt | yaw | reads as 左 | turn parallax | surroundings | smile change |")
    print("|---|---|---|---|---|---|---|")
    for source in ("chip", "obama3", "obama", "biden"):
        flat = attacks.Attack("calibration", source=source)
        frontal = [v for v in (view(attacks.frame(flat, None, s)) for s in (1, 2)) if v]
        for degrees in (-60, -50, -40, -30, -20, -10, 10, 20, 30, 40, 50, 60):
            tilted = attacks.Attack("calibration", source=source, turn_degrees=degrees)
            turned = view(attacks.frame(tilted, Prompt.TURN_LEFT, 7))
            if turned is None:
                print(f"| {source} | {degrees:+d}° | no face | | | | |")
                continue
            _row(source, f"{degrees:+d}°", frontal, turned)
    for name in ("obama3", "obama"):
        frontal = [v for v in (view(synth.webcam_frame(name, seed=s)) for s in (1, 2)) if v]
        for seed in (3, 4, 5):
            turned = view(synth.webcam_frame("obama2", mirror=True, seed=seed))
            if turned is not None:
                _row(f"real turn: {name} → obama2 mirrored", "—", frontal, turned)
    neutral = [v for v in (view(synth.webcam_frame("obama3", seed=s)) for s in (1, 2)) if v]
    for seed in (3, 4, 5):
        smiling = view(synth.webcam_frame("obama", seed=seed))
        if smiling is not None:
            change = min(expression_change(f[1], smiling[1]) for f in neutral)
            print(f"| real smile: obama3 → obama | — | {smiling[0]:.1f} | | | | {change:+.3f} |")


def _row(source: str, tilt: str, frontal: list[View], turned: View) -> None:
    parallax = median_turn_parallax([f[1] for f in frontal], [turned[1]])
    ratios = [surround_follow(f[3], f[2], turned[3], turned[2]) for f in frontal]
    known = [r for r in ratios if r is not None]
    surround = f"{float(np.median(known)):.2f}" if known else "none"
    change = min(expression_change(f[1], turned[1]) for f in frontal)
    left = "yes" if turned[0] >= 25 else ""
    print(
        f"| {source} | {tilt} | {turned[0]:.1f} | {left} | {parallax:+.3f} | {surround} "
        f"| {change:+.3f} |",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=3)
    parser.add_argument("--genuine", type=int, default=10)
    parser.add_argument("--calibration", action="store_true")
    parser.add_argument("--step", type=float, default=attacks.FRAME_STEP, help="s per frame")
    args = parser.parse_args(argv)
    if args.calibration:
        calibration()
        return 0
    started = time.perf_counter()
    print("| attack | attempts | accepted | ended as |")
    print("|---|---|---|---|")
    worst = 0
    for attack in attacks.catalogue():
        outcomes = [attacks.run(attack, seed, step=args.step) for seed in range(args.attempts)]
        accepted = sum(o.passed for o in outcomes)
        worst = max(worst, accepted)
        print(f"| {attack.name} | {len(outcomes)} | {accepted} | {_ended(outcomes)} |", flush=True)
    genuine = [attacks.run_genuine(seed, step=args.step) for seed in range(args.genuine)]
    passed = sum(o.passed for o in genuine)
    print(
        f"| **genuine** (obama3 / obama / mirrored obama2, demo chip) | {len(genuine)} "
        f"| {passed} | {_ended(genuine)} |"
    )
    print(
        f"\n{time.perf_counter() - started:.0f} s; attacks accepted at most {worst} per row; "
        f"genuine pass rate {passed}/{len(genuine)}"
    )
    return 0 if worst == 0 and passed == len(genuine) else 1


def _ended(outcomes: list[attacks.Outcome]) -> str:
    counts = collections.Counter(o.reason for o in outcomes)
    return ", ".join(f"{reason} {n}" for reason, n in sorted(counts.items()))


if __name__ == "__main__":
    raise SystemExit(main())
