"""The login guard's counters live in the cache: every test starts and ends without them."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def clear_guard_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def staff_user(make_user):
    user = make_user("ops")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user
