"""The findings register (filters, sorting, pages) and one finding's actions: remediate, close and accept risk
(e-signed), with the refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from governance import roles
from governance.models import AuditEvent, Finding
from governance.services.inventory import model_create
from governance.services.review import finding_raise
from portal.views.findings import findings_filtered
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

PAST, FUTURE = dt.date(2001, 1, 31), dt.date(2999, 12, 31)


def _client(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def version(train, drive_to):
    trained = train("factor_mc")
    assert trained.status == "SUCCEEDED", trained.error
    return drive_to(trained.model_version, "in_validation")


@pytest.fixture
def raise_finding(validator, developer):
    def make(version, title="Tails too thin", severity="medium", due=FUTURE, owner=None):
        return finding_raise(actor=validator, version=version, title=title, description=f"{title}: details",
                             severity=severity, owner=owner or developer, due_date=due)

    return make


@pytest.fixture
def other_version(make_user, version):
    """A second model (another owner) with a version in validation."""
    from decimal import Decimal

    from governance.models import ModelVersion

    owner = make_user("owner2", roles.DEVELOPER)
    model = model_create(actor=owner, name="Rates stress", purpose="rates scenarios", business_line="Treasury",
                         family="copula", exposure_usd=Decimal("1000000"), materiality_purpose="regulatory_stress")
    first = version
    # A version of another model: same checkpoint, registered by its owner, in validation.
    return ModelVersion.objects.create(model=model, version="1.0.0", engine=first.engine, config=first.config,
                                       checkpoint_sha256=first.checkpoint_sha256, created_by=owner,
                                       status="in_validation", train_end=first.train_end,
                                       holdout_start=first.holdout_start)


# ── the register ──────────────────────────────────────────────────────────────────────────────
def test_the_register_lists_findings_with_links_to_their_versions(version, raise_finding, auditor):
    finding = raise_finding(version)
    response = _client(auditor).get("/findings/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<caption>1 finding</caption>" in body
    assert f'href="/findings/{finding.pk}/"' in body and f'href="/versions/{version.pk}/"' in body


def test_the_filters_return_the_right_rows(version, other_version, raise_finding, approver, make_user):
    high = raise_finding(version, "High one", "high")
    low = raise_finding(version, "Low one", "low")
    other = raise_finding(other_version, "Other model", "medium", owner=other_version.created_by)
    Finding.objects.filter(pk=low.pk).update(status="closed")
    client = _client(approver)

    def rows(query: str) -> set[int]:
        response = client.get(f"/findings/?{query}")
        assert response.status_code == 200, response.content.decode()
        return {f.pk for f in response.context["page_obj"]}

    assert rows("") == {high.pk, low.pk, other.pk}
    assert rows("severity=high") == {high.pk}
    assert rows("status=closed") == {low.pk}
    assert rows("status=open_any") == {high.pk, other.pk}
    assert rows(f"model={other_version.model.model_id}") == {other.pk}
    assert rows(f"owner={version.model.owner.username}") == {high.pk, low.pk}
    assert rows("owner=owner2") == {other.pk}
    assert rows("assignee=owner2") == {other.pk}
    assert rows("severity=high&owner=owner2") == set()


def test_the_overdue_filter_counts_open_findings_past_their_due_date(version, raise_finding, approver):
    late = raise_finding(version, "Late", due=PAST)
    late_closed = raise_finding(version, "Late but closed", due=PAST)
    Finding.objects.filter(pk=late_closed.pk).update(status="closed")
    raise_finding(version, "Not due", due=FUTURE)
    response = _client(approver).get("/findings/?overdue=on")
    assert [f.pk for f in response.context["page_obj"]] == [late.pk]
    assert 'class="overdue"' in response.content.decode()
    # Against a fixed date: on the due date itself a finding is not yet overdue, the day after it is.
    assert not findings_filtered(user=approver, overdue=True, today=PAST).exists()
    assert list(findings_filtered(user=approver, overdue=True, today=PAST + dt.timedelta(days=1))) == [late]


def test_the_register_sorts_by_due_date(version, raise_finding, approver):
    dates = [dt.date(2030, 5, 1), dt.date(2029, 1, 1), dt.date(2031, 3, 3)]
    for i, due in enumerate(dates):
        raise_finding(version, f"F{i}", due=due)
    client = _client(approver)
    ascending = [f.due_date for f in client.get("/findings/").context["page_obj"]]
    descending = [f.due_date for f in client.get("/findings/?sort=-due").context["page_obj"]]
    assert ascending == sorted(dates) and descending == sorted(dates, reverse=True)


def test_the_register_pages_and_says_how_many_there_are(version, raise_finding, approver):
    for i in range(30):
        raise_finding(version, f"Finding {i}")
    client = _client(approver)
    first = client.get("/findings/?severity=medium")
    body = first.content.decode()
    assert len(first.context["page_obj"]) == 25
    assert "30 findings, page 1 of 2 (1–25)" in body
    assert 'href="?severity=medium&amp;page=2"' in body
    second = client.get("/findings/?severity=medium&page=2")
    assert len(second.context["page_obj"]) == 5


def test_a_bad_filter_value_is_a_field_error_not_a_silent_any(version, raise_finding, approver):
    raise_finding(version)
    response = _client(approver).get("/findings/?severity=catastrophic&sort=random")
    assert response.status_code == 400
    assert response.content.decode().count('class="field-error"') == 2


def test_a_validator_sees_only_findings_of_versions_they_may_see(version, raise_finding, make_user):
    raise_finding(version)
    outsider = make_user("dev-elsewhere", roles.DEVELOPER)
    response = _client(outsider).get("/findings/")
    assert response.status_code == 200 and response.context["page_obj"].paginator.count == 0


# ── one finding ───────────────────────────────────────────────────────────────────────────────
def test_the_finding_page_shows_its_history_and_the_owner_may_remediate(version, raise_finding, developer,
                                                                        approver):
    finding = raise_finding(version)
    assert "finding.raised" in _client(approver).get(f"/findings/{finding.pk}/").content.decode()
    client = _client(developer)
    body = client.get(f"/findings/{finding.pk}/").content.decode()
    assert 'id="remediate-form"' in body and 'id="resolve-form"' not in body
    response = client.post(f"/findings/{finding.pk}/remediate/", {"remediation_notes": "Fatter tails: t copula."})
    assert response.status_code == 303 and response["Location"] == f"/findings/{finding.pk}/"
    finding.refresh_from_db()
    assert (finding.status, finding.remediation_notes) == ("remediated", "Fatter tails: t copula.")
    assert AuditEvent.objects.filter(action="finding.remediated", object_id=str(finding.pk)).exists()


def test_empty_remediation_notes_are_a_field_error(version, raise_finding, developer):
    finding = raise_finding(version)
    response = _client(developer).post(f"/findings/{finding.pk}/remediate/", {"remediation_notes": "  "})
    assert response.status_code == 400 and 'class="field-error"' in response.content.decode()
    finding.refresh_from_db()
    assert finding.status == "open"


def test_an_auditor_cannot_remediate_or_close(version, raise_finding, auditor):
    finding = raise_finding(version)
    client = _client(auditor)
    body = client.get(f"/findings/{finding.pk}/").content.decode()
    actions = body.split("<h2>Actions")[1].split("<h2>History")[0]
    assert 'id="finding-refusal"' in actions and "<form" not in actions
    assert client.post(f"/findings/{finding.pk}/remediate/", {"remediation_notes": "x"}).status_code == 403
    assert client.post(f"/findings/{finding.pk}/resolve/", {"action": "close", "resolution": "x",
                                                            "password": PASSWORD}).status_code == 403
    finding.refresh_from_db()
    assert finding.status == "open"


def test_a_validator_closes_a_finding_with_an_e_signature(version, raise_finding, validator):
    finding = raise_finding(version)
    client = _client(validator)
    body = client.get(f"/findings/{finding.pk}/").content.decode()
    assert "closed as independent validator" in body and 'type="password"' in body
    response = client.post(f"/findings/{finding.pk}/resolve/",
                           {"action": "close", "resolution": "Verified in run 7.", "password": PASSWORD})
    assert response.status_code == 303
    finding.refresh_from_db()
    assert (finding.status, finding.resolution) == ("closed", "Verified in run 7.")
    signed = AuditEvent.objects.get(action="finding.signed", object_id=str(finding.pk))
    assert signed.actor_id == validator.pk and signed.after["meaning"] == "closed as independent validator"


def test_a_wrong_password_on_close_is_an_error_and_changes_nothing(version, raise_finding, validator):
    finding = raise_finding(version)
    response = _client(validator).post(f"/findings/{finding.pk}/resolve/",
                                       {"action": "close", "resolution": "Verified.", "password": "not it"})
    assert response.status_code == 403
    assert "signature refused: the password is not correct" in response.content.decode()
    finding.refresh_from_db()
    assert (finding.status, finding.resolution) == ("open", "")
    assert not AuditEvent.objects.filter(action__in=["finding.closed", "finding.signed"]).exists()
    assert AuditEvent.objects.filter(action="signature.refused", object_type="finding",
                                     object_id=str(finding.pk), actor_id=validator.pk).count() == 1


def test_a_missing_resolution_is_a_field_error(version, raise_finding, validator):
    finding = raise_finding(version)
    response = _client(validator).post(f"/findings/{finding.pk}/resolve/",
                                       {"action": "close", "resolution": "", "password": PASSWORD})
    assert response.status_code == 400 and 'class="field-error"' in response.content.decode()
    finding.refresh_from_db()
    assert finding.status == "open"


def test_a_developer_cannot_close_their_own_finding(version, raise_finding, developer):
    finding = raise_finding(version)
    response = _client(developer).post(f"/findings/{finding.pk}/resolve/",
                                       {"action": "close", "resolution": "done", "password": PASSWORD})
    assert response.status_code == 403
    finding.refresh_from_db()
    assert finding.status == "open"


def test_a_validator_cannot_accept_risk_which_is_the_approvers(version, raise_finding, validator):
    finding = raise_finding(version)
    response = _client(validator).post(f"/findings/{finding.pk}/resolve/",
                                       {"action": "accept_risk", "resolution": "fine", "password": PASSWORD})
    assert response.status_code == 400  # not a choice offered to a validator
    finding.refresh_from_db()
    assert finding.status == "open"


def test_an_approver_accepts_the_risk_with_an_e_signature(version, raise_finding, approver):
    finding = raise_finding(version, severity="low")
    response = _client(approver).post(f"/findings/{finding.pk}/resolve/",
                                      {"action": "accept_risk", "resolution": "Immaterial for tier 3.",
                                       "password": PASSWORD})
    assert response.status_code == 303
    finding.refresh_from_db()
    assert finding.status == "risk_accepted"
    assert AuditEvent.objects.filter(action="finding.risk_accepted", object_id=str(finding.pk)).exists()


def test_a_closed_finding_offers_no_more_actions(version, raise_finding, validator):
    finding = raise_finding(version)
    Finding.objects.filter(pk=finding.pk).update(status="closed")
    client = _client(validator)
    assert 'id="finding-refusal"' in client.get(f"/findings/{finding.pk}/").content.decode()
    response = client.post(f"/findings/{finding.pk}/resolve/",
                           {"action": "close", "resolution": "again", "password": PASSWORD})
    assert response.status_code == 403
