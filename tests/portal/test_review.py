"""Findings and signed decisions through the pages: segregation of duties shown, the service's rules kept."""

from __future__ import annotations

import pytest
from django.test import Client

from governance.models import AuditEvent, Finding, Signature
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_decision_form_absent_for_the_developer_present_for_the_assigned_validator(
        under_validation, developer, validator, other_validator):
    run_url = f"/validation/runs/{under_validation.run.pk}/"

    mine = _client(developer).get(run_url).content.decode()
    assert 'id="decision-form"' not in mine
    assert 'id="decision-refusal"' in mine
    assert "a developer of this version cannot take part in its validation or approval" in mine
    assert 'id="finding-form"' not in mine

    other = _client(other_validator).get(run_url).content.decode()
    assert 'id="decision-form"' not in other
    assert "only the validator assigned to this version may record the validation decision" in other
    assert 'id="finding-form"' in other  # any independent validator may challenge

    page = _client(validator).get(run_url).content.decode()
    assert 'id="decision-form"' in page
    # The meaning of each signature is shown before signing, from governance.workflow.TRANSITIONS.
    for meaning in ("validated as independent validator", "changes requested as validator", "rejected as validator"):
        assert meaning in page
    assert 'type="password"' in page and 'name="csrfmiddlewaretoken"' in page


def _draw_charts(*subjects) -> None:
    """Draw the stored charts of each (kind, object) as the task would after the result was produced."""
    from reports.services.figure_sets import figure_set_ensure, figure_set_execute

    for kind, subject in subjects:
        started = figure_set_ensure(subject_kind=kind, subject=subject)
        figure_set_execute(started.id)


def test_run_page_shows_metrics_thresholds_outcomes_and_charts(under_validation, validator):
    client = _client(validator)
    run = under_validation.run
    _draw_charts(("validation-run", run), ("scenario-set", under_validation.scenario_set),
                 ("stress", under_validation.stress))
    page = client.get(f"/validation/runs/{run.pk}/?all=1").content.decode()
    for tier, outcome in run.tier_outcomes.items():
        assert f"Test tier {tier}" in page and outcome in page
    metric = run.metrics.exclude(threshold=None).first()
    assert metric.name in page and f"{metric.threshold:.4g}" in page
    # Every chart on the page is served as a real PNG by the figure view.
    srcs = [part.split('"', 1)[0] for part in page.split('<img src="')[1:]]
    assert any("/figures/validation-run/" in s for s in srcs)
    assert any("/figures/scenario-set/" in s for s in srcs)
    assert any("/figures/stress/" in s for s in srcs)
    for src in srcs:
        response = client.get(src)
        assert response.status_code == 200, src
        assert response["Content-Type"] == "image/png"
        assert response.content.startswith(b"\x89PNG\r\n\x1a\n")


def test_raise_a_finding(under_validation, validator, developer):
    version = under_validation.version
    client = _client(validator)
    bad = client.post(f"/versions/{version.pk}/findings/new/", {"title": "", "description": "x",
                                                               "severity": "low", "owner": developer.pk,
                                                               "due_date": "2027-01-31"})
    assert bad.status_code == 400 and not Finding.objects.exists()
    response = client.post(f"/versions/{version.pk}/findings/new/", {
        "title": "Tail dependence too weak", "description": "NASDAQ/WTI joint tail below the holdout's.",
        "severity": "medium", "owner": developer.pk, "due_date": "2027-03-31",
        "next": f"/validation/runs/{under_validation.run.pk}/"})
    assert response.status_code == 302
    assert response["Location"] == f"/validation/runs/{under_validation.run.pk}/"
    finding = Finding.objects.get()
    assert (finding.title, finding.severity, finding.owner, finding.raised_by) == (
        "Tail dependence too weak", "medium", developer, validator)
    assert AuditEvent.objects.filter(action="finding.raised", object_id=str(finding.pk), actor_id=validator.pk).exists()
    assert "Tail dependence too weak" in client.get(response["Location"]).content.decode()


def test_next_may_not_leave_the_site(under_validation, validator, developer):
    response = _client(validator).post(f"/versions/{under_validation.version.pk}/findings/new/", {
        "title": "t", "description": "d", "severity": "low", "owner": developer.pk, "due_date": "2027-03-31",
        "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == f"/versions/{under_validation.version.pk}/"


def test_wrong_signature_password_refused_and_audited_right_one_signs(under_validation, validator):
    version = under_validation.version
    client = _client(validator)
    url = f"/versions/{version.pk}/decision/"
    wrong = client.post(url, {"action": "validate", "reason": "holdout 2015-18", "password": "not my password"})
    assert wrong.status_code == 403
    assert "signature refused: the password is not correct" in wrong.content.decode()
    version.refresh_from_db()
    assert version.status == "in_validation" and not Signature.objects.filter(action="validate").exists()
    refused = AuditEvent.objects.get(action="signature.refused")
    assert (refused.actor_id, refused.object_id, refused.after) == (validator.pk, str(version.pk),
                                                                   {"action": "validate"})

    missing = client.post(url, {"action": "validate", "reason": "", "password": ""})
    assert missing.status_code == 400 and "an e-signature needs your password" in missing.content.decode()

    right = client.post(url, {"action": "validate", "reason": "holdout 2015-18", "password": PASSWORD})
    assert right.status_code == 302
    version.refresh_from_db()
    assert version.status == "validated"
    signature = Signature.objects.get(action="validate")
    assert (signature.signer, signature.meaning) == (validator, "validated as independent validator")
    assert AuditEvent.objects.filter(action="version.validate", object_id=str(version.pk)).exists()


def test_reject_needs_a_reason_shown_as_a_form_error(under_validation, validator):
    response = _client(validator).post(f"/versions/{under_validation.version.pk}/decision/",
                                       {"action": "reject", "reason": "", "password": PASSWORD})
    assert response.status_code == 400
    assert "reject needs a reason" in response.content.decode()


def test_approver_queue_and_approval(under_validation, validator, approver, developer):
    from governance.services.workflow import version_transition

    version = version_transition(actor=validator, version=under_validation.version, action="validate",
                                 password=PASSWORD, reason="fine")
    queue = _client(approver).get("/approvals/").content.decode()
    assert str(version) in queue and f'href="/versions/{version.pk}/decision/?action=approve#decision">Approve' in queue
    # The validator may not approve what they validated: the reason, not a form.
    page = _client(validator).get(f"/versions/{version.pk}/").content.decode()
    assert 'id="decision-form"' not in page
    assert "the validator of this version cannot also approve, reject or retire it" in page

    decision_page = _client(approver).get(f"/versions/{version.pk}/decision/").content.decode()
    assert "approved for use as approver" in decision_page
    response = _client(approver).post(f"/versions/{version.pk}/decision/",
                                      {"action": "approve", "reason": "", "password": PASSWORD})
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.status == "approved" and version.approver == approver
