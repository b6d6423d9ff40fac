"""Tier inputs of a model with versions past draft change only through a decided request (issue 16 §5, defect 4)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from governance.models import AuditEvent, InventoryModel
from governance.models.inventory import TierChangeRequest

pytestmark = pytest.mark.django_db
MODEL = "/api/v1/models/{}/"
CHANGES = "/api/v1/models/{}/tier-changes/"
DECISION = "/api/v1/tier-changes/{}/decision/"
DOWNGRADE = {"exposure_usd": "5000000.00", "materiality_purpose": "informational"}


@pytest.fixture
def in_use(version, drive):
    """The fixture model is tier 1 (USD 2.5bn, regulatory stress); its version is in use."""
    drive(version, "in_use")
    return version.model


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


def test_a_developer_cannot_patch_an_in_use_model_down_to_tier_3(in_use, developer, api):
    assert in_use.tier == 1
    error = error_of(api(developer).patch(MODEL.format(in_use.model_id), DOWNGRADE, format="json"), 409)
    assert error["code"] == "tier_change_needs_review"
    assert set(error["details"]) == {"exposure_usd", "materiality_purpose"}
    in_use.refresh_from_db()
    assert (in_use.tier, in_use.exposure_usd, in_use.materiality_purpose) == (1, Decimal("2500000000.00"),
                                                                             "regulatory_stress")
    assert not AuditEvent.objects.filter(action="model.updated", object_id=in_use.model_id).exists()


def test_other_fields_of_an_in_use_model_still_patch(in_use, developer, api):
    response = api(developer).patch(MODEL.format(in_use.model_id), {"limitations": "1999-2014 only"}, format="json")
    assert response.status_code == 200, response.content
    same = api(developer).patch(MODEL.format(in_use.model_id), {"exposure_usd": "2500000000.00"}, format="json")
    assert same.status_code == 200, same.content  # not a change


def test_a_model_whose_versions_are_all_drafts_re_tiers_on_patch(version, developer, api):
    response = api(developer).patch(MODEL.format(version.model.model_id), DOWNGRADE, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["tier"] == 3


def test_a_proposal_needs_a_reason_and_the_right_role(in_use, developer, validator, auditor, api):
    url = CHANGES.format(in_use.model_id)
    error = error_of(api(developer).post(url, DOWNGRADE | {"reason": " "}, format="json"), 400)
    assert "reason" in error["details"]
    assert error_of(api(developer).post(url, DOWNGRADE, format="json"), 400)["details"].keys() == {"reason"}
    for outsider in (validator, auditor):
        error_of(api(outsider).post(url, DOWNGRADE | {"reason": "smaller book"}, format="json"), 403)
    error = error_of(api(developer).post(url, {"exposure_usd": "2500000000", "reason": "same"}, format="json"), 400)
    assert "changes no tier input" in error["message"]
    assert not TierChangeRequest.objects.exists()


def test_propose_then_approve_changes_the_tier_only_on_approval(in_use, developer, validator, api):
    response = api(developer).post(CHANGES.format(in_use.model_id), DOWNGRADE | {"reason": "book sold down"},
                                   format="json")
    assert response.status_code == 201, response.content
    change = response.json()
    assert (change["status"], change["tier_before"], change["tier_after"]) == ("pending", 1, 3)
    assert change["changes"]["materiality_purpose"] == {"before": "regulatory_stress", "after": "informational"}
    in_use.refresh_from_db()
    assert in_use.tier == 1  # nothing changes yet
    # A second proposal waits for the first.
    again = api(developer).post(CHANGES.format(in_use.model_id), {"exposure_usd": "1", "reason": "x"}, format="json")
    assert error_of(again, 409)["code"] == "tier_change_pending"
    # The proposer's side cannot decide; a decision needs a reason.
    error_of(api(developer).post(DECISION.format(change["id"]), {"decision": "approve", "reason": "ok"},
                                 format="json"), 403)
    error_of(api(validator).post(DECISION.format(change["id"]), {"decision": "approve", "reason": ""},
                                 format="json"), 400)
    decided = api(validator).post(DECISION.format(change["id"]), {"decision": "approve", "reason": "exposure checked"},
                                  format="json")
    assert decided.status_code == 200, decided.content
    assert decided.json()["status"] == "approved" and decided.json()["decided_by"] == validator.username
    model = InventoryModel.objects.get(pk=in_use.pk)
    assert (model.tier, model.computed_tier, model.materiality_purpose) == (3, 3, "informational")
    actions = list(AuditEvent.objects.filter(object_type="tier_change").values_list("action", flat=True))
    assert actions == ["tier_change.proposed", "tier_change.approved"]
    updated = AuditEvent.objects.get(action="model.updated", object_id=in_use.model_id)
    assert (updated.before["tier"], updated.after["tier"], updated.actor_id) == (1, 3, validator.pk)
    assert "exposure checked" in updated.reason
    error_of(api(validator).post(DECISION.format(change["id"]), {"decision": "reject", "reason": "late"},
                                 format="json"), 409)


def test_a_rejected_change_leaves_the_model_alone(in_use, developer, make_user, api):
    admin = make_user("risk-admin", "admin")
    change = api(developer).post(CHANGES.format(in_use.model_id), DOWNGRADE | {"reason": "smaller"},
                                 format="json").json()
    response = api(admin).post(DECISION.format(change["id"]), {"decision": "reject", "reason": "no evidence"},
                               format="json")
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    in_use.refresh_from_db()
    assert in_use.tier == 1
    assert AuditEvent.objects.filter(action="tier_change.rejected", object_id=str(change["id"])).exists()


def test_an_approver_is_not_a_decider_and_a_former_developer_is_not_independent(
        in_use, developer, make_user, api):
    approver_only = make_user("appr2", "approver")
    change = api(developer).post(CHANGES.format(in_use.model_id), DOWNGRADE | {"reason": "smaller"},
                                 format="json").json()
    assert error_of(api(approver_only).post(DECISION.format(change["id"]), {"decision": "approve", "reason": "ok"},
                                            format="json"), 403)["code"] == "missing_role"
    owner_as_validator = developer
    owner_as_validator.groups.add(Group.objects.get(name="validator"))
    error = error_of(api(owner_as_validator).post(DECISION.format(change["id"]),
                                                  {"decision": "approve", "reason": "ok"}, format="json"), 403)
    assert error["code"] == "segregation_of_duties"
