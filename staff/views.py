"""Staff console pages: login with two factors, logout, and the console home."""

from __future__ import annotations

import logging
import time

import django_otp
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from reservations.audit_log import AuditAction, AuditRecord
from staff.access import clerk_required
from staff.idle import LAST_SEEN_KEY
from staff.login_form import StaffLoginForm
from staff.roles import is_supervisor

logger = logging.getLogger(__name__)


def _next_url(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse("staff:home")


@never_cache
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    form = StaffLoginForm(request, data=request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        assert form.user is not None and form.device is not None  # noqa: S101 (set by clean)
        auth_login(request, form.user)
        django_otp.login(request, form.device)
        request.session[LAST_SEEN_KEY] = time.time()
        AuditRecord.append(
            actor=form.user.get_username(), action=AuditAction.STAFF_LOGIN, result="ok"
        )
        logger.info("staff login with second factor")
        return HttpResponseRedirect(_next_url(request))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "staff/login.html",
        {"form": form, "next": _next_url(request)},
        status=status,
    )


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    return redirect("staff:login")


@clerk_required
@never_cache
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "staff/home.html", {"is_supervisor": is_supervisor(request.user)})
