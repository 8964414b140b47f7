"""Staff sessions end after inactivity (issue 12, staff accounts).

Every request of a logged-in user stamps the session; a request that comes more than
MYNA_STAFF_IDLE_SECONDS after the previous one logs the user out first, so an unattended counter
terminal does not stay signed in. Resident pages never log anyone in, so this touches only staff
(and admin) sessions.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

#: Session key of the last request's time (seconds since the epoch).
LAST_SEEN_KEY = "staff_last_seen"


class StaffIdleTimeoutMiddleware:
    """Logs out a user whose previous request is older than the idle limit."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            last = request.session.get(LAST_SEEN_KEY)
            limit = int(settings.MYNA_STAFF_IDLE_SECONDS)
            if isinstance(last, int | float) and now - last > limit:
                logger.info("staff session ended after inactivity")
                logout(request)
            else:
                request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)
