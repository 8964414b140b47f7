"""`POST /reset/cardface/` (one still) and `/reset/cardface/burst/` (a few live frames): read the
card's front and answer with JSON.

The wizard routes these views (reset/urls.py). The still comes as the multipart field `image` or
as a raw `image/jpeg` (or png/webp) body of at most 4 MB; a burst as up to MAX_FRAMES multipart
fields `frame` of at most 1 MB each. Both are read and forgotten: uploads are kept in memory only
(MemoryOnlyUploadHandler, never Django's temporary-file handler) and nothing about the images or
what they say is logged.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from cardface.burst import MAX_FRAMES, read_card_burst_bytes
from cardface.reader import MAX_IMAGE_BYTES, read_card_face_image
from cardface.result import CardFaceReading

logger = logging.getLogger(__name__)

FIELD = "image"
RAW_TYPES = ("image/jpeg", "image/png", "image/webp")
# Room for the multipart boundaries and headers around the images.
MULTIPART_OVERHEAD = 64 * 1024

# A burst: frames of the guide frame's crop that the page keeps small (at most 1280 px wide).
BURST_FIELD = "frame"
MAX_FRAME_BYTES = 1024 * 1024
MAX_BURST_BYTES = MAX_FRAMES * MAX_FRAME_BYTES

ERRORS_JA = {
    "missing_image": gettext_noop("画像が送られていません。もう一度撮影してください。"),
    "too_large": gettext_noop("画像が大きすぎます(4MBまで)。"),
    "unsupported_type": gettext_noop("JPEG・PNG・WebPの画像を送ってください。"),
    "too_many_frames": gettext_noop("画像が多すぎます。もう一度撮影してください。"),
}
STATUS = {"missing_image": 400, "too_many_frames": 400, "too_large": 413, "unsupported_type": 415}


def _read_still(frames: Sequence[bytes]) -> CardFaceReading:
    return read_card_face_image(frames[0])


def _read_burst(frames: Sequence[bytes]) -> CardFaceReading:
    return read_card_burst_bytes(frames)


@dataclass(frozen=True)
class Upload:
    """What one endpoint accepts, and the reading it hands the images to."""

    field: str
    max_file_bytes: int
    max_files: int
    raw_body: bool  # a bare image body (no multipart) is accepted too
    read: Callable[[Sequence[bytes]], CardFaceReading]

    @property
    def max_request_bytes(self) -> int:
        return self.max_file_bytes * self.max_files + MULTIPART_OVERHEAD


STILL = Upload(FIELD, MAX_IMAGE_BYTES, 1, True, _read_still)
BURST = Upload(BURST_FIELD, MAX_FRAME_BYTES, MAX_FRAMES, False, _read_burst)


class MemoryOnlyUploadHandler(FileUploadHandler):
    """Keeps the endpoint's file fields in memory as bytes and never writes a temporary file.

    Every other file field is dropped unread; a file over `max_file_bytes` or one file too many
    stops the upload. The view is the only one to take the bytes, once (`frames`).
    """

    def __init__(self, request: HttpRequest | None = None, upload: Upload = STILL) -> None:
        super().__init__(request)
        self.upload = upload
        self._buffer: io.BytesIO | None = None
        self.frames: list[bytes] = []
        self.too_large = False
        self.too_many = False

    def new_file(self, field_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, *args, **kwargs)
        self._buffer = None
        if field_name != self.upload.field:
            return
        if len(self.frames) >= self.upload.max_files:
            self.too_many = True
            raise StopUpload(connection_reset=True)
        self._buffer = io.BytesIO()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if self._buffer is None:
            return None
        if start + len(raw_data) > self.upload.max_file_bytes:
            self.too_large = True
            self._buffer = None
            raise StopUpload(connection_reset=True)
        self._buffer.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> None:
        # The bytes are kept here rather than as an uploaded file: the view reads them once.
        if self._buffer is not None:
            self.frames.append(self._buffer.getvalue())
        self._buffer = None


def _error(code: str) -> JsonResponse:
    logger.info("card face request refused: %s", code)
    response = JsonResponse(
        # `reason` is the code every JSON endpoint uses (docs/internal-api.md); `error` stays for
        # the card page's reader of this view.
        {"ok": False, "reason": code, "error": code, "message": gettext(ERRORS_JA[code])},
        status=STATUS[code], json_dumps_params={"ensure_ascii": False},
    )
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
@require_POST
async def read_card_front(request: HttpRequest) -> HttpResponse:
    """Read one still of the card front."""
    return await _read(request, STILL)


@csrf_exempt
@require_POST
async def read_card_burst(request: HttpRequest) -> HttpResponse:
    """Read a short burst of live camera frames (cardface.burst); the same rules as one still.

    The page sends the frames it judged best while the card was held in the guide frame; only
    the sharpest are OCR'd (or, for a small card, averaged) and a value is kept when the frames
    agree on it.
    """
    return await _read(request, BURST)


async def _read(request: HttpRequest, upload: Upload) -> HttpResponse:
    """CSRF is checked inside, after the in-memory upload handler is set.

    Django's CSRF middleware would parse a multipart body (and spool a large file to disk) before
    the view could choose its handlers, hence csrf_exempt on the views and csrf_protect below
    (the pattern in Django's "upload handlers" documentation).

    The views are async so that the second or two of OCR runs in a worker thread: under ASGI
    every sync view shares one thread, and the rest of the site would wait for the OCR.
    """
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > upload.max_request_bytes:
        return _error("too_large")
    handler = MemoryOnlyUploadHandler(request, upload)
    try:
        request.upload_handlers = [handler]
    except AttributeError:
        # Something (a wrapping view, a middleware) parsed the body first, with Django's default
        # handlers; it still works, but a large upload may have been spooled to a temp file.
        logger.warning("card face upload parsed before the view; route the card face views "
                       "directly (read_card_front, read_card_burst)")
    return await sync_to_async(_read_checked, thread_sensitive=False)(request, upload, handler)


def _received(request: HttpRequest, upload: Upload,
              handler: MemoryOnlyUploadHandler) -> list[bytes] | str:
    """The images' bytes, or the error code that refuses them."""
    content_type = request.content_type or ""
    if content_type in RAW_TYPES and upload.raw_body:
        data = request.read(upload.max_file_bytes + 1)
        return "too_large" if len(data) > upload.max_file_bytes else [data]
    if content_type != "multipart/form-data":
        return "unsupported_type"
    files = request.FILES.getlist(upload.field)  # parses the body through the handler
    if handler.too_many or len(files) > upload.max_files:
        return "too_many_frames"
    if handler.too_large or any((f.size or 0) > upload.max_file_bytes for f in files):
        return "too_large"
    frames, handler.frames = handler.frames, []
    for parsed_before in files:  # only when the body was parsed before the view (see _read)
        frames.append(parsed_before.read())
        parsed_before.close()
    return frames


@csrf_protect
def _read_checked(request: HttpRequest, upload: Upload,
                  handler: MemoryOnlyUploadHandler) -> HttpResponse:
    frames = _received(request, upload, handler)
    if isinstance(frames, str):
        return _error(frames)
    if not frames or not all(frames):
        return _error("missing_image")
    reading = upload.read(frames)
    del frames
    return _answer(reading.to_json_dict())


def _answer(body: dict[str, Any]) -> JsonResponse:
    if "message" in body:
        body["message"] = gettext(body["message"])  # in the resident's language
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    # The answer carries the security code: no cache may keep it.
    response["Cache-Control"] = "no-store"
    return response
