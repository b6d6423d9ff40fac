"""The platform's roles. Each is a Django group created by migration 0002_roles."""

from __future__ import annotations

DEVELOPER = "developer"
VALIDATOR = "validator"
APPROVER = "approver"
AUDITOR = "auditor"
ADMIN = "admin"

ALL_ROLES = (DEVELOPER, VALIDATOR, APPROVER, AUDITOR, ADMIN)
# The roles that may ask the platform to produce something (a report, a packet). The auditor reads
# everything and changes nothing, so it is not among them (issue 16 §5).
REQUESTER_ROLES = (DEVELOPER, VALIDATOR, APPROVER, ADMIN)


def user_roles(user) -> set[str]:
    if user is None or not user.is_authenticated:
        return set()
    return set(user.groups.filter(name__in=ALL_ROLES).values_list("name", flat=True))


def has_role(user, role: str) -> bool:
    return user is not None and user.is_authenticated and user.groups.filter(name=role).exists()
