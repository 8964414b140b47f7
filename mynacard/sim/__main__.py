"""Command line: ``python -m mynacard.sim --vpcd HOST:PORT [--profile FILE]`` serves the card to
vpcd; ``python -m mynacard.sim make-profile --photo PHOTO --out FILE`` writes a new profile."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from mynacard.sim import make_profile
from mynacard.sim.anchors import export_trust_anchors
from mynacard.sim.card import SimulatedCard
from mynacard.sim.profile import ProfileError, demo_profile, load_profile
from mynacard.sim.vpcd import VpcdClient, parse_hostport

logger = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mynacard.sim", description=__doc__)
    parser.add_argument("--vpcd", metavar="HOST:PORT", help="connect to vpcd (default port 35963)")
    parser.add_argument("--profile", type=Path, help="card profile TOML (default: the demo card)")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command")
    make_profile.add_arguments(sub.add_parser("make-profile", help="write a new card profile"))
    export = sub.add_parser(
        "export-anchors", help="write the test PKI's trust anchors (load_trust_anchors layout)"
    )
    export.add_argument("directory", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    if args.command == "make-profile":
        return make_profile.run(args)
    if args.command == "export-anchors":
        export_trust_anchors(args.directory)
        print(f"wrote trust anchors to {args.directory}")
        return 0
    if not args.vpcd:
        parser.error("give --vpcd HOST:PORT or a sub-command")
    try:
        host, port = parse_hostport(args.vpcd)
    except ValueError as exc:
        parser.error(str(exc))
    try:
        profile = load_profile(args.profile) if args.profile else demo_profile()
    except ProfileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    client = VpcdClient(SimulatedCard(profile), host, port)
    client.install_signal_handlers()
    client.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
