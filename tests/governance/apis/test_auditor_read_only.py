"""The auditor is read-only everywhere (issue 17): every door that creates a report, a packet or an audit checkpoint
answers 403 and writes nothing; the auditor still reads them all. The rule: ``governance.roles.REQUESTER_ROLES`` for
reports and packets (API and pages), admin only for a checkpoint on request (``governance/apis/audit.py``)."""

from __future__ import annotations

import pytest
from django.test import Client

from governance.models import AuditCheckpoint, AuditEvent
from reports.models import Packet, Report

pytestmark = pytest.mark.django_db

CHECKPOINTS = "/api/v1/audit/checkpoints/"


@pytest.fixture
def admin_role_user(make_user):
    from governance import roles

    return make_user("adm", roles.ADMIN)


@pytest.fixture
def users(developer, validator, approver):
    return {"developer": developer, "validator": validator, "approver": approver}


def counts() -> tuple[int, int, int, int]:
    return (Report.objects.count(), Packet.objects.count(), AuditCheckpoint.objects.count(),
            AuditEvent.objects.count())


def assert_forbidden(response) -> None:
    assert response.status_code == 403, response.content
    assert response.json()["error"]["code"] in {"missing_role", "permission_denied", "forbidden"}


def test_the_auditor_cannot_sign_a_checkpoint_through_the_api(api, auditor):
    before = counts()
    response = api(auditor).post(CHECKPOINTS, {"reason": "attest the chain"}, format="json")
    assert_forbidden(response)
    assert "read-only" in response.json()["error"]["message"]
    assert counts() == before


def test_the_auditor_still_lists_and_verifies_checkpoints(api, auditor, admin_role_user):
    created = api(admin_role_user).post(CHECKPOINTS, {"reason": "quarter end"}, format="json")
    assert created.status_code == 201, created.content
    listed = api(auditor).get(CHECKPOINTS)
    assert listed.status_code == 200
    assert [c["reason"] for c in listed.json()["results"]] == ["quarter end"]
    assert api(auditor).get("/api/v1/audit/verify/").status_code == 200


@pytest.mark.parametrize("role", ["developer", "validator", "approver"])
def test_no_other_non_admin_role_signs_a_checkpoint_on_request(api, users, role):
    before = counts()
    assert_forbidden(api(users[role]).post(CHECKPOINTS, {"reason": "x"}, format="json"))
    assert counts() == before


def test_the_auditor_cannot_request_a_report_through_the_api(api, auditor, documented_version):
    before = counts()
    response = api(auditor).post("/api/v1/reports/", {"model_version": documented_version.version.pk},
                                 format="json")
    assert_forbidden(response)
    assert counts() == before


def test_the_auditor_cannot_request_a_packet_through_the_api(api, auditor, developer, documented_version):
    from tests.reports.packet_support import make_report

    report = make_report(documented_version, actor=developer)
    before = counts()
    assert_forbidden(api(auditor).post("/api/v1/packets/", {"report": report.pk}, format="json"))
    assert counts() == before
    assert api(auditor).get(f"/api/v1/reports/{report.pk}/").status_code == 200  # reading stays


def test_the_auditor_cannot_generate_documentation_or_build_a_packet_from_a_page(auditor, developer,
                                                                                 documented_version):
    from tests.reports.packet_support import make_report

    version = documented_version.version
    report = make_report(documented_version, actor=developer)
    client = Client()
    client.force_login(auditor)
    before = counts()
    response = client.post(f"/versions/{version.pk}/submission/documentation/",
                           {"scenario_sets": [documented_version.scenario_set.pk]})
    assert response.status_code == 403
    response = client.post(f"/versions/{version.pk}/submission/packet/", {"report": report.pk})
    assert response.status_code == 403
    assert counts() == before
