"""Serves the card helper downloads listed in the build's manifest (reset/helper_downloads.py)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from reset.helper_downloads import resolve

logger = logging.getLogger(__name__)

_CONTENT_TYPES = {
    ".deb": "application/vnd.debian.binary-package",
    ".gz": "application/gzip",
    ".zip": "application/zip",
    ".msi": "application/x-msi",
    ".exe": "application/vnd.microsoft.portable-executable",
    ".pkg": "application/octet-stream",
    ".dmg": "application/x-apple-diskimage",
    ".sha256": "text/plain; charset=utf-8",
}


@require_GET
def helper_download(request: HttpRequest, name: str) -> FileResponse:
    path = resolve(settings.MYNA_HELPER_DOWNLOADS_DIR, name)
    if path is None:
        raise Http404("no such helper download")
    logger.info("helper download kind=%s", path.suffix)
    response = FileResponse(
        path.open("rb"),
        as_attachment=path.suffix != ".sha256",
        filename=path.name,
        content_type=_CONTENT_TYPES.get(path.suffix, "application/octet-stream"),
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
