"""Who resets the password: an `IssuerBackend` opens the issuer channel to one card.

The kiosk (and, next, the staff console's counter resets) never holds issuer keys itself: it asks
the configured backend for a channel to the card named by its identity and relays the channel's
APDUs (docs/issuer-channel.md). Authorising the reset — a kiosk reservation, or a clerk's
in-person check — is the caller's business; the channel is the same.

- ``simulated`` (default): OUR stand-in issuer. The master key comes from
  ``MYNA_ISSUER_MASTER_KEY`` or, when empty, from the card simulator's development key (so
  simulated cards and the development server agree without any set-up). It only ever resets
  simulated cards.
- a dotted path to your own subclass: what production must plug in. A real deployment needs the
  issuer's key held in an HSM (the derivation runs inside it; the key never reaches this process)
  and the channel J-LIS defines for the real card; neither is public. ``webapp/settings.py``
  refuses to start in production with the simulated backend.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from mynacard.issuer import IssuerChannel, derive_card_keys

logger = logging.getLogger(__name__)


class IssuerBackend(ABC):
    """Opens the issuer channel to one card; holds (or reaches) the issuer's keys."""

    #: Shown in logs and the kiosk's diagnostics; never a secret.
    name: str = "issuer"

    @abstractmethod
    def open_channel(self, card_identity: str) -> IssuerChannel:
        """A fresh channel to the card whose identity (64 hex) the kiosk checked."""


class SimulatedIssuer(IssuerBackend):
    """Our stand-in issuer: per-card keys derived in this process from a master key."""

    name = "simulated"

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ImproperlyConfigured("the simulated issuer's master key must be 32 bytes")
        self._master_key = master_key

    def __repr__(self) -> str:
        return "SimulatedIssuer(<key>)"

    def open_channel(self, card_identity: str) -> IssuerChannel:
        return IssuerChannel(derive_card_keys(self._master_key, card_identity))


class ProductionIssuerSlot(IssuerBackend):
    """The place a real issuer goes. It cannot be used as it is: subclass it (or IssuerBackend)
    with an HSM-held issuer key and J-LIS's channel for the real card, and name your class in
    ``MYNA_ISSUER_BACKEND``."""

    name = "production-slot"

    def __init__(self) -> None:
        raise ImproperlyConfigured(
            "No production issuer is configured: MYNA_ISSUER_BACKEND must name an IssuerBackend "
            "that uses an HSM-held issuer key and J-LIS's channel (docs/issuer-channel.md)."
        )

    def open_channel(self, card_identity: str) -> IssuerChannel:  # pragma: no cover
        raise NotImplementedError


def _simulated_master_key() -> bytes:
    configured = str(settings.MYNA_ISSUER_MASTER_KEY)
    if configured:
        return bytes.fromhex(configured)
    from mynacard.sim.pki import issuer_master_key

    return issuer_master_key()


@lru_cache(maxsize=1)
def issuer_backend() -> IssuerBackend:
    """The configured backend (built once per process)."""
    choice = str(settings.MYNA_ISSUER_BACKEND)
    if choice == "simulated":
        backend: IssuerBackend = SimulatedIssuer(_simulated_master_key())
    else:
        try:
            cls = import_string(choice)
        except ImportError as exc:
            raise ImproperlyConfigured(f"MYNA_ISSUER_BACKEND: cannot import {choice}") from exc
        if not (isinstance(cls, type) and issubclass(cls, IssuerBackend)):
            raise ImproperlyConfigured(f"MYNA_ISSUER_BACKEND: {choice} is not an IssuerBackend")
        backend = cls()
    logger.info("issuer backend ready name=%s", backend.name)
    return backend
