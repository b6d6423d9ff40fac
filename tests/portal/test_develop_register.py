"""Registering a model in the browser: the tier computed by the rule and shown, the audit row, bad input refused
with the error next to the field and nothing written, and the roles that may not register."""

from __future__ import annotations

import pytest
from django.test import Client

from governance.models import AuditEvent, InventoryModel
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

URL = "/inventory/new/"


def _client(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _entry(**changes) -> dict:
    return {"name": "Rates stress generator", "purpose": "20-day stress scenarios for the rates book",
            "business_line": "Treasury", "family": "factor_mc", "exposure_usd": "2500000000",
            "materiality_purpose": "regulatory_stress", "regulatory_uses": ["CCAR", "DFAST"],
            "limitations": "daily data only", "register": "1"} | changes


def test_the_register_page_explains_how_the_tier_is_computed(developer):
    response = _client(developer).get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "How the risk tier is computed" in page
    assert "tier-matrix/2026.1" in page
    assert '<label for="id_exposure_usd">' in page


def test_a_developer_registers_a_model_and_sees_its_risk_tier(developer):
    client = _client(developer)
    response = client.post(URL, _entry())
    assert response.status_code == 303
    model = InventoryModel.objects.get(name="Rates stress generator")
    assert response["Location"] == f"/inventory/{model.model_id}/"
    # USD 2.5bn for regulatory stress testing: the high band crossed with regulatory impact is tier 1.
    assert (model.computed_tier, model.validation_frequency_months) == (1, 12)
    assert model.regulatory_uses == ["CCAR", "DFAST"]
    assert list(model.developers.all()) == [developer] and model.owner == developer
    event = AuditEvent.objects.get(action="model.created", object_id=model.model_id)
    assert event.actor_id == developer.pk
    page = client.get(response["Location"]).content.decode()
    assert "1 (computed 1, rule tier-matrix/2026.1)" in page
    assert f"Registered {model.model_id}" in page


def test_the_tier_preview_shows_the_tier_and_writes_nothing(developer):
    response = _client(developer).post(URL, _entry(exposure_usd="250000000", materiality_purpose="risk_management",
                                                   preview="1", register=""))
    assert response.status_code == 200
    assert 'id="preview-tier">tier 2<' in response.content.decode()
    assert not InventoryModel.objects.exists()


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"exposure_usd": "-5"}, "exposure_usd", "greater than or equal to 0"),
    ({"exposure_usd": "NaN"}, "exposure_usd", "Enter a number"),
    ({"exposure_usd": "Infinity"}, "exposure_usd", "Enter a number"),
    ({"name": "  "}, "name", "This field is required"),
    ({"family": "crystal_ball"}, "family", "Select a valid choice"),
    ({"validation_frequency_months": "0"}, "validation_frequency_months", "greater than or equal to 1"),
])
def test_a_bad_registration_comes_back_with_the_field_error_and_nothing_written(developer, changes, field, message):
    response = _client(developer).post(URL, _entry(**changes))
    assert response.status_code == 400
    form = response.context["form"]
    assert any(message in e for e in form.errors[field]), form.errors
    assert message in response.content.decode()
    assert not InventoryModel.objects.exists()
    assert not AuditEvent.objects.filter(action="model.created").exists()


def test_an_admin_may_register_a_model(admin_role_user):
    response = _client(admin_role_user).post(URL, _entry(exposure_usd="1000", materiality_purpose="informational"))
    assert response.status_code == 303
    assert InventoryModel.objects.get().computed_tier == 3


@pytest.mark.parametrize("role", ["validator", "approver", "auditor"])
def test_a_validator_approver_or_auditor_cannot_register_a_model(users, role):
    client = _client(users[role])
    assert client.get(URL).status_code == 403
    response = client.post(URL, _entry())
    assert response.status_code == 403
    assert "needs the role developer or admin" in response.content.decode()
    assert not InventoryModel.objects.exists()


def test_an_anonymous_visitor_is_sent_to_sign_in():
    response = Client().get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
