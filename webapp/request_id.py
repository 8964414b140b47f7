"""One request ID per HTTP request or WebSocket connection, in every log line it causes.

Behind the proxy (deploy/nginx.conf sets `X-Request-ID: $request_id`) the proxy's ID is kept, so
one grep joins nginx's access log and the workers' logs. The header is believed only when the
deployment says a proxy sets it (MYNA_TRUST_REQUEST_ID, on by default with BEHIND_TLS_PROXY) and
only in a plain token form: anyone can send the header, and a free-form value would let a client
forge or garble log lines. Otherwise a fresh random ID is made here.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

HEADER = "X-Request-ID"
PROBE_PATHS = frozenset({"/healthz", "/readyz"})  # webapp/health.py
_ASGI_HEADER = HEADER.lower().encode("latin-1")
_TOKEN = re.compile(r"[A-Za-z0-9._:-]{8,64}")

#: The ID of the request or connection this code runs for; "-" outside one (start-up, commands).
current: ContextVar[str] = ContextVar("request_id", default="-")


def adopt(value: str) -> None:
    """Make `value` the current ID of this thread's context: for a worker process (faceverify/
    worker_process.py) doing work for the connection the server names with each request."""
    current.set(value)


def new_id() -> str:
    return uuid.uuid4().hex


def choose(offered: str | None, *, trusted: bool) -> str:
    """The proxy's ID when it may be believed and is a plain token; a fresh one otherwise."""
    if trusted and offered and _TOKEN.fullmatch(offered):
        return offered
    return new_id()


def trusted() -> bool:
    return bool(settings.MYNA_TRUST_REQUEST_ID)


class RequestIdMiddleware:
    """Sets the ID for the request, echoes it in the response and logs one line per request.

    The line names the method, the path (never the query string, which could carry a value), the
    status and the time taken.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = choose(request.headers.get(HEADER), trusted=trusted())
        token = current.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[HEADER] = request_id
            # A monitor probes every few seconds per worker: a healthy answer is not news.
            quiet = request.path in PROBE_PATHS and response.status_code == 200
            logger.log(
                logging.DEBUG if quiet else logging.INFO,
                "request finished method=%s path=%s status=%d duration_ms=%.1f",
                request.method,
                request.path,
                response.status_code,
                (time.perf_counter() - started) * 1000,
            )
            return response
        finally:
            current.reset(token)


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    headers: Iterable[tuple[bytes, bytes]] = scope.get("headers", [])
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class WebSocketRequestIdMiddleware:
    """The same for a WebSocket: one ID for the whole connection, set before any consumer runs."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        request_id = choose(_header(scope, _ASGI_HEADER), trusted=trusted())
        token = current.set(request_id)
        try:
            return await self.inner(scope, receive, send)
        finally:
            current.reset(token)
