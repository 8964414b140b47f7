"""The standalone helper at rest: idle CPU over 60 s, memory, and the size of what is shipped.

The helper starts at login and runs until logout, so what it costs while nobody uses it matters
more than its speed. This runs the BUILT helper (scripts/build-helper.sh; built first if missing)
with the simulated card and measures, in this one run:

* idle: no page connected, ``--seconds`` long (default 60) — goal: under 0.1 % of one core;
* baseline: the same process with a page connected and idle, as long — the reader monitor then
  polls (4 per second), which is what the helper did all the time before it learnt to sleep;
* memory: the built helper's resident set size, against the venv's ``python -m bridge`` (baseline);
* size: the folder, the .tar.gz and the .deb.

CPU is the process's own user + system time from /proc (all threads), so a busy machine slows
both phases alike instead of inflating them. Usage: ``python bench/bridge_idle.py [--seconds 60]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "build" / "helper" / "dist" / "myna-bridge"
ORIGIN = "http://localhost:8000"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of the whole process (fields 14 and 15 of /proc/PID/stat), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start(
    command: list[str], env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    process = subprocess.Popen(  # noqa: S603 - our own helper
        [*command, "--simulate", "--port", "0"], stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline().decode()
    if "LISTENING" not in line:
        raise SystemExit(f"helper did not start: {line!r}")
    return process, int(line.rsplit(":", 1)[1].strip("/\n "))


async def hold_a_page(pid: int, port: int, seconds: float) -> float:
    """Connect as the page would, say HELLO, then stay idle; returns the CPU spent meanwhile."""
    async with connect(f"ws://127.0.0.1:{port}/", origin=ORIGIN) as ws:  # type: ignore[arg-type]
        await ws.send(json.dumps({"cmd": "HELLO", "api": 1}))
        await ws.recv()
        await asyncio.sleep(1.0)  # let the connection's first card read settle
        return await asyncio.to_thread(measure, pid, seconds)


def measure(pid: int, seconds: float) -> float:
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return cpu_seconds(pid) - before


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    binary = FOLDER / "myna-bridge"
    if not binary.exists():
        print("building the helper first (scripts/build-helper.sh)…", flush=True)
        subprocess.run([str(ROOT / "scripts" / "build-helper.sh")], check=True)  # noqa: S603

    process, port = start([str(binary)])
    try:
        time.sleep(2.0)  # start-up work (loading the demo card) is not idle time
        idle = measure(process.pid, args.seconds)
        connected = asyncio.run(hold_a_page(process.pid, port, args.seconds))
        time.sleep(1.0)
        built_rss = rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=10)
    venv_env = {**os.environ, "PYTHONPATH": str(ROOT)}
    venv, _ = start([sys.executable, "-m", "bridge"], env=venv_env)
    try:
        time.sleep(2.0)
        venv_rss = rss_mb(venv.pid)
    finally:
        venv.terminate()
        venv.wait(timeout=10)

    idle_pct = 100 * idle / args.seconds
    connected_pct = 100 * connected / args.seconds
    print(f"idle CPU, no page connected ({args.seconds:.0f} s): {idle:.3f} s = {idle_pct:.4f} % "
          f"of a core (goal < 0.1 %: {'met' if idle_pct < 0.1 else 'NOT met'})")
    print(f"baseline, a page connected and idle ({args.seconds:.0f} s): {connected:.3f} s = "
          f"{connected_pct:.4f} % of a core")
    ratio = idle / connected if connected else float("nan")
    print(f"idle / baseline CPU: {ratio:.3f}")
    print(f"memory (RSS): built helper {built_rss:.1f} MB, venv python -m bridge "
          f"{venv_rss:.1f} MB, ratio {built_rss / venv_rss:.2f}")
    print(f"size: folder {folder_mb(FOLDER):.1f} MB", end="")
    out = ROOT / "dist" / "helper"
    for artifact in sorted([*out.glob("*.deb"), *out.glob("*.tar.gz")]):
        print(f", {artifact.name} {artifact.stat().st_size / 1e6:.1f} MB", end="")
    print()
    load = os.getloadavg()[0]
    print(f"machine load average during the run: {load:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
