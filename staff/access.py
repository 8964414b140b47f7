"""Who may open a staff page: the one decorator/mixin pair every staff view uses.

A staff page needs a logged-in user whose session passed the second factor (django-otp's
`is_verified`) and who belongs to the right group (staff/roles.py). Anyone not logged in with
both factors is sent to the staff login; a logged-in user without the role gets 403.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from staff.roles import is_clerk, is_supervisor

logger = logging.getLogger(__name__)

View = Callable[..., HttpResponse]


def _two_factor_user(request: HttpRequest) -> bool:
    user = request.user
    verified = getattr(user, "is_verified", None)
    return bool(user.is_authenticated and callable(verified) and verified())


def _guard(request: HttpRequest, allowed: Callable[[Any], bool]) -> HttpResponse | None:
    """None if the request may go on; otherwise the login redirect, or PermissionDenied."""
    if not _two_factor_user(request):
        return redirect_to_login(request.get_full_path(), reverse("staff:login"))
    if not allowed(request.user):
        logger.info("staff page refused for lack of role path=%s", request.path)
        raise PermissionDenied
    return None


class RoleRequired:
    """A view decorator for one role; remembers what it wrapped so tests can find those views."""

    def __init__(self, allowed: Callable[[Any], bool]) -> None:
        self.allowed = allowed
        self.views: set[View] = set()

    def __call__(self, view: View) -> View:
        allowed = self.allowed

        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            refused = _guard(request, allowed)
            return refused if refused is not None else view(request, *args, **kwargs)

        self.views.add(wrapped)
        return wrapped


#: Counter pages: clerks and supervisors, logged in with both factors.
clerk_required = RoleRequired(is_clerk)
#: Supervisor pages (the audit log): supervisors only.
supervisor_required = RoleRequired(is_supervisor)


def requires_supervisor(view: Callable[..., Any]) -> bool:
    """True for a view (function or as_view() result) that only supervisors may open."""
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        return issubclass(view_class, SupervisorRequiredMixin)
    return view in supervisor_required.views


class ClerkRequiredMixin:
    """The class-based form of `clerk_required`."""

    allowed: Callable[[Any], bool] = staticmethod(is_clerk)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refused = _guard(request, type(self).allowed)
        if refused is not None:
            return refused
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class SupervisorRequiredMixin(ClerkRequiredMixin):
    """The class-based form of `supervisor_required`."""

    allowed = staticmethod(is_supervisor)
