import datetime as dt
from decimal import Decimal

import pytest

from governance.errors import Conflict, Forbidden, InvalidInput
from governance.models import AuditEvent, LineageEdge, LineageNode
from governance.services.inventory import model_create, model_tier_override, model_update, version_update

pytestmark = pytest.mark.django_db


def test_registering_a_model_computes_its_tier_and_audits(model_record, developer):
    assert model_record.model_id == "CRU-0001"
    assert model_record.computed_tier == 1 and model_record.tier == 1
    assert model_record.tier_rule_version == "tier-matrix/2026.1"
    assert model_record.validation_frequency_months == 12
    assert list(model_record.developers.all()) == [developer]
    event = AuditEvent.objects.get(action="model.created")
    assert event.object_id == "CRU-0001" and event.actor_id == developer.pk
    assert event.after["tier"] == 1 and event.after["exposure_usd"] == "2500000000"


def test_only_developers_and_admins_register_models(validator):
    with pytest.raises(Forbidden):
        model_create(actor=validator, name="x", purpose="y", business_line="z", family="copula",
                     exposure_usd=Decimal(1), materiality_purpose="informational")


def test_invalid_fields_are_named(developer):
    with pytest.raises(InvalidInput) as error:
        model_create(actor=developer, name="x", purpose="y", business_line="z", family="astrology",
                     exposure_usd=Decimal("NaN"), materiality_purpose="informational")
    assert set(error.value.details) == {"family", "exposure_usd"}
    with pytest.raises(InvalidInput) as error:
        model_create(actor=developer, name="", purpose="y", business_line="z", family="copula",
                     exposure_usd=Decimal(1), materiality_purpose="informational")
    assert "name" in error.value.details


def test_update_retiers_and_records_before_and_after(model_record, developer):
    model_update(actor=developer, model=model_record, exposure_usd=Decimal("50000000"))
    model_record.refresh_from_db()
    assert model_record.computed_tier == 2
    event = AuditEvent.objects.get(action="model.updated")
    assert event.before["computed_tier"] == 1 and event.after["computed_tier"] == 2


def test_strangers_cannot_edit_a_model(model_record, make_user):
    other = make_user("other-dev", "developer")
    with pytest.raises(Forbidden):
        model_update(actor=other, model=model_record, name="hijacked")


def test_tier_override_needs_a_reason_and_is_audited(model_record, validator, developer):
    with pytest.raises(InvalidInput):
        model_tier_override(actor=validator, model=model_record, tier=2, reason="  ")
    with pytest.raises(Forbidden):
        model_tier_override(actor=developer, model=model_record, tier=3, reason="I want less scrutiny")
    model_tier_override(actor=validator, model=model_record, tier=2, reason="hedged exposure is small")
    model_record.refresh_from_db()
    assert model_record.tier == 2 and model_record.computed_tier == 1
    event = AuditEvent.objects.get(action="model.tier_overridden")
    assert event.reason == "hedged exposure is small" and event.after["tier"] == 2


def test_dependencies_between_models(model_record, developer):
    upstream = model_create(actor=developer, name="Vol surface", purpose="vols", business_line="Markets",
                            family="factor_mc", exposure_usd=Decimal(1), materiality_purpose="risk_management")
    model_update(actor=developer, model=model_record, upstream=[upstream])
    assert list(upstream.downstream.all()) == [model_record]
    with pytest.raises(InvalidInput):
        model_update(actor=developer, model=model_record, upstream=[model_record])


def test_version_creation_records_lineage(version, developer):
    node = LineageNode.objects.get(uid=f"model_version:{version.pk}")
    checkpoint = LineageNode.objects.get(uid=f"checkpoint:{version.checkpoint_sha256}")
    assert checkpoint.sha256 == version.checkpoint_sha256
    assert LineageEdge.objects.filter(source=node, target=checkpoint, relation="wasDerivedFrom").exists()
    assert LineageEdge.objects.filter(source=node, target__uid=f"user:{developer.pk}",
                                      relation="wasAttributedTo").exists()


def test_duplicate_versions_and_bad_windows_are_refused(make_version):
    make_version("1.0.0")
    with pytest.raises(Conflict):
        make_version("1.0.0")
    with pytest.raises(InvalidInput) as error:
        make_version("2.0.0", holdout_start=dt.date(2014, 6, 1))
    assert "holdout_start" in error.value.details
    with pytest.raises(InvalidInput):
        make_version("not-semver")


def test_versions_are_editable_only_in_draft(version, developer, drive):
    version_update(actor=developer, version=version, notes="tuned")
    drive(version, "submitted")
    with pytest.raises(Conflict):
        version_update(actor=developer, version=version, notes="sneaky")
