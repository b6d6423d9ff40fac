"""Champion / challenger / benchmark roles: only through the workflow service, audited, one champion per model."""

import pytest
from django.db import IntegrityError, transaction

from governance import roles
from governance.errors import Conflict, Forbidden, InvalidInput
from governance.models import AuditEvent, ModelVersion
from governance.models.review import Outcome
from governance.services.workflow import version_role_set, version_transition
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def role_events(version):
    return list(AuditEvent.objects.filter(action="model_version.role_changed", object_id=str(version.pk))
                .order_by("seq"))


def test_an_approver_makes_an_approved_version_champion_with_one_audit_event(make_version, drive, approver):
    version = drive(make_version("1.0.0"), "approved")
    version = version_role_set(actor=approver, version=version, role="champion", reason="best backtest")
    version.refresh_from_db()
    assert version.role == "champion"
    (event,) = role_events(version)
    assert event.before["role"] == "" and event.after["role"] == "champion"
    assert event.reason == "best backtest" and event.actor_username == approver.username


def test_a_new_champion_demotes_the_old_one_to_challenger_in_the_same_call(make_version, drive, approver):
    old = drive(make_version("1.0.0"), "in_use")
    new = drive(make_version("2.0.0"), "approved")
    version_role_set(actor=approver, version=old, role="champion", reason="first in use")
    version_role_set(actor=approver, version=new, role="champion", reason="beats v1 on the crisis window")
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.role, new.role) == ("challenger", "champion")
    assert ModelVersion.objects.filter(model=new.model, role="champion").count() == 1
    demotion = role_events(old)[-1]
    assert (demotion.before["role"], demotion.after["role"]) == ("champion", "challenger")
    assert "2.0.0" in demotion.reason and "beats v1" in demotion.reason
    assert [(e.before["role"], e.after["role"]) for e in role_events(new)] == [("", "champion")]


def test_the_database_refuses_a_second_champion_written_around_the_service(make_version, drive, approver):
    one = drive(make_version("1.0.0"), "approved")
    two = drive(make_version("2.0.0"), "approved")
    ModelVersion.objects.filter(pk=one.pk).update(role="champion")
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.filter(pk=two.pk).update(role="champion")


def test_setting_the_same_role_again_changes_nothing_and_writes_no_event(make_version, drive, approver):
    version = drive(make_version("1.0.0"), "approved")
    version_role_set(actor=approver, version=version, role="challenger", reason="shadow run")
    version_role_set(actor=approver, version=version, role="challenger", reason="shadow run again")
    assert len(role_events(version)) == 1


def test_an_admin_may_set_and_clear_a_role(make_version, drive, make_user):
    admin = make_user("adm", roles.ADMIN)
    version = drive(make_version("1.0.0"), "in_use")
    version_role_set(actor=admin, version=version, role="challenger", reason="second opinion")
    version = version_role_set(actor=admin, version=version, role="", reason="no longer compared")
    assert ModelVersion.objects.get(pk=version.pk).role == ""
    assert [e.after["role"] for e in role_events(version)] == ["challenger", ""]


def test_a_validator_or_developer_without_the_role_gets_403(make_version, drive, validator, developer):
    version = drive(make_version("1.0.0"), "approved")
    for actor in (validator, developer):
        with pytest.raises(Forbidden, match="approver or admin") as error:
            version_role_set(actor=actor, version=version, role="champion", reason="x")
        assert error.value.code == "missing_role"
    assert ModelVersion.objects.get(pk=version.pk).role == "" and not role_events(version)


def test_a_developer_of_the_model_holding_the_approver_role_may_not_set_roles(make_version, drive, make_user,
                                                                               model_record):
    insider = make_user("insider", roles.APPROVER, roles.DEVELOPER)
    model_record.developers.add(insider)
    version = drive(make_version("1.0.0"), "approved")
    with pytest.raises(Forbidden, match="developer of this model") as error:
        version_role_set(actor=insider, version=version, role="champion", reason="mine is best")
    assert error.value.code == "segregation_of_duties"


@pytest.mark.parametrize(("status", "role"), [("validated", "champion"), ("submitted", "challenger"),
                                              ("in_validation", "benchmark")])
def test_a_role_for_a_version_not_yet_in_the_right_status_is_409_naming_the_status(make_version, drive, approver,
                                                                                   status, role):
    version = drive(make_version("1.0.0"), status)
    with pytest.raises(Conflict, match=f"it is {status}") as error:
        version_role_set(actor=approver, version=version, role=role, reason="too early")
    assert error.value.code == "illegal_role"


def test_a_validated_version_may_be_a_benchmark(make_version, drive, approver):
    version = drive(make_version("1.0.0"), "validated")
    assert version_role_set(actor=approver, version=version, role="benchmark", reason="classical").role == "benchmark"


def test_an_unknown_role_or_a_missing_reason_is_400(make_version, drive, approver):
    version = drive(make_version("1.0.0"), "approved")
    with pytest.raises(InvalidInput, match="'champion', 'challenger', 'benchmark'"):
        version_role_set(actor=approver, version=version, role="king", reason="x")
    with pytest.raises(InvalidInput, match="needs a reason"):
        version_role_set(actor=approver, version=version, role="champion", reason="  ")
    assert not role_events(version)


def test_not_run_evidence_never_satisfies_the_validation_precondition(version, developer, validator,
                                                                      passing_evidence):
    version = version_transition(actor=developer, version=version, action="submit", password=PASSWORD)
    version = version_transition(actor=validator, version=version, action="start_validation")
    evidence = passing_evidence(version, outcome=Outcome.NOT_RUN)
    assert evidence.outcome == "NOT_RUN"
    with pytest.raises(Conflict, match="PASS or WARN"):
        version_transition(actor=validator, version=version, action="validate", password=PASSWORD)
