"""Fixtures shared by the tests in this folder."""

from __future__ import annotations

# The session-scoped pcscd + vsmartcard-vpcd + demo card (tests/pcsc.py), for every module here
# that asks for it by name: one simulator per test process.
from tests.pcsc import pcsc_sim

__all__ = ["pcsc_sim"]
