"""Shared fixtures: users holding each role, API clients authenticated as them."""

from __future__ import annotations

import os

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from governance import roles

PASSWORD = "correct horse battery staple"


@pytest.fixture
def make_user(db):
    def make(username: str, *role_names: str) -> User:
        user = User.objects.create_user(username=username, password=PASSWORD)
        for name in role_names:
            user.groups.add(Group.objects.get(name=name))
        return user

    return make


@pytest.fixture
def developer(make_user):
    return make_user("dev", roles.DEVELOPER)


@pytest.fixture
def validator(make_user):
    return make_user("val", roles.VALIDATOR)


@pytest.fixture
def approver(make_user):
    return make_user("app", roles.APPROVER)


@pytest.fixture
def auditor(make_user):
    return make_user("aud", roles.AUDITOR)


@pytest.fixture
def api():
    def client_for(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return client_for


@pytest.fixture(scope="session")
def redis_url() -> str:
    # 'make test' sets it; the default is the local Redis, database 15 (kept apart from dev work).
    return os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
