"""The audit trail in the Django admin: visible, never editable."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from governance.services.audit import audit_record
from governance.services.checkpoints import audit_checkpoint_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = User.objects.create_superuser("root", "root@example.com", "x" * 16)
    client.force_login(user)
    return client


def test_events_and_checkpoints_are_read_only(staff_client):
    event = audit_record(actor=None, action="a.b", object_type="t", object_id="1", after={"v": 1})
    checkpoint = audit_checkpoint_create(actor=None, reason="admin test")
    for name, pk in (("auditevent", event.pk), ("auditcheckpoint", checkpoint.pk)):
        base = f"/admin/governance/{name}/"
        listing = staff_client.get(base)
        assert listing.status_code == 200
        assert f"{base}add/".encode() not in listing.content and b'name="action"' not in listing.content
        page = staff_client.get(f"{base}{pk}/change/")
        assert page.status_code == 200 and b'name="_save"' not in page.content
        assert staff_client.get(f"{base}add/").status_code == 403
        assert staff_client.get(f"{base}{pk}/delete/").status_code == 403
        assert staff_client.post(f"{base}{pk}/change/", {"reason": "rewritten"}).status_code == 403
    assert staff_client.get("/admin/governance/auditevent/", {"q": "a.b"}).status_code == 200
