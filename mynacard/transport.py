"""The one abstract transport every card connection implements (style.md, yubikit style).

PC/SC (``bridge``), the simulator (``mynacard.sim``) and test fakes implement
:class:`CardConnection`; sessions never know which one they talk to.
"""

from __future__ import annotations

import abc
import logging

logger = logging.getLogger(__name__)

__all__ = ["CardConnection"]


class CardConnection(abc.ABC):
    """A link to one card: send a command APDU, get back (response data, status word)."""

    @abc.abstractmethod
    def send_and_receive(self, apdu: bytes) -> tuple[bytes, int]:
        """Send ``apdu``; return the response data and ``sw = sw1 << 8 | sw2``."""

    def close(self) -> None:  # noqa: B027 - a no-op default is the point: most links hold nothing
        """Release the link (default: nothing to release)."""

    def __enter__(self) -> CardConnection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
