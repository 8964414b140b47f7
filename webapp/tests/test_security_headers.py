"""Content-Security-Policy and Permissions-Policy (webapp/security_headers.py)."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from webapp.security_headers import bridge_origin

pytestmark = [pytest.mark.django_db]


def _directives(policy: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


@override_settings(MYNA_BRIDGE_URL="ws://127.0.0.1:9581/", MYNA_PUBLIC_ORIGIN="")
def test_pages_may_reach_only_the_site_its_socket_and_the_bridge(client: Client) -> None:
    response = client.get("/help/")
    policy = _directives(response["Content-Security-Policy"])
    assert policy["connect-src"] == ["'self'", "ws://testserver", "ws://127.0.0.1:9581"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert response["Permissions-Policy"].startswith("camera=(self), microphone=()")


@override_settings(MYNA_PUBLIC_ORIGIN="https://reset.example.jp")
def test_the_socket_source_follows_the_public_origin(client: Client) -> None:
    policy = _directives(client.get("/").headers["Content-Security-Policy"])
    assert "wss://reset.example.jp" in policy["connect-src"]


def test_a_refused_host_still_gets_its_400(client: Client) -> None:
    response = client.get("/", headers={"host": "evil.example"})
    assert response.status_code == 400
    assert "ws://evil.example" not in response.get("Content-Security-Policy", "")


def test_json_and_the_admin_are_left_alone(client: Client) -> None:
    assert "Content-Security-Policy" not in client.post("/reset/nonce/")
    assert "Content-Security-Policy" not in client.get("/admin/login/")


@pytest.mark.parametrize(
    "url,origin",
    [
        ("ws://127.0.0.1:9581/", "ws://127.0.0.1:9581"),
        ("wss://LOCALHOST:9581/x", "wss://localhost:9581"),
        ("http://127.0.0.1:9581/", ""),
        ("ws://user@127.0.0.1:9581/", ""),
    ],
)
def test_bridge_origin(url: str, origin: str) -> None:
    assert bridge_origin(url) == origin
