"""Django admin: the inventory is edited through the services (audited, rules enforced);
versions, findings, evidence and signatures are read-only here (the workflow has its own API)."""

from __future__ import annotations

from django.contrib import admin, messages

from governance.errors import ApplicationError
from governance.models import Evidence, Finding, InventoryModel, ModelVersion, Signature
from governance.services.inventory import MODEL_FIELDS, model_create, model_update


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(InventoryModel)
class InventoryModelAdmin(admin.ModelAdmin):
    list_display = ("model_id", "name", "family", "computed_tier", "tier_override", "status", "owner",
                    "next_validation_due")
    list_filter = ("family", "status", "computed_tier", "business_line")
    search_fields = ("model_id", "name", "purpose")
    readonly_fields = ("model_id", "computed_tier", "tier_rule_version", "tier_override", "tier_override_reason",
                       "status", "created_by", "created_at", "updated_at")
    filter_horizontal = ("developers", "upstream")

    def has_delete_permission(self, request, obj=None):
        return False  # models are retired through the workflow, never deleted

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in MODEL_FIELDS if name in form.cleaned_data}
        if change:
            fields = {name: value for name, value in fields.items() if name in form.changed_data}
        try:
            if change:
                # The owner goes through the service too: a transfer is audited and recorded in ModelInvolvement.
                saved = model_update(actor=request.user, model=obj, developers=form.cleaned_data.get("developers"),
                                     owner=form.cleaned_data.get("owner") if "owner" in form.changed_data else None,
                                     upstream=form.cleaned_data.get("upstream"), **fields)
            else:
                saved = model_create(actor=request.user, owner=form.cleaned_data.get("owner"),
                                     developers=form.cleaned_data.get("developers") or (),
                                     upstream=form.cleaned_data.get("upstream") or (), **fields)
        except ApplicationError as error:
            self.message_user(request, error.message, level=messages.ERROR)
            raise
        obj.pk = saved.pk
        obj.model_id = saved.model_id

    def save_related(self, request, form, formsets, change):
        pass  # developers and upstream were set by the service, audited with the rest


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ("model", "version", "status", "engine", "validator", "approver", "created_at")
    list_filter = ("status", "engine")


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = ("version", "title", "severity", "status", "owner", "due_date")
    list_filter = ("severity", "status")


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    list_display = ("version", "kind", "source", "outcome", "created_at")


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = ("version", "signer_username", "meaning", "signed_at", "record_sha256")
