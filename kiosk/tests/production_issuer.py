"""A production-shaped issuer for the settings tests: configured by dotted path, holding a fixed
test key. It stands in for the HSM-backed backend a real deployment plugs in."""

from __future__ import annotations

from kiosk.issuer import SimulatedIssuer


class FixedKeyIssuer(SimulatedIssuer):
    """Not an HSM: a fixed, public test key. Never use outside tests."""

    name = "fixed-key-test-issuer"

    def __init__(self) -> None:
        super().__init__(bytes(range(32)))
