"""Command line: `python -m faceverify compare REFERENCE PROBE...` and `analyze IMAGE`.

Prints one JSON object per line, so results can be piped into jq or a spreadsheet. Paths are
echoed back; pixels, embeddings and landmarks are never printed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from faceverify.analyzer import analyze_image, distance, embed
from faceverify.imaging import ImageError, decode
from faceverify.liveness import DEFAULT_THRESHOLD, LivenessConfig
from faceverify.session import ReferencePhotoError, reference_embedding

logger = logging.getLogger(__name__)

# Photos from disk may be full-size camera images, larger than a streamed frame.
_MAX_SIDE = 8000
_MAX_BYTES = 64 * 1024 * 1024


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m faceverify", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    compare = commands.add_parser("compare", help="distance of each probe to the reference face")
    compare.add_argument("reference", type=Path, help="JPEG, PNG or JPEG 2000 (chip photo)")
    compare.add_argument("probes", type=Path, nargs="+")
    compare.add_argument(
        "--threshold",
        type=float,
        default=default_threshold(),
        help="default: MYNA_FACE_THRESHOLD from the environment when > 0, else the calibrated "
        f"{DEFAULT_THRESHOLD}",
    )
    analyze = commands.add_parser("analyze", help="pose, smile and quality of every face")
    analyze.add_argument("image", type=Path)
    args = parser.parse_args(argv)
    stream = out or sys.stdout
    if args.command == "compare":
        return _compare(args.reference, args.probes, args.threshold, stream)
    return _analyze(args.image, stream)


def default_threshold() -> float:
    """The server's threshold: MYNA_FACE_THRESHOLD when set and > 0 (as in webapp/settings.py)."""
    try:
        configured = float(os.environ.get("MYNA_FACE_THRESHOLD", "") or 0.0)
    except ValueError:
        configured = 0.0
    return configured if 0.0 < configured <= 2.0 else DEFAULT_THRESHOLD


def _compare(reference: Path, probes: list[Path], threshold: float, out: TextIO) -> int:
    try:
        ref = reference_embedding(reference.read_bytes(), max_bytes=_MAX_BYTES, max_side=_MAX_SIDE)
    except (OSError, ReferencePhotoError) as exc:
        reason = exc.reason if isinstance(exc, ReferencePhotoError) else "unreadable"
        _emit(out, {"reference": str(reference), "error": reason})
        return 2
    status = 0
    for probe in probes:
        row: dict[str, Any] = {"probe": str(probe), "threshold": threshold}
        try:
            image = decode(probe.read_bytes(), max_side=_MAX_SIDE)
            faces = analyze_image(image)
            if not faces:
                raise ImageError("no_face")
            # Several faces: the largest is the subject (a group photo's bystanders are smaller).
            face = max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
            dist = distance(embed(image, face.box), ref)
            row.update(distance=round(dist, 4), match=dist <= threshold, faces=len(faces))
        except (OSError, ImageError) as exc:
            reason = exc.reason if isinstance(exc, ImageError) else "unreadable"
            row.update(distance=None, match=False, error=reason)
            status = 1
        _emit(out, row)
    return status


def _analyze(path: Path, out: TextIO) -> int:
    try:
        image = decode(path.read_bytes(), max_side=_MAX_SIDE, min_side=16)
    except (OSError, ImageError) as exc:
        reason = exc.reason if isinstance(exc, ImageError) else "unreadable"
        _emit(out, {"image": str(path), "error": reason})
        return 2
    faces = analyze_image(image)
    smile_min = LivenessConfig().smile_min
    for index, face in enumerate(faces):
        _emit(
            out,
            {
                "image": str(path),
                "face": index,
                "box": list(face.box),
                "yaw": round(face.pose.yaw, 1),
                "pitch": round(face.pose.pitch, 1),
                "roll": round(face.pose.roll, 1),
                "smile": round(face.smile, 3),
                "smiling": face.smile >= smile_min,
                "quality": {
                    "ok": face.quality.ok,
                    "problems": [str(p) for p in face.quality.problems],
                    "brightness": round(face.quality.brightness, 1),
                    "sharpness": round(face.quality.sharpness, 1),
                },
            },
        )
    if not faces:
        _emit(out, {"image": str(path), "faces": 0})
    return 0


def _emit(out: TextIO, row: dict[str, Any]) -> None:
    out.write(json.dumps(row, ensure_ascii=False) + "\n")
