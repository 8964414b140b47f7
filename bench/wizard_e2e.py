"""Wall time of the whole reservation flow in headless Chromium, split by step.

Runs `make run`'s stack (daphne + myna-bridge --simulate) and drives the wizard as a resident
would. Every figure is also printed as a ratio to the baseline measured in this same run: loading
the home page (a plain server-rendered page), so the figures compare across machines.

    .venv/bin/python bench/wizard_e2e.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e import harness  # noqa: E402


def _timed(results: dict[str, list[float]], name: str, action: Callable[[], None]) -> None:
    start = time.perf_counter()
    action()
    results.setdefault(name, []).append(time.perf_counter() - start)


def one_run(chromium: object, stack: harness.Stack, results: dict[str, list[float]]) -> None:
    context = chromium.new_context(locale="ja-JP")  # type: ignore[attr-defined]
    context.grant_permissions(["camera"], origin=stack.base_url)
    page = context.new_page()
    base = stack.base_url
    _timed(results, "baseline: home page", lambda: page.goto(base + "/"))
    _timed(results, "choose", lambda: harness.choose(page, base, "sign"))
    _timed(results, "card-face items", lambda: harness.fill_card_face(page))
    _timed(results, "bridge + reader", lambda: harness.wait_for_card(page))
    _timed(results, "card status", lambda: harness.to_password(page))

    def chip() -> None:
        harness.submit_password(page, harness.DEMO["auth_pin"])
        harness.wait_for_face_page(page)

    _timed(results, "chip read + evidence", chip)
    _timed(results, "face check", lambda: harness.run_face_check(page))
    _timed(results, "home with deadline", lambda: page.goto(base + "/"))
    context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as workdir:
        work = Path(workdir)
        y4m = harness.write_y4m(work / "holder.y4m")
        with harness.running_stack(work) as stack, harness.browser(y4m) as chromium:
            total_start = time.perf_counter()
            for _ in range(args.runs):
                one_run(chromium, stack, results)
            total = (time.perf_counter() - total_start) / args.runs
    baseline = statistics.median(results["baseline: home page"])
    print(f"wizard e2e, headless Chromium, {args.runs} run(s); median seconds and × baseline")
    for name, values in results.items():
        median = statistics.median(values)
        print(f"  {name:<24} {median:8.3f} s  {median / baseline:8.1f} ×")
    print(f"  {'whole flow':<24} {total:8.3f} s  {total / baseline:8.1f} ×")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
