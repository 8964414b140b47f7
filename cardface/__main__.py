"""`python -m cardface IMAGE`: read a card front and print the result as JSON.

Prints `birth_date` and `expiry_date` (YYYY-MM-DD), `security_code` (four digits) and a
`confidence` for each, or a `reason` code with its Japanese message. Exit status 0 when all
three were read, 1 when not, 2 when the file cannot be opened.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date
from pathlib import Path

from cardface.reader import MAX_IMAGE_BYTES, read_card_face_image

logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cardface", description=__doc__)
    parser.add_argument("image", type=Path, help="JPEG or PNG photo of the card's front")
    parser.add_argument(
        "--today", type=date.fromisoformat, default=None,
        help="date to judge plausibility against (YYYY-MM-DD; default: today)",
    )
    args = parser.parse_args(argv)
    try:
        data = args.image.read_bytes()
    except OSError as exc:
        print(f"cannot read {args.image}: {exc.strerror}", file=sys.stderr)
        return 2
    if len(data) > MAX_IMAGE_BYTES:
        print(f"{args.image} is larger than {MAX_IMAGE_BYTES} bytes", file=sys.stderr)
        return 2
    reading = read_card_face_image(data, today=args.today)
    print(json.dumps(reading.to_json_dict(), ensure_ascii=False, indent=2))
    return 0 if reading.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
