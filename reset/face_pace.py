"""The face check's "take your time" setting (issue 18; WCAG 2.2.1 Timing Adjustable).

The page names a pace; the server decides what it means — a page cannot ask for any other
factor. Only the time to meet each prompt changes (LivenessConfig.with_more_time), never what a
prompt needs, and "slowest" reaches the ten times the default that WCAG's "Adjust" asks for
before any extension. Shared by the consumer (which applies it) and the face page (which names
the seconds before 開始).
"""

from __future__ import annotations

from faceverify.liveness import LivenessConfig

STANDARD = "standard"
TIME_FACTORS: dict[str, float] = {STANDARD: 1.0, "slow": 3.0, "slowest": 10.0}


def pace_seconds() -> dict[str, int]:
    """Seconds per prompt at each pace, for the page to name before 開始."""
    base = LivenessConfig().prompt_timeout
    return {pace: round(base * factor) for pace, factor in TIME_FACTORS.items()}
