"""The two staff roles, as Django auth groups created by migration 0001.

A supervisor may do everything a clerk may, and also read and export the audit log.
"""

from __future__ import annotations

from enum import StrEnum, unique
from typing import Any


@unique
class StaffRole(StrEnum):
    """The group name of each role (the value is what the database stores)."""

    CLERK = "clerk"
    SUPERVISOR = "supervisor"


def roles_of(user: Any) -> set[StaffRole]:
    """The staff roles of ``user``; empty for anonymous and non-staff users."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    names = set(user.groups.values_list("name", flat=True))
    return {role for role in StaffRole if role.value in names}


def is_clerk(user: Any) -> bool:
    """May use the counter console (clerks and supervisors)."""
    return bool(roles_of(user))


def is_supervisor(user: Any) -> bool:
    return StaffRole.SUPERVISOR in roles_of(user)
