"""Throttling sign-in: after N failures for one username from one address within M minutes,
further attempts are refused until the window has passed (counted in the cache).

Every failure, every refusal and the moment of lock-out are written to the audit trail, like the
refused e-signatures in ``governance.services.workflow``.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from governance.services.audit import audit_record


def max_failures() -> int:
    return int(getattr(settings, "CRUCIBLE_LOGIN_MAX_FAILURES", 5))


def window_seconds() -> int:
    return int(getattr(settings, "CRUCIBLE_LOGIN_LOCKOUT_SECONDS", 15 * 60))


def client_address(request) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted proxy rewrites it,
    # and a proxy that does should set REMOTE_ADDR itself.
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _key(username: str, address: str) -> str:
    digest = hashlib.sha256(f"{username.strip().lower()}\x00{address}".encode()).hexdigest()
    return f"portal:login-failures:{digest}"


def failures(username: str, address: str) -> int:
    return int(cache.get(_key(username, address), 0))


def is_locked(username: str, address: str) -> bool:
    return failures(username, address) >= max_failures()


def _audit(action: str, username: str, address: str, **after) -> None:
    with transaction.atomic():
        audit_record(actor=None, action=action, object_type="user", object_id=(username.strip() or "?")[:100],
                     after={"address": address, **after}, reason="sign-in")


def record_failure(username: str, address: str) -> int:
    key = _key(username, address)
    # add() then incr(): the window starts at the first failure and is not extended by later ones.
    cache.add(key, 0, timeout=window_seconds())
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window_seconds())
        count = 1
    _audit("auth.login_failed", username, address, failures=count)
    if count == max_failures():
        _audit("auth.locked_out", username, address, failures=count, seconds=window_seconds())
    return count


def record_refusal(username: str, address: str) -> None:
    _audit("auth.login_refused", username, address, reason="locked out")


def clear(username: str, address: str) -> None:
    cache.delete(_key(username, address))
