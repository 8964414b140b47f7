"""`/healthz` (the process answers) and `/readyz` (its database and Redis answer), site-wide.

A middleware placed first, not a view, because a probe talks to one worker directly
(`curl http://127.0.0.1:8001/readyz` from systemd, nginx or a load balancer): it must not be
redirected to HTTPS, nor refused because the worker's own address is not in ALLOWED_HOSTS, and it
needs no session, locale or CSRF work. Only GET and HEAD of the two exact paths are answered here;
everything else passes on untouched.

The answers carry stable reason codes and nothing else: no host names, ports, versions or
exception texts, which would tell a stranger how the deployment is built. The cause goes to the
log as an exception class name (docs/deployment.md, "health checks").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum, unique

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
#: A probe must answer quickly even when a backend hangs instead of refusing.
REDIS_TIMEOUT_SECONDS = 2.0


@unique
class NotReady(StrEnum):
    """Why a worker is not ready; the value is what `/readyz` answers in `reasons`."""

    DATABASE = "database_unavailable"
    REDIS = "redis_unavailable"


def database_reachable(connection: BaseDatabaseWrapper) -> bool:
    """One round trip on this thread's connection; a broken one is closed so the next probe
    (and the next request) opens a fresh one instead of failing on the dead socket forever."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", the class is logged
        logger.warning("readiness: database check failed error=%s", type(exc).__name__)
        if not connection.in_atomic_block:
            connection.close()
        return False
    return True


def redis_reachable(url: str) -> bool:
    """PING on a short-lived connection with a short timeout (channels_redis keeps its own pool)."""
    import redis

    client = redis.Redis.from_url(
        url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
    )
    try:
        return bool(client.ping())
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", the class is logged
        logger.warning("readiness: redis check failed error=%s", type(exc).__name__)
        return False
    finally:
        client.close()


def readiness_problems() -> list[NotReady]:
    """Every backend this worker needs that does not answer now (Redis only when configured)."""
    problems: list[NotReady] = []
    if not database_reachable(connections[DEFAULT_DB_ALIAS]):
        problems.append(NotReady.DATABASE)
    redis_url = str(settings.REDIS_URL)
    if redis_url and not redis_reachable(redis_url):
        problems.append(NotReady.REDIS)
    return problems


def _answer(status: int, body: dict[str, object]) -> HttpResponse:
    response = JsonResponse(body, status=status)
    # A cached "ok" would hide an outage from the next probe.
    response["Cache-Control"] = "no-store"
    return response


class HealthCheckMiddleware:
    """Answers the two probe paths before any other middleware looks at the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD") or request.path not in (HEALTH_PATH, READY_PATH):
            return self.get_response(request)
        if request.path == HEALTH_PATH:
            return _answer(200, {"status": "ok"})
        problems = readiness_problems()
        if problems:
            logger.warning("readiness: not ready reasons=%s", ",".join(problems))
            return _answer(503, {"status": "unavailable", "reasons": [str(p) for p in problems]})
        return _answer(200, {"status": "ok"})
