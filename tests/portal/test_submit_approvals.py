"""The approval queue (issue 17 §4): per version the validation outcome per test tier, the open findings by
severity, the champion/challenger comparison, and one decision link per action that opens the form with that
action chosen."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from governance.models import ModelVersion, Signature
from governance.services.review import finding_raise
from governance.services.workflow import version_transition
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def validated(under_validation, validator, developer):
    version = under_validation.version
    for title, severity in (("Oil tail thin", "medium"), ("Labels unclear", "low"), ("Docs typo", "low")):
        finding_raise(actor=validator, version=version, title=title, description="seen in the holdout",
                      severity=severity, owner=developer, due_date=dt.date(2027, 6, 30))
    version = version_transition(actor=validator, version=version, action="validate", password=PASSWORD,
                                 reason="validated on the holdout")
    under_validation.version = version
    return under_validation


def test_an_approver_sees_the_outcome_per_tier_and_the_open_findings_by_severity(validated, approver):
    run = validated.run
    response = client_for(approver).get("/approvals/")
    assert response.status_code == 200
    html = response.content.decode()
    section = html[html.index(f'id="version-{validated.version.pk}"'):]
    # one column per tested tier, each with the tier's outcome as recorded in the evidence row
    assert run.tier_outcomes, "the fixture's run judged its tiers"
    for tier in run.tier_outcomes:
        assert f'<th scope="col">{tier}</th>' in section
    evidence = re.search(r'<table class="approval-evidence">.*?</table>', section, re.S).group(0)
    row = re.search(rf'validation_run:{run.pk}</a>.*?</tr>', evidence, re.S).group(0)
    cells = re.findall(r'<td><span class="[^"]*">([^<]+)</span>', row)
    from portal.templatetags.portal import outcome_label

    assert cells[:len(run.tier_outcomes)] == [outcome_label(o) for o in run.tier_outcomes.values()]
    assert f'href="/validation/runs/{run.pk}/"' in evidence
    counts = re.search(r'<ul class="severity-counts".*?</ul>', section, re.S).group(0)
    assert re.search(r"High: <strong>0</strong>", counts)
    assert re.search(r"Medium: <strong>1</strong>", counts)
    assert re.search(r"Low: <strong>2</strong>", counts)
    assert "Oil tail thin" in section


def test_the_queue_compares_the_version_with_the_champion_and_challengers(validated, approver):
    html = client_for(approver).get("/approvals/").content.decode()
    table = re.search(r'<table class="comparison">.*?</table>', html, re.S).group(0)
    from scenarios.services.comparison import stress_measures

    figures = stress_measures(validated.stress)
    assert figures["var_99"] is not None
    candidate = re.search(r'<tr class="candidate">.*?</tr>', table, re.S).group(0)
    assert "(this version)" in candidate
    assert f"{figures['var_99']:,.0f} USD" in candidate  # USD with thousands separators, as the model page
    assert "VaR 99%" in table and "ES 99.5%" in table


def test_the_approve_and_reject_links_open_the_form_with_that_action_chosen(validated, approver):
    version = validated.version
    client = client_for(approver)
    html = client.get("/approvals/").content.decode()
    for action, label in (("approve", "Approve"), ("reject", "Reject")):
        link = f'href="/versions/{version.pk}/decision/?action={action}#decision"'
        assert link in html and f">{label}<" in html
        form = client.get(f"/versions/{version.pk}/decision/?action={action}").content.decode()
        checked = re.findall(r'<input type="radio" name="action" value="([a-z_]+)"[^>]*checked', form)
        assert checked == [action]
    # no parameter: nothing is chosen for the approver
    form = client.get(f"/versions/{version.pk}/decision/").content.decode()
    assert not re.findall(r'<input type="radio" name="action"[^>]*checked', form)


def test_an_action_the_user_may_not_take_is_not_preselected(validated, validator):
    form = client_for(validator).get(f"/versions/{validated.version.pk}/decision/?action=approve").content.decode()
    assert 'value="approve"' not in form
    assert not re.findall(r'<input type="radio" name="action"[^>]*checked', form)


def test_an_approver_approves_from_the_preselected_form(validated, approver):
    version = validated.version
    client = client_for(approver)
    response = client.post(f"/versions/{version.pk}/decision/?action=approve",
                           {"action": "approve", "password": PASSWORD, "reason": "fit for use",
                            "next": "/approvals/"})
    assert response.status_code == 302 and response["Location"] == "/approvals/"
    version.refresh_from_db()
    assert version.status == "approved"
    assert Signature.objects.filter(version=version, signer=approver, to_status="approved").exists()


@pytest.mark.parametrize("role", ["developer", "validator", "auditor"])
def test_a_role_without_approval_rights_gets_403_on_the_queue_and_changes_nothing(validated, users, role):
    version = validated.version
    before = ModelVersion.objects.get(pk=version.pk).status
    response = client_for(users[role]).get("/approvals/")
    assert response.status_code == 403
    assert "needs the role approver or admin" in response.content.decode()
    response = client_for(users[role]).post(f"/versions/{version.pk}/decision/",
                                            {"action": "approve", "password": PASSWORD, "reason": "x"})
    assert response.status_code in (400, 403)
    assert ModelVersion.objects.get(pk=version.pk).status == before
