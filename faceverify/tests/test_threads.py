"""The real engine from several threads at once, on real frames (issue 19: a shared dlib detector
crashed the server with a segmentation fault as soon as two residents checked their faces).

The threads run in a child process, so a native crash fails this test instead of killing pytest.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from faceverify.tests import synth

THREADS = 4
ROUNDS = 3

# Each thread runs its own FaceCheck over the same real frames, with no models passed in (as the
# consumer's pool did), and records what it measured. Every thread must see exactly what a single
# thread sees: native state shared between threads shows up as a crash or as different numbers.
_CHILD = textwrap.dedent(
    """
    import sys, threading
    from faceverify import analyzer
    from faceverify.imaging import decode
    from faceverify.session import FaceCheck
    from faceverify.tests import synth

    THREADS, ROUNDS = int(sys.argv[1]), int(sys.argv[2])
    frames = [
        decode(synth.jpeg(synth.webcam_frame(name, mirror=name == "obama2", seed=seed)))
        for name in ("obama", "obama2", "obama3", "biden")
        for seed in range(2)
    ]

    def run() -> list[tuple]:
        seen = []
        check = FaceCheck(None)
        for r in range(ROUNDS):
            for i, frame in enumerate(frames):
                check.tracker.reset()  # a full detection on every frame: the most detector work
                m = check.measure(frame, r * 100 + i / 10)
                box = check.tracker.last_box
                vector = None if box is None or r or i % 4 else tuple(analyzer.embed(frame, box))
                seen.append((m.faces, round(m.yaw, 6), round(m.smile, 6), box, vector))
        return seen

    expected = run()
    results, errors = {}, []

    def worker(k: int) -> None:
        try:
            results[k] = run()
        except BaseException as exc:  # reported below; a thread's exception is not a crash
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert len(results) == THREADS
    for k, seen in results.items():
        assert seen == expected, f"thread {k} measured differently from a single thread"
    print("threads ok", sum(len(s) for s in results.values()))
    """
)


def test_the_engine_runs_from_several_threads_at_once_without_crashing() -> None:
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, str(THREADS), str(ROUNDS)],
        cwd=synth.FACES.parents[2],
        capture_output=True,
        text=True,
        timeout=600,
    )
    # A native crash is a negative return code (−11 segmentation fault, −6 heap corruption).
    assert child.returncode == 0, (child.returncode, child.stderr[-2000:])
    assert child.stdout.strip() == f"threads ok {THREADS * ROUNDS * 8}"
