"""Shared fixtures: users holding each role, API clients authenticated as them."""

from __future__ import annotations

import os

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from rest_framework.test import APIClient

from governance import roles, signing
from governance.models import AuditChainHead
from governance.models.audit import GENESIS_HASH

PASSWORD = "correct horse battery staple"

# Datasets, models and trained runs used by the scenario, validation and report tests.
pytest_plugins = ["tests.fixtures_scenarios", "tests.fixtures_reports", "tests.workers"]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Django's default PBKDF2 costs ~0.3 s per hash on 2 cores; tests create many users and
    # re-enter passwords for every e-signature. The check is the same code path, only cheaper.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def clear_cache():
    # The sign-in guard counts failures per address in the cache (every test client is 127.0.0.1): each test
    # starts with no failures counted, so one test's wrong passwords never lock another test out.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session")
def artifact_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("artifacts")


@pytest.fixture(autouse=True)
def isolated_artifacts(settings, artifact_dir):
    # Tests write content-addressed artefacts to a temporary store, never into var/.
    settings.ARTIFACT_ROOT = artifact_dir


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


# RFC 8032 test vector 1: a fixed key keeps the tests from writing var/signing_key.pem.
TEST_SEED_HEX = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
TEST_PUBLIC_KEY_HEX = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"


@pytest.fixture(autouse=True)
def platform_key(monkeypatch):
    monkeypatch.setenv(signing.KEY_ENV, TEST_SEED_HEX)
    monkeypatch.delenv(signing.KEY_FILE_ENV, raising=False)
    monkeypatch.delenv(signing.TRUSTED_KEYS_ENV, raising=False)
    return TEST_PUBLIC_KEY_HEX


def restore_migration_data() -> None:
    """Put back the rows the data migrations make (an earlier transactional test's flush removed them)."""
    from importlib import import_module

    from validation.models import ValidationPolicy

    AuditChainHead.objects.get_or_create(id=1, defaults={"seq": 0, "hash": GENESIS_HASH})
    for name in roles.ALL_ROLES:
        Group.objects.get_or_create(name=name)
    policies = import_module("validation.migrations.0002_default_policies")
    for tier, thresholds in policies.POLICIES.items():
        ValidationPolicy.objects.get_or_create(model_tier=tier, version=1, defaults={
            "thresholds": thresholds, "noise_floor": policies.NOISE_FLOOR, "note": "initial policy"})


def _is_transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")
                               or (marker.args and marker.args[0])):
        return True
    return bool({"transactional_db", "live_server", "django_db_reset_sequences"} & set(request.fixturenames))


@pytest.fixture(autouse=True)
def audit_tables_flushable(request):
    """Let a transactional test's closing flush empty the append-only audit tables.

    pytest-django ends every transactional test with a flush (TRUNCATE on PostgreSQL), which
    the append-only triggers refuse. With ``session_replication_role = replica`` (a superuser's
    session setting; Django closes the connection right after the flush, which resets it)
    ordinary triggers do not fire. A flush also removed what the data migrations made (the chain
    head row, the role groups), so those are put back first.

    Written to be moved as it is into tests/conftest.py, where every transactional test needs it.
    """
    if not _is_transactional(request):
        yield
        return
    # Set the database up first, so that it is torn down (flushed) after this fixture's teardown.
    request.getfixturevalue("transactional_db")
    restore_migration_data()
    yield
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
