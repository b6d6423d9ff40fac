"""System checks of the anchored audit chain: a production deployment without a key fails at startup."""

from __future__ import annotations

import pytest

from governance import signing
from governance.anchor_checks import check_anchor_targets, check_signing_key


def test_production_without_a_key_is_an_error_naming_the_setting(monkeypatch, settings, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgres://db.example/crucible")
    monkeypatch.delenv(signing.KEY_ENV)
    settings.DEBUG = False
    settings.VAR_DIR = tmp_path
    (error,) = check_signing_key()
    assert error.id == "governance.E601" and signing.KEY_FILE_ENV in error.msg
    assert list(tmp_path.iterdir()) == []


def test_a_configured_key_passes():
    assert check_signing_key() == []


@pytest.mark.parametrize("case", ["missing folder", "same filesystem", "tsa without roots", "fine"])
def test_anchor_targets(settings, tmp_path, tmp_path_factory, case):
    settings.VAR_DIR = tmp_path
    settings.CRUCIBLE_TSA_URL = ""
    settings.CRUCIBLE_TSA_CA_FILE = ""
    if case == "missing folder":
        settings.CRUCIBLE_ANCHOR_LOG = str(tmp_path / "absent" / "anchors.jsonl")
        assert [m.id for m in check_anchor_targets()] == ["governance.E602"]
    elif case == "same filesystem":
        settings.CRUCIBLE_ANCHOR_LOG = str(tmp_path / "anchors.jsonl")
        assert [m.id for m in check_anchor_targets()] == ["governance.W603"]
    elif case == "tsa without roots":
        settings.CRUCIBLE_ANCHOR_LOG = ""
        settings.CRUCIBLE_TSA_URL = "https://tsa.invalid/"
        assert [m.id for m in check_anchor_targets()] == ["governance.W604"]
    else:
        settings.CRUCIBLE_ANCHOR_LOG = ""
        assert check_anchor_targets() == []


def test_the_checks_run_with_check_deploy_and_not_on_every_management_command():
    from django.core.checks.registry import registry

    assert {check_signing_key, check_anchor_targets} <= set(registry.get_checks(include_deployment_checks=True))
    assert not {check_signing_key, check_anchor_targets} & set(registry.get_checks(include_deployment_checks=False))
