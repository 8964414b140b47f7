"""settings' handler500: a resident-facing page in the resident's language, JSON for the card page.

Django's default is a bare English "Server Error (500)", and the card page's fetch() calls would
get HTML where they read a reason code (docs/internal-api.md). A database that cannot be reached
is not a bug of ours but an outage: it answers 503 with Retry-After, and says to try again later.
The pages are rendered without the request's context processors, which may need the database.
"""

from __future__ import annotations

import logging
import sys

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext_lazy

from reset.api_views import JSON_API_VIEWS, view_name

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 60
MESSAGES = {
    "server_error": gettext_lazy(
        "システムでエラーが発生しました。お手数ですが、最初からやり直してください。"
    ),
    "service_unavailable": gettext_lazy(
        "ただいまサービスを利用できません。しばらく時間をおいてから、もう一度お試しください。"
    ),
}


def _outage() -> bool:
    """The exception being handled is the database being unreachable (not a query bug)."""
    exc = sys.exc_info()[1]
    while exc is not None:
        if isinstance(exc, OperationalError | InterfaceError):
            return True
        if isinstance(exc, DatabaseError):
            return False
        exc = exc.__cause__ or exc.__context__
    return False


def server_error(request: HttpRequest) -> HttpResponse:
    outage = _outage()
    status, reason = (503, "service_unavailable") if outage else (500, "server_error")
    logger.error("request failed with %s view=%s", status, view_name(request))
    if view_name(request) in JSON_API_VIEWS:
        response: HttpResponse = JsonResponse(
            {"ok": False, "reason": reason, "message": str(MESSAGES[reason])}, status=status
        )
    else:
        template = loader.get_template(f"{status}.html")
        response = HttpResponse(template.render({"home": "/"}), status=status)
    if outage:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)  # RFC 9110 §10.2.3
    response["Cache-Control"] = "no-store"
    return response
