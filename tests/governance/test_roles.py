import pytest
from django.contrib.auth.models import Group

from governance.roles import ALL_ROLES, has_role, user_roles


@pytest.mark.django_db
def test_roles_are_groups_created_by_the_data_migration():
    assert set(Group.objects.values_list("name", flat=True)) >= {
        "developer", "validator", "approver", "auditor", "admin"
    }
    assert set(ALL_ROLES) == {"developer", "validator", "approver", "auditor", "admin"}


@pytest.mark.django_db
def test_user_roles(make_user):
    user = make_user("both", "developer", "auditor")
    assert user_roles(user) == {"developer", "auditor"}
    assert has_role(user, "auditor") and not has_role(user, "approver")
