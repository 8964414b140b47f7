"""`/healthz` and `/readyz` as a probe sees them: all answering, and a backend down."""

from __future__ import annotations

import copy
import socket
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client, override_settings

from webapp import health


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def broken_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaseDatabaseWrapper]:
    """A real connection of the configured engine to a database that cannot be reached."""
    default = connections[DEFAULT_DB_ALIAS]
    # A copy of the settings: create_connection() would share (and we would damage) the real ones.
    wrapper = type(default)(copy.deepcopy(default.settings_dict), "broken")
    if wrapper.vendor == "sqlite":
        missing = tmp_path_factory.mktemp("gone") / "no-such-dir" / "db.sqlite3"
        wrapper.settings_dict["NAME"] = str(missing)
    else:
        wrapper.settings_dict.update({"HOST": "127.0.0.1", "PORT": str(closed_port())})
    yield wrapper
    wrapper.close()


def test_healthz_answers_without_touching_anything_else() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


@override_settings(SECURE_SSL_REDIRECT=True, ALLOWED_HOSTS=["reset.example.jp"])
def test_a_probe_of_one_worker_is_neither_redirected_nor_refused_for_its_host() -> None:
    # systemd or nginx asks the worker directly, on plain HTTP, by its loopback address.
    response = Client().get("/healthz", HTTP_HOST="127.0.0.1:8001")
    assert response.status_code == 200
    # Everything else still goes through the host check and the redirect.
    assert Client().get("/", HTTP_HOST="127.0.0.1:8001").status_code == 400
    assert Client().get("/guide/", HTTP_HOST="reset.example.jp").status_code == 301


def test_only_get_and_head_of_the_exact_paths_are_probes() -> None:
    client = Client()
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code != 200
    assert client.get("/healthz/").status_code == 404
    assert client.get("/readyz/extra").status_code == 404


@pytest.mark.django_db
@pytest.mark.backends
def test_readyz_is_ok_when_the_database_and_redis_answer() -> None:
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_a_database_that_cannot_be_reached_is_not_ready(
    broken_database: BaseDatabaseWrapper,
) -> None:
    assert health.database_reachable(broken_database) is False
    # The failed connection is dropped, so the next check starts afresh.
    assert broken_database.connection is None


@pytest.mark.django_db
def test_readyz_answers_503_with_a_reason_code_when_the_database_is_down(
    broken_database: BaseDatabaseWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health, "connections", {DEFAULT_DB_ALIAS: broken_database})
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body == {"status": "unavailable", "reasons": ["database_unavailable"]}
    _assert_nothing_leaked(response.content.decode(), broken_database.settings_dict)


@pytest.mark.django_db
def test_readyz_answers_503_when_redis_is_configured_but_down() -> None:
    url = f"redis://:s3cret-redis-password@127.0.0.1:{closed_port()}/5"
    with override_settings(REDIS_URL=url):
        response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "reasons": ["redis_unavailable"]}
    text = response.content.decode()
    assert "s3cret" not in text and "127.0.0.1" not in text and "redis://" not in text


@pytest.mark.django_db
def test_readyz_checks_redis_only_when_it_is_used() -> None:
    with override_settings(REDIS_URL=""):
        assert health.readiness_problems() == []


@pytest.mark.backends
@pytest.mark.skipif(not settings.REDIS_URL, reason="Redis is checked in the backends pass")
def test_a_running_redis_is_reachable() -> None:
    assert health.redis_reachable(settings.REDIS_URL) is True


def _assert_nothing_leaked(text: str, settings_dict: dict[str, object]) -> None:
    for key in ("NAME", "HOST", "PORT", "USER", "PASSWORD"):
        value = str(settings_dict.get(key) or "")
        if len(value) > 2:
            assert value not in text, key
    for word in ("sqlite", "postgres", "OperationalError", "Traceback", "django"):
        assert word not in text.lower()
