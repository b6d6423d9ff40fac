"""Django admin: the audit trail, read-only (the database refuses changes anyway)."""

from __future__ import annotations

from django.contrib import admin

from governance.models import AuditCheckpoint, AuditEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    actions = None

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "timestamp", "actor_username", "action", "object_type", "object_id", "short_hash")
    list_filter = ("action", "object_type")
    search_fields = ("actor_username", "action", "object_type", "=object_id", "=hash", "reason")
    date_hierarchy = "timestamp"
    ordering = ("-seq",)
    show_full_result_count = False  # a COUNT(*) over a long chain on every page is wasted work

    @admin.display(description="hash")
    def short_hash(self, obj: AuditEvent) -> str:
        return obj.hash[:16]


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    list_display = ("id", "seq", "signed_at", "reason", "short_head_hash", "short_public_key")
    search_fields = ("reason", "=head_hash")
    ordering = ("-seq", "-id")

    @admin.display(description="head hash")
    def short_head_hash(self, obj: AuditCheckpoint) -> str:
        return obj.head_hash[:16]

    @admin.display(description="public key")
    def short_public_key(self, obj: AuditCheckpoint) -> str:
        return obj.public_key[:16]
