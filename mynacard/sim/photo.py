"""Turn any photo into the chip photo the 券面AP stores in DF27: a small JPEG 2000 file.

Spec §6.3: DF27 is JPEG 2000 in a JP2 container; its pixel size and byte size are unknown (§13.1).
The simulator stores a ~200x250 face crop of 3–5 KB, small enough for the 券面AP's EF and large
enough for a face to stay recognisable for server-side matching. OpenCV is imported lazily so the
card itself runs without it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mynacard.records import JP2_SIGNATURE

logger = logging.getLogger(__name__)

__all__ = ["PHOTO_HEIGHT", "PHOTO_WIDTH", "PhotoError", "encode_chip_photo", "JP2_SIGNATURE"]

PHOTO_WIDTH = 200
PHOTO_HEIGHT = 250
MIN_BYTES = 3 * 1024
MAX_BYTES = 5 * 1024
_TARGET_BYTES = 4 * 1024


class PhotoError(ValueError):
    """The photo cannot be read, has no face, or does not fit the size budget."""


def _face_box(image: Any) -> tuple[int, int, int, int]:
    """The largest face (x, y, w, h), found by dlib's HOG detector.

    dlib rather than OpenCV's Haar cascades: OpenCV 5 moved CascadeClassifier out of the main
    package, and dlib is already what the face check runs on, so one detector serves both.
    """
    import cv2
    import dlib

    rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    faces = dlib.get_frontal_face_detector()(rgb, 1)  # upsample once: small faces in big photos
    if len(faces) == 0:
        raise PhotoError("no face found in the photo")
    face = max(faces, key=lambda r: r.width() * r.height())  # the largest face
    return int(face.left()), int(face.top()), int(face.width()), int(face.height())


def _crop_portrait(image: Any) -> Any:
    """A 4:5 crop around the face with head-and-shoulders margins, like an ID-card photo."""
    import cv2

    x, y, w, h = _face_box(image)
    # dlib's box runs from the brows to the chin; these margins add hair and shoulders.
    crop_w = int(w * 2.1)
    crop_h = crop_w * PHOTO_HEIGHT // PHOTO_WIDTH
    cx = x + w // 2
    top = y - int(h * 0.75)
    left = cx - crop_w // 2
    # Pad with edge pixels where the crop leaves the image, rather than shifting the face.
    rows, cols = image.shape[:2]
    pad = max(0, -top, -left, top + crop_h - rows, left + crop_w - cols)
    if pad:
        image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        top += pad
        left += pad
    crop = image[top : top + crop_h, left : left + crop_w]
    return cv2.resize(crop, (PHOTO_WIDTH, PHOTO_HEIGHT), interpolation=cv2.INTER_AREA)


def encode_chip_photo(photo: Path | bytes, *, colour: bool = False) -> bytes:
    """Crop ``photo`` around its face and encode it as a JP2 of 3–5 KB (greyscale by default).

    Greyscale keeps more detail per byte: on the vendored fixtures it matched the same person
    more closely than a colour file of the same size (myna-card also calls the photo greyscale).
    """
    import cv2
    import numpy as np

    data = photo.read_bytes() if isinstance(photo, Path) else photo
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise PhotoError("the photo is not an image OpenCV can read")
    portrait = _crop_portrait(image)
    if not colour:
        portrait = cv2.cvtColor(portrait, cv2.COLOR_BGR2GRAY)
    # The rate (x1000) is searched so the file lands near 4 KB: OpenCV's rate scales the output
    # size, so a higher value means a larger file.
    best: bytes | None = None
    low, high = 1, 1000
    while low <= high:
        rate = (low + high) // 2
        ok, buffer = cv2.imencode(".jp2", portrait, [cv2.IMWRITE_JPEG2000_COMPRESSION_X1000, rate])
        if not ok:
            raise PhotoError("OpenCV could not encode JPEG 2000")
        encoded = buffer.tobytes()
        if MIN_BYTES <= len(encoded) <= MAX_BYTES and (
            best is None or abs(len(encoded) - _TARGET_BYTES) < abs(len(best) - _TARGET_BYTES)
        ):
            best = encoded
        if len(encoded) > _TARGET_BYTES:
            high = rate - 1
        else:
            low = rate + 1
    if best is None or not best.startswith(JP2_SIGNATURE):
        raise PhotoError("could not encode the photo within 3–5 KB")
    logger.info("encoded chip photo: %dx%d, %d bytes", PHOTO_WIDTH, PHOTO_HEIGHT, len(best))
    return best
