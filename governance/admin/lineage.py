"""Django admin: lineage, read-only (it is written by the services that create things, and audited)."""

from __future__ import annotations

from django.contrib import admin

from governance.models import LineageEdge, LineageNode


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(LineageNode)
class LineageNodeAdmin(ReadOnlyAdmin):
    list_display = ["uid", "node_class", "kind", "label", "short_sha256", "object_type", "object_id", "created_at"]
    list_filter = ["node_class", "kind"]
    search_fields = ["uid", "label", "sha256", "object_id"]
    ordering = ["-id"]
    readonly_fields = [
        "uid", "node_class", "kind", "label", "sha256", "object_type", "object_id", "attributes", "created_at",
    ]

    @admin.display(description="sha256")
    def short_sha256(self, obj: LineageNode) -> str:
        return obj.sha256[:12]


@admin.register(LineageEdge)
class LineageEdgeAdmin(ReadOnlyAdmin):
    list_display = ["id", "source", "relation", "target", "created_at"]
    list_filter = ["relation"]
    list_select_related = ["source", "target"]
    search_fields = ["source__uid", "target__uid"]
    ordering = ["-id"]
    readonly_fields = ["source", "target", "relation", "attributes", "created_at"]
