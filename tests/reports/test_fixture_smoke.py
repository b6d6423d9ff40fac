import pytest

pytestmark = pytest.mark.django_db


def test_the_documented_version_fixture_reaches_approval(documented_version):
    assert documented_version.version.status == "approved"
    assert documented_version.validation_run.outcome in {"PASS", "WARN"}
    assert documented_version.stress.risk["historical"]
