"""Content-Security-Policy and Permissions-Policy for the site's pages.

The pages hold the card-face items and the PIN in script memory (docs/wizard.md), so an injected
script is the one way left to read them: every script is a same-origin ES module and every style a
same-origin file, so the policy can forbid inline code outright. The page talks to three places
only: this site over HTTP(S), `/ws/face/` over WS(S), and the local bridge (MYNA_BRIDGE_URL) —
connect-src names exactly those. The camera is needed by this origin only (face check,
「カメラで読み取る」); every other powerful feature is off.

The admin is left to Django's own headers: it is staff-only, holds no personal data, and its
templates are not ours to keep inline-free.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.utils.deprecation import MiddlewareMixin

logger = logging.getLogger(__name__)

PERMISSIONS_POLICY = (
    "camera=(self), microphone=(), geolocation=(), payment=(), usb=(), display-capture=()"
)
EXEMPT_PREFIXES = ("/admin/",)


def bridge_origin(url: str) -> str:
    """`ws://127.0.0.1:9581/` → `ws://127.0.0.1:9581` (a CSP source is an origin, no path)."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.netloc or "@" in parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc.lower()}"


def socket_origin(request: HttpRequest) -> str:
    """This site's own WebSocket origin (ws:// beside http://, wss:// beside https://)."""
    configured = settings.MYNA_PUBLIC_ORIGIN
    if configured:
        scheme, _, host = configured.partition("://")
    else:
        try:
            host = request.get_host().lower()
        except DisallowedHost:
            return ""  # the 400 page for a bad Host header needs no socket
        scheme = request.scheme
    return f"{'wss' if scheme == 'https' else 'ws'}://{host}"


def content_security_policy(request: HttpRequest) -> str:
    connect = ["'self'", socket_origin(request), bridge_origin(settings.MYNA_BRIDGE_URL)]
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self'",
        "media-src": "'self'",
        "font-src": "'self'",
        "connect-src": " ".join(source for source in connect if source),
        "worker-src": "'self'",
        "manifest-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


class SecurityHeadersMiddleware(MiddlewareMixin):
    """Adds the two policies to every HTML page outside the admin.

    MiddlewareMixin keeps the chain async-capable, so the async card-front view stays async.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        content_type = response.get("Content-Type", "")
        if content_type.startswith("text/html") and not request.path.startswith(EXEMPT_PREFIXES):
            response.setdefault("Content-Security-Policy", content_security_policy(request))
        return response
