"""The counter reset a clerk has authorised but not yet opened, kept in the clerk's session.

The console's form records the identity check and leaves a few primitives in the session (hc's
multi-step pattern: an ID, a timestamp, a maximum age). The console's WebSocket claims them once
(:func:`claim`), after checking the same things a staff page checks — a verified second factor,
the clerk role, an unexpired idle timer — because a socket does not pass through the staff
middleware. A reloaded page or a second socket finds nothing to claim.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.sessions.backends.base import SessionBase
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from staff.idle import LAST_SEEN_KEY
from staff.roles import is_clerk

logger = logging.getLogger(__name__)

PENDING_KEY = "staff_counter_reset"
#: From the clerk's form to the console's socket: a page load, so a minute is plenty; five
#: leave room for a slow terminal without leaving an authorisation lying around.
MAX_AGE_SECONDS = 300


def store(session: SessionBase, *, clerk: str, fields: Mapping[str, str]) -> str:
    """Keep the authorised reset in the session; its public ID (a UUID) names the console page."""
    public_id = str(uuid.uuid4())
    session[PENDING_KEY] = {"id": public_id, "at": time.time(), "clerk": clerk, **fields}
    return public_id


def peek(session: SessionBase, public_id: str) -> dict[str, Any] | None:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or pending.get("id") != public_id:
        return None
    if time.time() - float(pending.get("at", 0)) > MAX_AGE_SECONDS:
        return None
    return pending


def verified_clerk(session: SessionBase) -> Any | None:
    """The session's user if it passed both factors, is a clerk, and is not idle; else None."""
    user = get_user(SimpleNamespace(session=session))
    if not user.is_authenticated or not is_clerk(user):
        return None
    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    device = Device.from_persistent_id(persistent_id) if persistent_id else None
    if device is None or device.user_id != user.pk or not device.confirmed:
        return None
    last = session.get(LAST_SEEN_KEY)
    if not isinstance(last, int | float) or time.time() - last > int(
        settings.MYNA_STAFF_IDLE_SECONDS
    ):
        return None
    return user


def claim(session: SessionBase | None, public_id: str) -> dict[str, Any] | None:
    """Take the pending reset out of the session (once), if a verified clerk's session holds it."""
    user = verified_clerk(session) if session is not None else None
    if session is None or user is None:
        logger.info("counter reset socket refused: not a verified clerk")
        return None
    pending = peek(session, public_id)
    if pending is None or pending.get("clerk") != user.get_username():
        return None
    del session[PENDING_KEY]
    session.save()
    return pending
