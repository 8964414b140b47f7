"""Face pipeline benchmark: per-frame latency of the liveness pipeline vs a naive baseline, on one
core, in the same process; and the match error rates measured on the fixture photos.

    .venv/bin/python bench/face_bench.py [--frames 90] [--threshold 0.6]

Latency is printed as p50 / p95 milliseconds and frames per second, and the pipeline's speed as a
ratio against the baseline (full-resolution detection + landmarks + embedding on every frame), so
the figures mean something on any machine. FMR / FNMR come from 4 photos of 2 people: a tiny
sample, printed with its counts; "augmented" rows add jittered crops of the same photos.
"""

from __future__ import annotations

import os

# One core: pin the process and cap every thread pool *before* numpy / OpenCV / dlib load, so any
# thread they start inherits the single-CPU affinity (Linux threads inherit it at creation).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
_CPU = min(os.sched_getaffinity(0)) if hasattr(os, "sched_setaffinity") else None
if _CPU is not None:
    os.sched_setaffinity(0, {_CPU})

import argparse  # noqa: E402
import itertools  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faceverify import analyzer  # noqa: E402
from faceverify.cli import default_threshold  # noqa: E402
from faceverify.imaging import (  # noqa: E402
    decode,  # noqa: E402
    scale_to_width,
    to_gray,
)
from faceverify.models import get_models  # noqa: E402
from faceverify.planarity import expression_change, median_turn_parallax  # noqa: E402
from faceverify.screen import surround_follow  # noqa: E402
from faceverify.session import FaceCheck, reference_embedding  # noqa: E402
from faceverify.stillness import StillnessMeter  # noqa: E402
from faceverify.tests import synth  # noqa: E402


def pin_one_core() -> str:
    """Confirm the pinning done at import: every thread of the process on the same one CPU."""
    cv2.setNumThreads(1)
    if _CPU is None:
        return "not pinned (no sched_setaffinity)"
    proc = "/proc/self/task"
    tasks = [int(t) for t in os.listdir(proc)] if os.path.isdir(proc) else [0]
    cpus = set().union(*(os.sched_getaffinity(t) for t in tasks))
    if cpus != {_CPU}:
        raise SystemExit(f"face_bench: threads on CPUs {sorted(cpus)}, not one core")
    return f"pinned to CPU {_CPU} (threads: {len(tasks)}, all on it)"


def stream(frames: int) -> list[bytes]:
    """A webcam-like 640×480 JPEG stream: frontal, turned left, smiling, frontal again."""
    script = [("obama3", False), ("obama2", True), ("obama", False), ("obama3", False)]
    per = max(1, frames // len(script))
    out = []
    for index, (name, mirror) in enumerate(s for s in script for _ in range(per)):
        frame = synth.webcam_frame(
            name, mirror=mirror, seed=index, size=(640, 480), face_fraction=0.3
        )
        out.append(synth.jpeg(frame))
    return out


def timed_pair(
    frames: list[bytes], a: Callable[[bytes, float], None], b: Callable[[bytes, float], None]
) -> tuple[list[float], list[float]]:
    """Run both paths frame by frame, alternating, so they share the same machine load."""
    out_a: list[float] = []
    out_b: list[float] = []
    for index, data in enumerate(frames):
        for step, out in ((a, out_a), (b, out_b)):
            start = time.perf_counter()
            step(data, index / 10)
            out.append(time.perf_counter() - start)
    return out_a, out_b


def pipeline_runner(reference: np.ndarray) -> Callable[[bytes, float], None]:
    """The production path: one FaceCheck per attempt (restarted whenever one decides)."""
    rng = random.Random(0)  # a fixed sequence of prompt orders, so runs are comparable
    state = {"check": FaceCheck(reference.copy(), rng=rng)}

    def step(data: bytes, t: float) -> None:
        check = state["check"]
        check.feed_jpeg(data, t)
        if check.decision is not None:
            state["check"] = FaceCheck(reference.copy(), rng=rng)

    return step


def naive_step(reference: np.ndarray) -> Callable[[bytes, float], None]:
    models = get_models()

    def step(data: bytes, t: float) -> None:
        image = decode(data)
        boxes = analyzer.detect(image, width=image.shape[1], upsample=0, models=models)
        for box in boxes:
            analyzer.landmarks(image, box, models=models)
            analyzer.distance(analyzer.embed(image, box, models=models), reference)

    return step


def summary(label: str, latencies: list[float]) -> float:
    ms = sorted(x * 1000 for x in latencies)
    p50 = statistics.median(ms)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    fps = 1000 / statistics.fmean(ms)
    print(f"  {label:<34} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   {fps:6.1f} frames/s")
    return fps


def presentation_checks_cost(frames: list[bytes], pipeline_ms: float) -> None:
    """The presentation-attack checks alone, per frame, on landmarks the analyzer already made.

    Per frame: the aligned-face stillness measure (every frame with a face); the surroundings
    ratio (only on turned frames; timed on every frame here, as an upper bound); the smile
    change (only while 笑う is asked; likewise); the turn parallax (once per attempt: 8 frontal
    × 3 turned homographies at the decision).
    """
    views = []
    for data in frames:
        image = decode(data)
        faces = analyzer.analyze_image(image)
        if len(faces) == 1:
            small, factor = scale_to_width(image, 320)
            views.append((to_gray(small), faces[0].points * factor, faces[0].points))
    frontal_gray, frontal_small, frontal_points = views[0]
    meter = StillnessMeter()
    timings: dict[str, list[float]] = {"stillness": [], "surround": [], "smile": []}
    for gray, small_points, points in views:
        start = time.perf_counter()
        meter.change(gray, small_points)
        timings["stillness"].append(time.perf_counter() - start)
        start = time.perf_counter()
        surround_follow(frontal_gray, frontal_small, gray, small_points)
        timings["surround"].append(time.perf_counter() - start)
        start = time.perf_counter()
        expression_change(frontal_points, points)
        timings["smile"].append(time.perf_counter() - start)
    start = time.perf_counter()
    median_turn_parallax([v[2] for v in views[:8]], [v[2] for v in views[-3:]])
    parallax_ms = (time.perf_counter() - start) * 1000
    total = 0.0
    print(f"presentation-attack checks ({len(views)} frames with a face):")
    for name, values in timings.items():
        ms = statistics.median(values) * 1000
        total += ms
        print(f"  {name:<34} p50 {ms:7.3f} ms per frame")
    print(f"  {'turn parallax (once per attempt)':<34}     {parallax_ms:7.3f} ms")
    print(
        f"  all per-frame checks together: {total:.3f} ms = "
        f"{100 * total / pipeline_ms:.1f} % of the pipeline's p50 frame"
    )


def error_rates(threshold: float) -> None:
    refs = {name: reference_embedding(synth.chip_photo(name)) for name in synth.NAMES}
    person = {"obama": "A", "obama2": "A", "obama3": "A", "biden": "B"}

    def probes(augmented: bool) -> dict[str, list[np.ndarray]]:
        out: dict[str, list[np.ndarray]] = {}
        for name in synth.NAMES:
            images = [synth.source(name)]
            if augmented:
                images += [
                    synth.webcam_frame(name, seed=s, face_fraction=f, jitter=6.0)
                    for s, f in zip(range(4), (0.25, 0.3, 0.35, 0.4), strict=True)
                ]
            embs = []
            for image in images:
                faces = analyzer.analyze_image(image)
                if faces:
                    embs.append(analyzer.embed(image, faces[0].box))
            out[name] = embs
        return out

    for augmented in (False, True):
        genuine: list[float] = []
        impostor: list[float] = []
        for (ref_name, ref), (probe_name, embs) in itertools.product(
            refs.items(), probes(augmented).items()
        ):
            if ref_name == probe_name:
                continue  # the reference was cut from this very photo: not a fair genuine pair
            dists = [analyzer.distance(ref, e) for e in embs]
            (genuine if person[ref_name] == person[probe_name] else impostor).extend(dists)
        fnmr = sum(d > threshold for d in genuine) / len(genuine)
        fmr = sum(d <= threshold for d in impostor) / len(impostor)
        label = "photos + jittered crops (augmented)" if augmented else "photos only"
        print(f"  {label}: genuine pairs {len(genuine)}, impostor pairs {len(impostor)}")
        print(
            f"    FNMR {fnmr:.3f} ({sum(d > threshold for d in genuine)}/{len(genuine)})   "
            f"FMR {fmr:.3f} ({sum(d <= threshold for d in impostor)}/{len(impostor)})   "
            f"genuine max {max(genuine):.3f}  impostor min {min(impostor):.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=80)
    parser.add_argument("--threshold", type=float, default=default_threshold())
    args = parser.parse_args()
    print(f"face_bench: {pin_one_core()}, OpenCV threads {cv2.getNumThreads()}")
    print(f"threshold {args.threshold} (MYNA_FACE_THRESHOLD, 0/unset = calibrated default)")
    get_models()
    reference = reference_embedding(synth.chip_photo("obama"))
    frames = stream(args.frames)
    mean_kb = statistics.fmean(map(len, frames)) / 1024
    print(f"stream: {len(frames)} JPEG frames 640×480, mean {mean_kb:.0f} KB")
    # Warm both paths once so neither pays first-call costs inside the measurement.
    pipeline_runner(reference)(frames[0], 0.0)
    naive_step(reference)(frames[0], 0.0)

    pipeline, naive = timed_pair(frames, pipeline_runner(reference), naive_step(reference))
    print("per-frame latency (decode included):")
    fast = summary("liveness pipeline (tracked, lazy)", pipeline)
    slow = summary("naive (full-res detect+embed)", naive)
    print(f"  speed-up pipeline / naive: {fast / slow:.2f}×")
    presentation_checks_cost(frames, statistics.median(pipeline) * 1000)
    print(f"match error rates at threshold {args.threshold} (chip-like 3–5 KB JP2 references):")
    print("  NOTE: 4 photos of 2 people — tiny sample, not a certification figure (NIST 800-63A")
    print("  asks FMR ≤ 1e-4, FNMR ≤ 1e-2 measured on thousands of subjects per group).")
    error_rates(args.threshold)


if __name__ == "__main__":
    main()
