"""Submitting a version for validation with an e-signature, resubmitting after changes were requested, the version
and model page partials that offer these links, and the roles that may not submit."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.template import engines
from django.test import Client, RequestFactory

from governance.models import AuditEvent, Signature
from governance.services.review import finding_raise
from governance.services.workflow import version_transition
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def draft(train):
    trained = train("factor_mc")
    assert trained.status == "SUCCEEDED", trained.error
    return trained.model_version


@pytest.fixture
def changes_requested(draft, drive_to, validator, developer):
    version = drive_to(draft, "in_validation")
    finding_raise(actor=validator, version=version, title="Tails too thin", description="The 99% ES is low.",
                  severity="medium", owner=developer, due_date=dt.date(2999, 1, 1))
    return version_transition(actor=validator, version=version, action="request_changes", password=PASSWORD,
                              reason="Refit with an EWMA covariance and show the tail backtest.")


def _url(version) -> str:
    return f"/versions/{version.pk}/submit/"


def test_the_submit_page_shows_the_meaning_the_developer_signs(developer, draft):
    response = _client(developer).get(_url(draft))
    assert response.status_code == 200
    page = response.content.decode()
    assert "submitted for independent validation as developer" in page
    assert draft.checkpoint_sha256 in page
    assert 'type="password"' in page


def test_a_wrong_password_is_refused_and_the_version_stays_a_draft(developer, draft):
    response = _client(developer).post(_url(draft), {"password": "not my password", "reason": ""})
    assert response.status_code == 400
    assert "the password is not correct" in " ".join(response.context["form"].errors["password"])
    draft.refresh_from_db()
    assert draft.status == "draft"
    assert not Signature.objects.filter(version=draft).exists()
    # A refused signature is a security event: audited although nothing changed.
    assert AuditEvent.objects.filter(action="signature.refused", object_id=str(draft.pk)).exists()
    assert not AuditEvent.objects.filter(action="version.submit").exists()


def test_an_empty_password_is_a_field_error(developer, draft):
    response = _client(developer).post(_url(draft), {"password": ""})
    assert response.status_code == 400
    assert "This field is required." in response.context["form"].errors["password"]
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_a_developer_submits_a_draft_with_an_e_signature(developer, draft):
    response = _client(developer).post(_url(draft), {"password": PASSWORD, "reason": "first submission"})
    assert response.status_code == 303
    assert response["Location"] == f"/versions/{draft.pk}/"
    draft.refresh_from_db()
    assert (draft.status, draft.submitted_by) == ("submitted", developer)
    signature = Signature.objects.get(version=draft)
    assert (signature.signer, signature.action, signature.meaning, signature.reason) == (
        developer, "submit", "submitted for independent validation as developer", "first submission")
    assert AuditEvent.objects.filter(action="version.submit", object_id=str(draft.pk)).exists()


def test_a_developer_resubmits_after_changes_were_requested(developer, changes_requested):
    version = changes_requested
    client = _client(developer)
    page = html.unescape(client.get(_url(version)).content.decode())
    assert "Refit with an EWMA covariance and show the tail backtest." in page
    assert "Tails too thin" in page
    assert "resubmitted for independent validation as developer" in page

    response = client.post(_url(version), {"password": PASSWORD, "reason": "EWMA refit attached"})
    assert response.status_code == 303
    version.refresh_from_db()
    assert version.status == "submitted"
    assert Signature.objects.filter(version=version, action="resubmit", signer=developer).exists()
    assert AuditEvent.objects.filter(action="version.resubmit", object_id=str(version.pk)).exists()


def test_a_version_already_submitted_cannot_be_submitted_again(developer, draft):
    version_transition(actor=developer, version=draft, action="submit", password=PASSWORD)
    response = _client(developer).post(_url(draft), {"password": PASSWORD})
    assert response.status_code == 409
    assert Signature.objects.filter(version=draft).count() == 1


@pytest.mark.parametrize("role", ["validator", "approver", "auditor"])
def test_a_validator_approver_or_auditor_cannot_submit(users, role, draft):
    client = _client(users[role])
    assert client.get(_url(draft)).status_code == 403
    response = client.post(_url(draft), {"password": PASSWORD})
    assert response.status_code == 403
    assert "needs the role developer or admin" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == "draft"
    assert not Signature.objects.filter(version=draft).exists()


def test_a_developer_of_another_model_cannot_submit(make_user, draft):
    from governance import roles

    stranger = make_user("dev2", roles.DEVELOPER)
    # A draft is seen only by its developers: to anyone else it does not exist.
    assert _client(stranger).post(_url(draft), {"password": PASSWORD}).status_code == 404
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_an_admin_without_the_developer_role_cannot_submit(admin_role_user, draft):
    response = _client(admin_role_user).post(_url(draft), {"password": PASSWORD})
    assert response.status_code == 403
    assert "needs the role developer" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == "draft"


def _render(template: str, user, **context) -> str:
    request = RequestFactory().get("/")
    request.user = user
    return engines["django"].from_string(f'{{% include "{template}" %}}').render(context, request)


def test_the_version_partial_offers_submit_and_training_to_the_developer_only(draft, developer, validator):
    mine = _render("portal/develop/_version_actions.html", developer, version=draft)
    assert f'href="/versions/{draft.pk}/submit/">Submit for validation' in mine
    assert f"/inventory/{draft.model.model_id}/train/?from={draft.pk}" in mine
    assert "develop-actions" not in _render("portal/develop/_version_actions.html", validator, version=draft)


def test_the_version_partial_offers_resubmit_after_changes_were_requested(changes_requested, developer):
    page = _render("portal/develop/_version_actions.html", developer, version=changes_requested)
    assert "Resubmit for validation" in page


def test_the_model_partial_offers_training_to_its_developers(scenario_model, developer, auditor):
    assert "Start training" in _render("portal/develop/_model_actions.html", developer, model=scenario_model)
    assert "Start training" not in _render("portal/develop/_model_actions.html", auditor, model=scenario_model)
