"""`POST /reset/cardface/`: read a still of the card's front and answer with JSON.

The wizard routes this view (reset/urls.py). It accepts the image as the multipart field `image`
or as a raw `image/jpeg` (or png/webp) body of at most 4 MB, reads it, and forgets it: uploads are
kept in memory only (never spooled to a temporary file) and nothing about the image or what it
says is logged.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from asgiref.sync import sync_to_async
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from cardface.reader import MAX_IMAGE_BYTES, read_card_face_image

logger = logging.getLogger(__name__)

FIELD = "image"
RAW_TYPES = ("image/jpeg", "image/png", "image/webp")
# Room for the multipart boundaries and headers around a 4 MB image.
MULTIPART_OVERHEAD = 64 * 1024

ERRORS_JA = {
    "missing_image": gettext_noop("画像が送られていません。もう一度撮影してください。"),
    "too_large": gettext_noop("画像が大きすぎます(4MBまで)。"),
    "unsupported_type": gettext_noop("JPEG・PNG・WebPの画像を送ってください。"),
}


class MemoryOnlyUploadHandler(FileUploadHandler):
    """Keeps the one `image` field in memory up to MAX_IMAGE_BYTES; never writes a temp file."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self._buffer: io.BytesIO | None = None
        self.too_large = False

    def new_file(self, field_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, *args, **kwargs)
        self._buffer = io.BytesIO() if field_name == FIELD else None

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if self._buffer is None:
            return None  # any other file field is dropped unread
        if start + len(raw_data) > MAX_IMAGE_BYTES:
            self.too_large = True
            self._buffer = None
            raise StopUpload(connection_reset=True)
        self._buffer.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> InMemoryUploadedFile | None:
        if self._buffer is None:
            return None
        self._buffer.seek(0)
        return InMemoryUploadedFile(
            file=self._buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )


def _error(code: str, status: int) -> JsonResponse:
    logger.info("card face request refused: %s", code)
    response = JsonResponse(
        # `reason` is the code every JSON endpoint uses (docs/internal-api.md); `error` stays for
        # the card page's reader of this view.
        {"ok": False, "reason": code, "error": code, "message": gettext(ERRORS_JA[code])},
        status=status, json_dumps_params={"ensure_ascii": False},
    )
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
@require_POST
async def read_card_front(request: HttpRequest) -> HttpResponse:
    """Read the card front; CSRF is checked inside, after the in-memory upload handler is set.

    Django's CSRF middleware would parse a multipart body (and spool a large file to disk) before
    the view could choose its handlers, hence csrf_exempt here and csrf_protect below (the
    pattern in Django's "upload handlers" documentation).

    The view is async so that the second or two of OCR runs in a worker thread: under ASGI every
    sync view shares one thread, and the rest of the site would wait for the OCR.
    """
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_IMAGE_BYTES + MULTIPART_OVERHEAD:
        return _error("too_large", 413)
    handler = MemoryOnlyUploadHandler(request)
    try:
        request.upload_handlers = [handler]
    except AttributeError:
        # Something (a wrapping view, a middleware) parsed the body first, with Django's default
        # handlers; it still works, but a large upload may have been spooled to a temp file.
        logger.warning("card face upload parsed before the view; route read_card_front directly")
    return await sync_to_async(_read_checked, thread_sensitive=False)(request, handler)


@csrf_protect
def _read_checked(request: HttpRequest, handler: MemoryOnlyUploadHandler) -> HttpResponse:
    content_type = request.content_type or ""
    if content_type == "multipart/form-data":
        upload = request.FILES.get(FIELD)
        if handler.too_large:
            return _error("too_large", 413)
        if upload is None:
            return _error("missing_image", 400)
        if upload.size is not None and upload.size > MAX_IMAGE_BYTES:
            upload.close()
            return _error("too_large", 413)
        data = upload.read()
        upload.close()
    elif content_type in RAW_TYPES:
        data = request.read(MAX_IMAGE_BYTES + 1)
        if len(data) > MAX_IMAGE_BYTES:
            return _error("too_large", 413)
    else:
        return _error("unsupported_type", 415)
    if not data:
        return _error("missing_image", 400)
    reading = read_card_face_image(data)
    del data
    body = reading.to_json_dict()
    if "message" in body:
        body["message"] = gettext(body["message"])  # in the resident's language
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    # The answer carries the security code: no cache may keep it.
    response["Cache-Control"] = "no-store"
    return response
