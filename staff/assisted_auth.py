"""Who is at the other end of a staff WebSocket: the same rules as staff/access.py for pages.

A socket has no request, so django-otp's middleware does not run for it; this does its check by
hand on the socket's session: a logged-in, active user whose session holds a confirmed TOTP
device of that same user (django_otp.middleware.OTPMiddleware._finalize_device), in the clerk or
supervisor group, and not idle for longer than MYNA_STAFF_IDLE_SECONDS (staff/idle.py). The
session is read afresh for every check, so a logout or an idle timeout elsewhere ends the
socket's rights at its next action.
"""

from __future__ import annotations

import logging
import time
from importlib import import_module
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.sessions.backends.base import SessionBase
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from reservations.assisted import session_hash as _hash
from staff.idle import LAST_SEEN_KEY
from staff.roles import is_clerk

logger = logging.getLogger(__name__)


def fresh_session(session_key: str | None) -> SessionBase | None:
    if not session_key:
        return None
    store: type[SessionBase] = import_module(settings.SESSION_ENGINE).SessionStore
    session = store(session_key=session_key)
    return session if session.exists(session_key) else None


def verified_clerk(session_key: str | None, *, touch: bool = False) -> Any | None:
    """The clerk logged in with both factors on this session, or None.

    `touch` counts the call as the clerk's activity (an action, not passive watching).
    """
    session = fresh_session(session_key)
    if session is None:
        return None
    user = get_user(SimpleNamespace(session=session))
    if not user.is_authenticated or not is_clerk(user):
        return None
    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    device = Device.from_persistent_id(persistent_id) if isinstance(persistent_id, str) else None
    if device is None or device.user_id != user.pk or not device.confirmed:
        logger.info("staff socket refused: no second factor on this session")
        return None
    last = session.get(LAST_SEEN_KEY)
    now = time.time()
    if not isinstance(last, int | float) or now - last > int(settings.MYNA_STAFF_IDLE_SECONDS):
        logger.info("staff socket refused: session idle")
        return None
    if touch:
        session[LAST_SEEN_KEY] = now
        session.save()
    return user


def session_hash(session_key: str | None) -> str:
    return _hash(session_key) if session_key else ""
