"""Segregation of duties counts the model's owner and its former developers (issue 16 §5, defect 3).

One rule, ``governance.access.independence_conflict``, behind every check that needs someone
independent of a model: starting validation, the validator's decision, approval, findings, roles.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from governance.access import independence_conflict
from governance.errors import Forbidden
from governance.models import AuditEvent
from governance.models.inventory import InvolvementRole, ModelInvolvement
from governance.services.inventory import model_update, version_create
from governance.services.review import finding_raise
from governance.services.workflow import version_role_set, version_transition
from tests.conftest import PASSWORD
from tests.governance.provenance import trained_checkpoint

pytestmark = pytest.mark.django_db
TRANSITIONS = "/api/v1/versions/{}/transitions/"


def grant(user, role: str):
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def colleague(make_user):
    return make_user("dev2", "developer")


@pytest.fixture
def owners_model(model_record, developer, colleague):
    """The owner (``developer``) hands development to a colleague and leaves the developers list."""
    model_update(actor=developer, model=model_record, developers=[colleague])
    assert not model_record.developers.filter(pk=developer.pk).exists()
    return model_record


@pytest.fixture
def colleagues_version(owners_model, colleague):
    return version_create(actor=colleague, model=owners_model, version="2.0.0", engine="diffusion",
                          **trained_checkpoint(actor=colleague, model=owners_model))


def submit(version, who):
    return version_transition(actor=who, version=version, action="submit", password=PASSWORD)


def test_an_owner_who_left_the_developers_cannot_start_validation_over_the_api(
        colleagues_version, developer, colleague, api):
    grant(developer, "validator")
    submit(colleagues_version, colleague)
    response = api(developer).post(TRANSITIONS.format(colleagues_version.pk), {"action": "start_validation"},
                                   format="json")
    assert response.status_code == 403, response.content
    assert response.json()["error"]["code"] == "segregation_of_duties"
    assert "owner" in response.json()["error"]["message"]
    colleagues_version.refresh_from_db()
    assert colleagues_version.status == "submitted" and colleagues_version.validator is None


def test_the_transitions_listing_tells_the_owner_why_not(colleagues_version, developer, colleague, api):
    grant(developer, "validator")
    submit(colleagues_version, colleague)
    rows = api(developer).get(TRANSITIONS.format(colleagues_version.pk)).json()
    start = next(r for r in rows if r["action"] == "start_validation")
    assert start["allowed"] is False and "owner" in start["why_not"]


def test_a_former_developer_cannot_sign_the_validation_decision(
        model_record, developer, colleague, make_user, validator, passing_evidence):
    # The colleague develops for a while, then leaves; later they are made a validator.
    model_update(actor=developer, model=model_record, developers=[developer, colleague])
    model_update(actor=developer, model=model_record, developers=[developer])
    grant(colleague, "validator")
    version = version_create(actor=developer, model=model_record, version="3.0.0",
                             **trained_checkpoint(actor=developer, model=model_record))
    submit(version, developer)
    assert "a former developer of this model" in independence_conflict(colleague, version)
    with pytest.raises(Forbidden) as error:
        version_transition(actor=colleague, version=version, action="start_validation")
    assert error.value.code == "segregation_of_duties" and "former" in error.value.message
    # An independent validator may; the former developer still cannot take the signed decision.
    version = version_transition(actor=validator, version=version, action="start_validation")
    with pytest.raises(Forbidden):
        version_transition(actor=colleague, version=version, action="request_changes", password=PASSWORD,
                           reason="looks wrong")
    assert not AuditEvent.objects.filter(action="signature.created", actor_id=colleague.pk).exists()


def test_a_former_version_developer_cannot_approve(
        model_record, developer, colleague, validator, approver, drive, make_version):
    version = make_version(developers=[developer, colleague])
    from governance.services.inventory import version_update

    version_update(actor=developer, version=version, developers=[developer])
    grant(colleague, "approver")
    version = drive(version, "validated")
    with pytest.raises(Forbidden) as error:
        version_transition(actor=colleague, version=version, action="approve", password=PASSWORD)
    assert "former developer of a version" in error.value.message
    assert version_transition(actor=approver, version=version, action="approve", password=PASSWORD).status == \
        "approved"


def test_the_owner_cannot_raise_findings_or_set_roles(colleagues_version, developer, colleague, validator):
    grant(developer, "validator")
    submit(colleagues_version, colleague)
    version = version_transition(actor=validator, version=colleagues_version, action="start_validation")
    with pytest.raises(Forbidden):
        finding_raise(actor=developer, version=version, title="t", description="d", severity="low", owner=colleague,
                      due_date=None)
    grant(developer, "approver")
    with pytest.raises(Forbidden) as error:
        version_role_set(actor=developer, version=version, role="", reason="tidy")
    assert error.value.code == "segregation_of_duties"


def test_leaving_closes_the_involvement_row_and_never_deletes_it(model_record, developer, colleague):
    model_update(actor=developer, model=model_record, developers=[developer, colleague])
    model_update(actor=developer, model=model_record, developers=[developer])
    rows = ModelInvolvement.objects.filter(model=model_record, user=colleague, role="model_developer")
    assert rows.count() == 1 and rows.get().ended_at is not None
    model_update(actor=developer, model=model_record, developers=[developer, colleague])
    assert rows.count() == 2 and rows.filter(ended_at__isnull=True).count() == 1


def test_an_outsider_is_independent(version, validator):
    assert independence_conflict(validator, version) is None


def test_an_admin_transfers_ownership_and_the_former_owner_stays_on_record(model_record, developer, make_user):
    admin = make_user("admin1", "admin")
    successor = make_user("dev3", "developer")
    model_update(actor=admin, model=model_record, owner=successor)
    model_record.refresh_from_db()
    assert model_record.owner_id == successor.pk
    owners = ModelInvolvement.objects.filter(model=model_record, role=InvolvementRole.OWNER)
    assert owners.get(user=developer).ended_at is not None  # the former owner: closed, not deleted
    assert owners.get(user=successor).ended_at is None
    assert AuditEvent.objects.filter(action="model.updated", object_id=model_record.model_id,
                                     after__owner=successor.pk).exists()


def test_a_developer_cannot_transfer_ownership(model_record, developer, make_user):
    successor = make_user("dev3", "developer")
    with pytest.raises(Forbidden):
        model_update(actor=developer, model=model_record, owner=successor)
    model_record.refresh_from_db()
    assert model_record.owner_id == developer.pk


def test_an_owner_change_saved_in_the_admin_goes_through_the_service(model_record, developer, make_user, rf):
    """The admin used to drop an owner change silently (the service ignored ``owner``)."""
    from django.contrib import admin as django_admin
    from django.forms.models import model_to_dict

    from governance.models.inventory import InventoryModel

    admin = make_user("admin1", "admin")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    successor = make_user("dev3", "developer")
    model_admin = django_admin.site._registry[InventoryModel]
    request = rf.post("/admin/")
    request.user = admin
    form_class = model_admin.get_form(request, model_record, change=True)
    data = {k: v for k, v in model_to_dict(model_record).items() if v is not None}
    data.update(owner=successor.pk, developers=[d.pk for d in model_record.developers.all()], upstream=[])
    form = form_class(data=data, instance=InventoryModel.objects.get(pk=model_record.pk))
    assert form.is_valid(), form.errors
    model_admin.save_model(request, form.save(commit=False), form, change=True)
    model_record.refresh_from_db()
    assert model_record.owner_id == successor.pk
    assert ModelInvolvement.objects.filter(model=model_record, role=InvolvementRole.OWNER, user=developer,
                                           ended_at__isnull=False).exists()
