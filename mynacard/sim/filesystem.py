"""The static shape of a simulated card: applications, their EFs, PIN keys and signing keys.

Frozen data only; the mutable part (current DF/EF, counters, verified flags) lives in
:class:`mynacard.sim.card.SimulatedCard`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

logger = logging.getLogger(__name__)

__all__ = ["Application", "BinaryEF", "PinKey", "SigningKey", "with_filler"]


def with_filler(content: bytes, size: int | None = None, *, block: int = 256) -> bytes:
    """``content`` followed by ``FF`` filler up to ``size`` (default: the next multiple of
    ``block`` above it). The EF's physical size is larger than its object (§4.5, §11.3)."""
    if size is None:
        size = (len(content) // block + 1) * block
    if size < len(content):
        raise ValueError("EF size smaller than its content")
    return content + b"\xff" * (size - len(content))


@dataclass(frozen=True)
class BinaryEF:
    """A transparent EF; ``opened_by`` is empty for a free file, else any one of these key FIDs
    must be verified to read it (§4.1, §5.1, §6.1 "Opened by")."""

    fid: int
    content: bytes  # physical content, filler included
    opened_by: frozenset[int] = frozenset()

    def __repr__(self) -> str:
        return f"BinaryEF({self.fid:04X}, {len(self.content)} bytes)"


@dataclass(frozen=True)
class PinKey:
    """A key reference compared by VERIFY (§4.3, §4.4); ``max_tries`` None = no limit (63 00)."""

    fid: int
    value: bytes
    max_tries: int | None
    tries_left: int
    kind: str | None = None  # the profile / PinKind name, for the admin reset (§10)

    def __repr__(self) -> str:  # never show the value
        return f"PinKey({self.fid:04X}, kind={self.kind!r}, tries_left={self.tries_left})"


@dataclass(frozen=True)
class SigningKey:
    """A private key used by COMPUTE DIGITAL SIGNATURE; ``needs`` empty = no credential."""

    fid: int
    key: RSAPrivateKey
    needs: frozenset[int] = frozenset()
    own_card_key: bool = False  # answers ``80 2A 00 00`` (P2 = 00, §3 "Sign with an AP's own key")

    def __repr__(self) -> str:
        return f"SigningKey({self.fid:04X})"


@dataclass(frozen=True)
class Application:
    """One DF: its AID, files and keys."""

    name: str
    aid: bytes
    efs: Mapping[int, BinaryEF]
    pins: Mapping[int, PinKey]
    keys: Mapping[int, SigningKey]

    def __repr__(self) -> str:
        return f"Application({self.name!r})"

    def has_fid(self, fid: int) -> bool:
        """True when ``fid`` names an EF, a PIN or a key of this DF (SELECT EF succeeds)."""
        return fid in self.efs or fid in self.pins or fid in self.keys
