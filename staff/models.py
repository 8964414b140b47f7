"""Staff models: the assisted booking session (staff/assisted_session.py)."""

from __future__ import annotations

from staff.assisted_session import AssistedSession  # noqa: F401
