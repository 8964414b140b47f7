"""The trust anchors evidence is checked against, loaded once per process and cached.

"sim" selects the simulator's test PKI (development and tests); anything else names a directory of
J-LIS roots and CV CA keys (architecture.md, "Production trust anchors").
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from mynacard.evidence import TrustAnchors

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_cache: dict[str, TrustAnchors] = {}


def trust_anchors() -> TrustAnchors:
    """The configured anchors; loading happens once per configured value."""
    source = str(settings.MYNA_TRUST_ANCHORS)
    with _lock:
        cached = _cache.get(source)
        if cached is not None:
            return cached
        if source == "sim":
            from mynacard.sim import sim_trust_anchors

            anchors = sim_trust_anchors()
        else:
            from mynacard.evidence import load_trust_anchors

            anchors = load_trust_anchors(Path(source))
        _cache[source] = anchors
        logger.info("trust anchors loaded source=%s", "sim" if source == "sim" else "directory")
        return anchors


def forget() -> None:
    """Drop the cache (tests that change MYNA_TRUST_ANCHORS)."""
    with _lock:
        _cache.clear()
