"""Presentation-attack table: every attack of faceverify/tests/attacks.py, several attempts each,
against the real engine; and the genuine sequence measured the same way.

    .venv/bin/python bench/face_attacks.py [--attempts 3] [--genuine 10] [--step 0.25]
    .venv/bin/python bench/face_attacks.py --calibration

Prints a Markdown table (attack, attempts, accepted, how each attempt ended) for
docs/faceverify.md; with --calibration instead, the planarity / surroundings / smile-change values
of single frames: tilted photos (20°–60° both ways) against real turned heads. Each attempt has
its own seed: a new prompt order and new frame noise. The goal is 0 accepted on every attack row
and every genuine attempt accepted.

Every attempt is played as the face workers play it (issue 19: each embedding folded in `--lag`
frames after its frame was answered, all before the verdict), and again with every embedding on
its frame (`lag` None, the engine before): the last column says whether each attempt ended the
same way both times (same pass/fail, same reason). `--lag -1` plays only the inline way.
"""

from __future__ import annotations

import argparse
import collections
import functools
import sys
import time
from collections.abc import Callable
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
    parser.add_argument("--lag", type=int, default=2, help="frames before an embedding is in")
    args = parser.parse_args(argv)
    if args.calibration:
        calibration()
        return 0
    started = time.perf_counter()
    lag = None if args.lag < 0 else args.lag
    print("| attack | attempts | accepted | ended as | same as inline |")
    print("|---|---|---|---|---|")
    worst = differ = 0
    for attack in attacks.catalogue():
        outcomes = [
            attacks.run(attack, seed, step=args.step, lag=lag) for seed in range(args.attempts)
        ]
        same = _same(outcomes, functools.partial(attacks.run, attack, step=args.step), lag)
        accepted = sum(o.passed for o in outcomes)
        worst = max(worst, accepted)
        differ += same.count("no")
        print(
            f"| {attack.name} | {len(outcomes)} | {accepted} | {_ended(outcomes)} | {same} |",
            flush=True,
        )
    genuine = [attacks.run_genuine(seed, step=args.step, lag=lag) for seed in range(args.genuine)]
    same = _same(genuine, lambda seed: attacks.run_genuine(seed, step=args.step), lag)
    differ += same.count("no")
    passed = sum(o.passed for o in genuine)
    print(
        f"| **genuine** (obama3 / obama / mirrored obama2, demo chip) | {len(genuine)} "
        f"| {passed} | {_ended(genuine)} | {same} |"
    )
    print(
        f"\n{time.perf_counter() - started:.0f} s; attacks accepted at most {worst} per row; "
        f"genuine pass rate {passed}/{len(genuine)}; embeddings {lag} frames late "
        f"(None: inline); attempts that ended differently from inline: {differ}"
    )
    return 0 if worst == 0 and passed == len(genuine) and not differ else 1


def _same(
    outcomes: list[attacks.Outcome], inline: Callable[[int], attacks.Outcome], lag: int | None
) -> str:
    """yes / no per attempt: the same verdict and reason with every embedding on its frame."""
    if lag is None:
        return "—"
    marks = []
    for outcome in outcomes:
        again = inline(outcome.seed)
        marks.append(
            "yes" if (again.passed, again.reason) == (outcome.passed, outcome.reason) else "no"
        )
    return " ".join(marks)


def _ended(outcomes: list[attacks.Outcome]) -> str:
    counts = collections.Counter(o.reason for o in outcomes)
    return ", ".join(f"{reason} {n}" for reason, n in sorted(counts.items()))


if __name__ == "__main__":
    raise SystemExit(main())
