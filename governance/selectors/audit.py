"""Reading the audit trail: who may see which events, filters, checkpoints."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from governance import roles
from governance.errors import Forbidden, NotFound
from governance.models import AuditCheckpoint, AuditEvent

# Independent review needs the whole trail; a developer sees what they did themselves.
READ_ALL_ROLES = frozenset({roles.AUDITOR, roles.ADMIN, roles.VALIDATOR, roles.APPROVER})
CHECKPOINT_ROLES = frozenset({roles.ADMIN})  # the auditor is read-only (issue 17)


class AuditEventFilter(django_filters.FilterSet):
    object_type = django_filters.CharFilter(help_text="exact object type, e.g. model_version")
    object_id = django_filters.CharFilter(help_text="exact object id")
    actor = django_filters.NumberFilter(field_name="actor_id", help_text="the acting user's id")
    actor_username = django_filters.CharFilter(help_text="the acting user's username (as recorded)")
    action = django_filters.CharFilter(help_text="exact action, e.g. version.approved")
    action_prefix = django_filters.CharFilter(
        field_name="action", lookup_expr="startswith", help_text="actions starting with this, e.g. 'finding.'"
    )
    timestamp = django_filters.IsoDateTimeFromToRangeFilter(
        help_text="timestamp_after / timestamp_before: ISO 8601 bounds, inclusive"
    )
    seq = django_filters.RangeFilter(help_text="seq_min / seq_max: sequence number bounds, inclusive")

    class Meta:
        model = AuditEvent
        fields: list[str] = []


def audit_reader_scope(user) -> str:
    """``"all"`` or ``"own"``; raises ``Forbidden`` for a user with no platform role."""
    held = roles.user_roles(user)
    if held & READ_ALL_ROLES:
        return "all"
    if roles.DEVELOPER in held:
        return "own"
    raise Forbidden("Reading the audit trail needs a platform role.", code="missing_role")


def audit_event_list(*, user) -> QuerySet[AuditEvent]:
    """The events ``user`` may read, oldest first."""
    events = AuditEvent.objects.order_by("seq")
    if audit_reader_scope(user) == "own":
        events = events.filter(actor_id=user.pk)
    return events


def audit_event_get(*, user, seq: int) -> AuditEvent:
    """One event by sequence number; ``NotFound`` also when it exists but ``user`` may not read it."""
    event = audit_event_list(user=user).filter(seq=seq).first()
    if event is None:
        raise NotFound(f"Audit event {seq} does not exist.")
    return event


def audit_checkpoint_list(*, user) -> QuerySet[AuditCheckpoint]:
    audit_reader_scope(user)
    return AuditCheckpoint.objects.order_by("-seq", "-id")


def audit_checkpoint_last() -> AuditCheckpoint | None:
    return AuditCheckpoint.objects.order_by("-seq", "-id").first()


def require_checkpoint_role(user) -> None:
    if not roles.user_roles(user) & CHECKPOINT_ROLES:
        raise Forbidden("Only an admin may sign a checkpoint on request; the auditor's role is read-only.",
                        code="missing_role")


def require_any_role(user) -> None:
    audit_reader_scope(user)
