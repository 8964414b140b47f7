"""Kiosk mode: the bridge relays the issuer channel's APDUs, and nothing else, opaquely."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bridge.simulated import SimulatedBackend
from bridge.tests.helpers import CLIENT_LOGGER, DEV_ORIGIN, Client, start_bridge
from mynacard.evidence import card_identity
from mynacard.issuer import IssuerChannel, derive_card_keys
from mynacard.pins import PinKind
from mynacard.sim.pki import issuer_master_key
from mynacard.targets import TargetPassword


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def _session(kiosk: bool) -> AsyncIterator[tuple[Client, SimulatedBackend]]:
    from websockets.asyncio.client import connect

    backend = SimulatedBackend()
    server = await start_bridge(backend, kiosk=kiosk)
    try:
        url = f"ws://127.0.0.1:{server.port}/"
        async with connect(url, origin=DEV_ORIGIN, logger=CLIENT_LOGGER) as ws:  # type: ignore[arg-type]
            page = Client(ws)
            await page.hello()
            yield page, backend
    finally:
        await server.close()


@pytest.fixture
async def kiosk() -> AsyncIterator[tuple[Client, SimulatedBackend]]:
    async for pair in _session(True):
        yield pair


@pytest.fixture
async def desktop() -> AsyncIterator[tuple[Client, SimulatedBackend]]:
    async for pair in _session(False):
        yield pair


async def _relay(page: Client, apdu: bytes) -> tuple[bytes, int]:
    reply = await page.call("RELAY_APDU", "APDU", apdu=_b64(apdu))
    assert reply["ok"], reply
    return base64.b64decode(reply["response"]), int(reply["sw"], 16)


async def test_a_whole_reset_goes_through_the_relay(
    kiosk: tuple[Client, SimulatedBackend],
) -> None:
    page, backend = kiosk
    from cryptography import x509

    reply = await page.call("GET_AUTH_CERTIFICATE", "AUTH_CERTIFICATE")
    identity = card_identity(x509.load_der_x509_certificate(base64.b64decode(reply["certificate"])))
    assert identity == backend.card.identity
    channel = IssuerChannel(derive_card_keys(issuer_master_key(), identity))
    await _relay(page, channel.select())
    host = channel.authenticate(*await _relay(page, channel.initialize()))
    channel.check_authenticated((await _relay(page, host))[1])
    seen: list[dict[str, Any]] = []
    command = channel.reset_password(TargetPassword.AUTH, "7391")
    assert b"7391" not in command  # the relay only ever sees ciphertext
    channel.check_reset(*await _relay(page, command))
    seen.extend(page.received)
    assert backend.card.tries_left(PinKind.JPKI_AUTH) == 3
    assert all("7391" not in str(message) for message in seen)


@pytest.mark.parametrize(
    "apdu",
    [
        bytes.fromhex("0020008004") + b"2580",  # VERIFY
        bytes.fromhex("00A4020C02000A"),  # SELECT EF
        bytes.fromhex("802A008001AA00"),  # COMPUTE DIGITAL SIGNATURE
        bytes.fromhex("0024018004") + b"1111",  # CHANGE REFERENCE DATA
    ],
)
async def test_anything_but_the_issuer_channel_is_refused_before_the_card(
    kiosk: tuple[Client, SimulatedBackend], apdu: bytes
) -> None:
    page, backend = kiosk
    sent: list[bytes] = []
    backend.before_apdu = sent.append
    reply = await page.call("RELAY_APDU", "APDU", apdu=_b64(apdu))
    assert reply["ok"] is False and reply["reason"] == "BAD_ARGUMENT"
    assert sent == []


async def test_without_kiosk_mode_the_relay_does_not_exist(
    desktop: tuple[Client, SimulatedBackend],
) -> None:
    page, _ = desktop
    for cmd in ("RELAY_APDU", "GET_AUTH_CERTIFICATE"):
        reply = await page.call(cmd, apdu=_b64(bytes.fromhex("80500000")))
        assert reply["msg"] == "UNKNOWN_COMMAND"
