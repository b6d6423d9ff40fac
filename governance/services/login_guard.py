"""One throttle for every door that checks a password (issue 16 §3).

Doors: the portal sign-in, the admin sign-in, the browsable API's sign-in, the token endpoint and
the e-signature password re-entry. They all count failures here, in the cache, under one policy:

- per **username and address**: ``CRUCIBLE_LOGIN_MAX_FAILURES`` failures within the window lock that
  pair out (a user is not locked out everywhere by someone else guessing from elsewhere);
- per **address**: ``CRUCIBLE_LOGIN_MAX_FAILURES_PER_ADDRESS`` failures at any door, for any
  username, lock the address out of every door (password spraying, username guessing);
- per **signer** (e-signatures): the signer is already signed in, so the account itself is what is
  guessed: ``CRUCIBLE_LOGIN_MAX_FAILURES`` wrong passwords lock that user out of signing, from any
  address.

A lock lasts until the window (``CRUCIBLE_LOGIN_LOCKOUT_SECONDS``, counted from the first failure)
has passed; while locked even the right password is refused. A success clears the pair's (or the
signer's) counter, never the address's: one valid account must not reset a spraying address.

Audit, bounded (the audit trail is append-only and hash-chained, so a row can never be updated
with a count; bounds come from writing at most a few rows per key and window instead):
- a failure for an existing username is one ``auth.login_failed`` row each (at most N per pair and
  window, then ``auth.locked_out``);
- failures for unknown usernames are aggregated per address: one ``auth.login_failed_unknown_user``
  row at the first failure of a window (carrying the previous window's count) and the count again in
  ``auth.address_locked``; the typed username is never stored (people type passwords into it);
- a refusal while locked is written once per locked key and window (``auth.login_refused``).
So one address writes at most ``address limit + 3`` rows per window whatever it sends.

The counters live in Django's cache: with several web processes set CACHE_URL (Redis) so that they
share them. The address is ``REMOTE_ADDR``, or, behind ``CRUCIBLE_TRUSTED_PROXIES`` proxies that
append to X-Forwarded-For, the entry the outermost trusted proxy wrote (the client cannot forge it).
"""

from __future__ import annotations

import contextvars
import hashlib
import ipaddress
import time
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction

from governance.errors import ApplicationError, Forbidden
from governance.services.audit import audit_record

DOORS = ("portal", "admin", "api-auth", "token", "signature")
# What the previous window's unknown-username count is kept for (to be written with the next window).
_LAST_COUNT_SECONDS = 7 * 24 * 3600

_address: contextvars.ContextVar[str] = contextvars.ContextVar("crucible_client_address", default="")


class LockedOut(ApplicationError):
    """Too many failed attempts: 429 with the seconds to wait."""

    status_code = 429
    default_code = "locked_out"

    def __init__(self, message: str, *, retry_after: int, details=None) -> None:
        super().__init__(message, details={"retry_after_seconds": retry_after} | (details or {}))
        self.retry_after = retry_after


# ---- policy -------------------------------------------------------------------------------------

def max_failures() -> int:
    return int(getattr(settings, "CRUCIBLE_LOGIN_MAX_FAILURES", 5))


def address_max_failures() -> int:
    return int(getattr(settings, "CRUCIBLE_LOGIN_MAX_FAILURES_PER_ADDRESS", 20))


def window_seconds() -> int:
    return int(getattr(settings, "CRUCIBLE_LOGIN_LOCKOUT_SECONDS", 15 * 60))


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, or the X-Forwarded-For entry appended by the outermost of
    ``CRUCIBLE_TRUSTED_PROXIES`` proxies (entries further left are whatever the client sent)."""
    proxies = int(getattr(settings, "CRUCIBLE_TRUSTED_PROXIES", 0))
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            candidate = forwarded[-proxies]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass
    return request.META.get("REMOTE_ADDR", "") or "unknown"


@contextmanager
def address_bound(address: str):
    """Make ``address`` the current request's address for services that have no request (e-signatures)."""
    token = _address.set(address)
    try:
        yield
    finally:
        _address.reset(token)


def current_address() -> str:
    return _address.get()


# ---- counters -----------------------------------------------------------------------------------

def _key(kind: str, *parts) -> str:
    digest = hashlib.sha256("\x00".join(str(p) for p in parts).encode()).hexdigest()
    return f"login-guard:{kind}:{digest}"


def _pair_key(username: str, address: str) -> str:
    return _key("pair", username.strip().lower(), address)


def _address_key(address: str) -> str:
    return _key("address", address)


def _signer_key(user) -> str:
    return _key("signer", user.pk)


def _count(key: str) -> int:
    """One more failure under ``key``; the window starts at the first failure and is not extended."""
    if cache.add(key, 0, timeout=window_seconds()):
        cache.set(key + ":since", time.time(), timeout=window_seconds())
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window_seconds())
        cache.set(key + ":since", time.time(), timeout=window_seconds())
        return 1


def _failures(key: str) -> int:
    return int(cache.get(key, 0))


def _retry_after(key: str) -> int:
    since = cache.get(key + ":since")
    if since is None:
        return window_seconds()
    return max(1, int(window_seconds() - (time.time() - float(since))) + 1)


def _locked_key(username: str, address: str) -> str | None:
    """The key whose count locks this attempt out, if any."""
    if _failures(_pair_key(username, address)) >= max_failures():
        return _pair_key(username, address)
    if _failures(_address_key(address)) >= address_max_failures():
        return _address_key(address)
    return None


def _minutes(seconds: int) -> int:
    return max(1, -(-seconds // 60))


# ---- audit --------------------------------------------------------------------------------------

def _audit(action: str, *, object_type: str, object_id: str, actor=None, **after) -> None:
    with transaction.atomic():
        audit_record(actor=actor, action=action, object_type=object_type, object_id=(object_id or "?")[:100],
                     after=after, reason="sign-in")


def _is_known(username: str) -> bool:
    model = get_user_model()
    return bool(username) and model._default_manager.filter(**{model.USERNAME_FIELD: username}).exists()


# ---- the doors that sign people in ---------------------------------------------------------------

def login_check(*, door: str, username: str, address: str) -> None:
    """Raise ``LockedOut`` if this username from this address, or this address, is locked out.

    The first refusal per locked key and window is audited; later ones are not (bounded)."""
    key = _locked_key(username, address)
    if key is None:
        return
    retry = _retry_after(key)
    by_address = key == _address_key(address)
    if cache.add(key + ":refused", 1, timeout=retry):
        known = not by_address and _is_known(username)
        _audit("auth.login_refused", object_type="user" if known else "address",
               object_id=username.strip() if known else address, address=address, door=door,
               reason="address locked out" if by_address else "locked out", retry_after_seconds=retry,
               later_refusals_in_window="not written")
    scope = "from your address" if by_address else "for this user from your address"
    raise LockedOut(f"Too many failed sign-ins {scope}. Try again in {_minutes(retry)} minutes.",
                    retry_after=retry)


def login_failed(*, door: str, username: str, address: str) -> int:
    """Count a failed password check; returns the pair's failure count. Audited, bounded."""
    username = username or ""
    pair = _count(_pair_key(username, address))
    at_address = _count(_address_key(address))
    if _is_known(username):
        _audit("auth.login_failed", object_type="user", object_id=username.strip(), address=address, door=door,
               failures=pair)
        if pair == max_failures():
            _audit("auth.locked_out", object_type="user", object_id=username.strip(), address=address, door=door,
                   failures=pair, seconds=window_seconds())
    else:
        anonymous_key = _key("unknown", address)
        previous = cache.get(anonymous_key + ":last")
        unknown = _count(anonymous_key)
        cache.set(anonymous_key + ":last", unknown, timeout=_LAST_COUNT_SECONDS)
        if unknown == 1:
            _audit("auth.login_failed_unknown_user", object_type="address", object_id=address, address=address,
                   door=door, failures_in_window=1, window_seconds=window_seconds(),
                   previous_window_failures=previous,
                   aggregated="later failures for unknown usernames from this address in this window are "
                              "counted, and written with the address lock-out or the next window's first row")
    if at_address == address_max_failures():
        _audit("auth.address_locked", object_type="address", object_id=address, address=address, door=door,
               failures=at_address, unknown_user_failures=_failures(_key("unknown", address)),
               seconds=window_seconds())
    return pair


def login_succeeded(*, door: str, user, address: str) -> None:
    """The password was right: clear the pair's counter (not the address's) and audit the sign-in."""
    cache.delete_many([_pair_key(user.get_username(), address), _pair_key(user.get_username(), address) + ":since"])
    with transaction.atomic():
        audit_record(actor=user, action="auth.login", object_type="user", object_id=user.pk,
                     after={"address": address, "door": door})


# ---- e-signature password re-entry ---------------------------------------------------------------

def signature_password_check(*, actor, password: str) -> None:
    """Check a signer's password under the same policy: per signer (any address) and per address.

    Raises ``Forbidden(code="signature_refused")`` for a wrong password and while locked (the
    workflow audits every ``signature_refused`` after its transaction rolls back). Called inside the
    signing transaction, so it writes no audit row itself: those would roll back with it."""
    signer = _signer_key(actor)
    address = current_address()
    locked = signer if _failures(signer) >= max_failures() else None
    if locked is None and address and _failures(_address_key(address)) >= address_max_failures():
        locked = _address_key(address)
    if locked is not None:
        retry = _retry_after(locked)
        raise Forbidden(
            f"signature refused: too many wrong passwords; signing is locked for {_minutes(retry)} more minutes",
            code="signature_refused", details={"locked": True, "retry_after_seconds": retry},
        )
    if not actor.check_password(password):
        failures = _count(signer)
        if address:
            _count(_address_key(address))
        raise Forbidden("signature refused: the password is not correct", code="signature_refused",
                        details={"failures": failures, "locked": failures >= max_failures()})
    cache.delete_many([signer, signer + ":since"])
