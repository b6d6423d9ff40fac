"""Every transition, every segregation-of-duties rule (positive and negative), signature binding."""

import datetime as dt

import pytest

from governance.errors import Conflict, Forbidden, InvalidInput
from governance.models import AuditCheckpoint, AuditEvent, ModelVersion, Signature
from governance.models.inventory import ModelStatus
from governance.models.review import EvidenceKind, Outcome
from governance.services.review import (
    evidence_attach,
    finding_accept_risk,
    finding_close,
    finding_raise,
    finding_remediate,
)
from governance.services.workflow import version_transition
from governance.signatures import changed_fields, signature_is_bound
from governance.workflow import TRANSITIONS
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def act(version, actor, action, password=PASSWORD, reason="", **kw):
    return version_transition(actor=actor, version=version, action=action, password=password, reason=reason, **kw)


def test_happy_path_through_every_status(version, developer, validator, approver, passing_evidence, model_record):
    version = act(version, developer, "submit")
    assert version.status == "submitted" and version.submitted_by == developer
    version = act(version, validator, "start_validation", password="")
    assert version.status == "in_validation" and version.validator == validator
    model_record.refresh_from_db()
    assert model_record.status == ModelStatus.IN_VALIDATION
    passing_evidence(version)
    version = act(version, validator, "validate")
    model_record.refresh_from_db()
    assert model_record.last_validated_on == dt.date.today()
    assert model_record.next_validation_due is not None
    version = act(version, approver, "approve")
    assert version.status == "approved" and version.approver == approver
    version = act(version, approver, "put_in_use", password="")
    assert version.status == "in_use"
    model_record.refresh_from_db()
    assert model_record.status == ModelStatus.IN_USE
    version = act(version, approver, "retire", reason="superseded by 2.0.0")
    assert version.status == "retired"
    model_record.refresh_from_db()
    assert model_record.status == ModelStatus.RETIRED
    actions = list(AuditEvent.objects.filter(object_type="model_version").values_list("action", flat=True))
    assert actions == ["version.created", "version.submit", "version.start_validation", "version.validate",
                       "version.approve", "version.put_in_use", "version.retire"]
    meanings = list(Signature.objects.filter(version=version).values_list("meaning", flat=True))
    assert meanings == ["submitted for independent validation as developer", "validated as independent validator",
                        "approved for use as approver", "retired as approver"]


def test_the_side_branches(make_version, developer, validator, approver, passing_evidence, drive):
    v = drive(make_version("1.0.0"), "in_validation")
    v = act(v, validator, "request_changes", reason="ACF of |r| too low")
    assert v.status == "changes_requested"
    v = act(v, developer, "resubmit")
    assert v.status == "submitted"
    v = act(v, validator, "start_validation", password="")
    v = act(v, validator, "reject", reason="fails tails tier")
    assert v.status == "rejected"

    v2 = drive(make_version("1.1.0"), "validated")
    v2 = act(v2, approver, "reject", reason="use restrictions unclear")
    assert v2.status == "rejected"

    v3 = drive(make_version("1.2.0"), "approved")
    v3 = act(v3, approver, "retire", reason="never deployed")
    assert v3.status == "retired"


def test_every_transition_in_the_table_is_exercised():
    # The two tests above walk these; the table itself is the single source of allowed moves.
    assert {(t.action, t.source) for t in TRANSITIONS} == {
        ("submit", "draft"), ("resubmit", "changes_requested"), ("start_validation", "submitted"),
        ("validate", "in_validation"), ("request_changes", "in_validation"), ("reject", "in_validation"),
        ("approve", "validated"), ("reject", "validated"), ("put_in_use", "approved"), ("retire", "approved"),
        ("retire", "in_use"),
    }


@pytest.mark.parametrize(
    ("status", "action"),
    [("draft", "approve"), ("draft", "validate"), ("submitted", "approve"), ("validated", "submit"),
     ("approved", "validate"), ("rejected", "submit"), ("retired", "put_in_use"), ("in_use", "approve")],
)
def test_illegal_transitions_are_409(version, superuser_with_all_roles, status, action):
    ModelVersion.objects.filter(pk=version.pk).update(status=status)
    version.refresh_from_db()
    with pytest.raises(Conflict) as error:
        act(version, superuser_with_all_roles, action)
    assert error.value.code == "illegal_transition"
    assert f"cannot {action} a version in status {status}" in error.value.message


def test_unknown_action_is_400(version, developer):
    with pytest.raises(InvalidInput):
        act(version, developer, "teleport")


@pytest.fixture
def superuser_with_all_roles(make_user):
    user = make_user("root", "developer", "validator", "approver", "auditor", "admin")
    user.is_superuser = True
    user.save()
    return user


# --- segregation of duties ----------------------------------------------------------------------


def test_wrong_role_is_403(version, validator, approver, auditor, developer, drive):
    for actor in (validator, approver, auditor):
        with pytest.raises(Forbidden) as error:
            act(version, actor, "submit")
        assert error.value.code == "missing_role"
    drive(version, "submitted")
    with pytest.raises(Forbidden):
        act(version, approver, "start_validation")


def test_only_a_developer_of_the_version_submits(version, make_user):
    stranger = make_user("stranger", "developer")
    with pytest.raises(Forbidden) as error:
        act(version, stranger, "submit")
    assert error.value.code == "segregation_of_duties"


def test_a_developer_who_is_also_a_validator_cannot_validate_their_version(version, developer, drive, make_user):
    developer.groups.add(*make_user("tmp", "validator").groups.all())
    drive(version, "submitted")
    with pytest.raises(Forbidden) as error:
        act(version, developer, "start_validation")
    assert "developer of this version" in error.value.message


def test_model_developers_count_as_developers_of_every_version(version, model_record, make_user, drive):
    colleague = make_user("colleague", "developer", "validator")
    model_record.developers.add(colleague)
    drive(version, "submitted")
    with pytest.raises(Forbidden):
        act(version, colleague, "start_validation")


def test_only_the_assigned_validator_decides(version, drive, make_user, passing_evidence):
    other_validator = make_user("val2", "validator")
    version = drive(version, "in_validation")
    passing_evidence(version)
    with pytest.raises(Forbidden) as error:
        act(version, other_validator, "validate")
    assert "assigned" in error.value.message


def test_the_validator_cannot_approve(version, validator, drive):
    validator.groups.add(*validator.groups.model.objects.filter(name="approver"))
    version = drive(version, "validated")
    with pytest.raises(Forbidden) as error:
        act(version, validator, "approve")
    assert "validator of this version cannot" in error.value.message


def test_a_developer_cannot_approve(version, developer, drive):
    developer.groups.add(*developer.groups.model.objects.filter(name="approver"))
    version = drive(version, "validated")
    with pytest.raises(Forbidden):
        act(version, developer, "approve")


def test_nobody_approves_their_own_submission(version, validator, make_user, passing_evidence):
    # A submitter who is no longer a listed developer still cannot approve what they submitted.
    submitter = make_user("submitter", "developer", "approver")
    version.developers.add(submitter)
    version = act(version, submitter, "submit")
    version.developers.remove(submitter)
    version = act(version, validator, "start_validation", password="")
    passing_evidence(version)
    version = act(version, validator, "validate")
    with pytest.raises(Forbidden) as error:
        act(version, submitter, "approve")
    assert error.value.message == "nobody approves their own submission"


def test_a_separate_approver_may_approve(version, approver, drive):
    version = drive(version, "approved")
    assert version.approver == approver


def test_superuser_needs_an_audited_reason_to_act_without_the_role(version, make_user, drive):
    boss = make_user("boss")
    boss.is_superuser = True
    boss.save()
    version = drive(version, "submitted")
    with pytest.raises(Forbidden):
        act(version, boss, "start_validation", password="")
    version = act(version, boss, "start_validation", password="", override_reason="validator on leave, MRM ok'd")
    event = AuditEvent.objects.get(action="version.start_validation")
    assert "superuser override without role validator: validator on leave" in event.reason


def test_superuser_is_still_bound_by_segregation(version, developer):
    developer.is_superuser = True
    developer.save()
    version = act(version, developer, "submit")
    with pytest.raises(Forbidden) as error:
        act(version, developer, "start_validation", password="", override_reason="in a hurry")
    assert error.value.code == "segregation_of_duties"


# --- preconditions --------------------------------------------------------------------------------


def test_validation_needs_passing_evidence(version, validator, drive, passing_evidence):
    version = drive(version, "in_validation")
    with pytest.raises(Conflict, match="no validation run evidence"):
        act(version, validator, "validate")
    passing_evidence(version, outcome=Outcome.FAIL, source="validation-run:failed")
    with pytest.raises(Conflict):
        act(version, validator, "validate")
    passing_evidence(version, outcome=Outcome.WARN, source="validation-run:warn")
    assert act(version, validator, "validate").status == "validated"


def test_open_high_finding_blocks_approval_until_closed(version, developer, validator, approver, drive):
    version = drive(version, "in_validation")
    finding = finding_raise(actor=validator, version=version, title="Tails too light", description="Hill index",
                            severity="high", owner=developer, due_date=dt.date(2027, 1, 31))
    low = finding_raise(actor=validator, version=version, title="Typo", description="docs", severity="low",
                        owner=developer, due_date=dt.date(2027, 1, 31))
    evidence_attach(actor=None, version=version, kind=EvidenceKind.VALIDATION_RUN, source="vr:1", outcome="PASS")
    version = act(version, validator, "validate")
    with pytest.raises(Conflict) as error:
        act(version, approver, "approve")
    assert error.value.code == "open_high_findings" and "Tails too light" in error.value.message
    finding_remediate(actor=developer, finding=finding, remediation_notes="EVT margins added")
    with pytest.raises(Conflict):
        act(version, approver, "approve")  # remediated is not yet verified
    with pytest.raises(Forbidden):
        finding_close(actor=developer, finding=finding, resolution="I say it's fine", password=PASSWORD)
    finding_close(actor=validator, finding=finding, resolution="re-ran tier 7: passes", password=PASSWORD)
    assert low.is_open
    assert act(version, approver, "approve").status == "approved"


def test_accepting_the_risk_of_a_high_finding_unblocks_approval(version, developer, validator, approver, drive):
    version = drive(version, "validated")
    finding = finding_raise(actor=validator, version=version, title="Limited crisis data", description="2008 only",
                            severity="high", owner=developer, due_date=dt.date(2027, 1, 31))
    with pytest.raises(Forbidden):
        finding_accept_risk(actor=developer, finding=finding, resolution="fine", password=PASSWORD)
    with pytest.raises(InvalidInput):
        finding_accept_risk(actor=approver, finding=finding, resolution="", password=PASSWORD)
    finding_accept_risk(actor=approver, finding=finding, resolution="compensating overlay of 10%", password=PASSWORD)
    assert act(version, approver, "approve").status == "approved"


def test_developers_cannot_raise_findings_on_their_version(version, developer, drive, make_user):
    developer.groups.add(*make_user("tmp2", "validator").groups.all())
    version = drive(version, "submitted")
    with pytest.raises(Forbidden):
        finding_raise(actor=developer, version=version, title="t", description="d", severity="low",
                      owner=developer, due_date=dt.date(2027, 1, 1))


def test_reject_and_request_changes_need_a_reason(version, validator, drive):
    version = drive(version, "in_validation")
    with pytest.raises(InvalidInput):
        act(version, validator, "reject", reason="")
    with pytest.raises(InvalidInput):
        act(version, validator, "request_changes", reason=" ")


# --- e-signatures ----------------------------------------------------------------------------------


def test_signing_needs_the_right_password_and_failures_are_audited(version, developer):
    with pytest.raises(InvalidInput):
        act(version, developer, "submit", password="")
    with pytest.raises(Forbidden) as error:
        act(version, developer, "submit", password="wrong")
    assert error.value.code == "signature_refused"
    version.refresh_from_db()
    assert version.status == "draft"
    assert AuditEvent.objects.filter(action="signature.refused", actor_id=developer.pk).count() == 1
    assert not Signature.objects.exists()


def test_signature_records_who_when_meaning_and_state_hash(version, developer):
    version = act(version, developer, "submit")
    signature = Signature.objects.get()
    assert signature.signer == developer and signature.signer_username == "dev"
    assert signature.meaning == "submitted for independent validation as developer"
    assert signature.from_status == "draft" and signature.to_status == "submitted"
    assert len(signature.record_sha256) == 64
    assert signature.signed_fields["checkpoint_sha256"] == version.checkpoint_sha256
    assert signature_is_bound(signature)
    audit = AuditEvent.objects.get(action="signature.created")
    assert audit.after["record_sha256"] == signature.record_sha256


def test_a_change_to_signed_fields_breaks_the_signature_and_blocks_approval(version, validator, approver, drive):
    version = drive(version, "validated")
    signature = Signature.objects.get(action="validate")
    assert signature_is_bound(signature)
    # Someone changes the checkpoint behind the workflow's back (e.g. in the database).
    ModelVersion.objects.filter(pk=version.pk).update(checkpoint_sha256="ef" * 32)
    signature.refresh_from_db()
    assert not signature_is_bound(signature)
    assert changed_fields(signature) == ["checkpoint_sha256"]
    version.refresh_from_db()
    with pytest.raises(Conflict) as error:
        act(version, approver, "approve")
    assert error.value.code == "signature_broken"


def test_every_approval_signs_a_checkpoint_of_the_audit_chain(version, drive):
    drive(version, "approved")
    checkpoint = AuditCheckpoint.objects.get()
    assert "approval of" in checkpoint.reason
    last_before = AuditEvent.objects.filter(action="version.approve").get()
    assert checkpoint.seq >= last_before.seq
