"""Governance API: the model inventory and model versions."""

from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api_filters import IntegerFilter
from governance.models import InventoryModel, ModelVersion
from governance.models.inventory import (
    SEMVER,
    MaterialityPurpose,
    ModelFamily,
    ModelStatus,
    RegulatoryUse,
    TierChangeRequest,
    VersionStatus,
)
from governance.selectors.inventory import (
    model_get,
    model_list,
    tier_change_get,
    tier_change_list,
    version_get,
    version_list,
)
from governance.services.inventory import (
    model_create,
    model_tier_override,
    model_update,
    version_create,
    version_update,
)
from governance.services.tier_changes import DECISIONS, tier_change_decide, tier_change_propose

User = get_user_model()


@extend_schema_field(OpenApiTypes.INT)
class UserField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        return User.objects.filter(is_active=True)


@extend_schema_field(OpenApiTypes.STR)
class ModelRefField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        super().__init__(slug_field="model_id", queryset=InventoryModel.objects.all(), **kwargs)


class ModelOutput(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username")
    developers = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    upstream = serializers.SlugRelatedField(slug_field="model_id", many=True, read_only=True)
    downstream = serializers.SlugRelatedField(slug_field="model_id", many=True, read_only=True)
    tier = serializers.IntegerField()

    class Meta:
        model = InventoryModel
        fields = [
            "id", "model_id", "name", "purpose", "use_restrictions", "business_line", "owner", "developers",
            "family", "vendor", "inputs", "outputs", "assumptions", "limitations", "upstream", "downstream",
            "regulatory_uses", "exposure_usd", "materiality_purpose", "tier", "computed_tier", "tier_rule_version",
            "tier_override", "tier_override_reason", "validation_frequency_months", "last_validated_on",
            "next_validation_due", "status", "created_at", "updated_at",
        ]


class ModelInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    purpose = serializers.CharField()
    use_restrictions = serializers.CharField(required=False, allow_blank=True)
    business_line = serializers.CharField(max_length=120)
    owner = UserField(required=False)
    developers = UserField(many=True, required=False)
    family = serializers.ChoiceField(choices=ModelFamily.choices)
    vendor = serializers.CharField(required=False, allow_blank=True, max_length=200)
    inputs = serializers.CharField(required=False, allow_blank=True)
    outputs = serializers.CharField(required=False, allow_blank=True)
    assumptions = serializers.CharField(required=False, allow_blank=True)
    limitations = serializers.CharField(required=False, allow_blank=True)
    upstream = ModelRefField(many=True, required=False)
    regulatory_uses = serializers.ListField(child=serializers.ChoiceField(choices=RegulatoryUse.choices),
                                            required=False)
    exposure_usd = serializers.DecimalField(max_digits=20, decimal_places=2, min_value=0)
    materiality_purpose = serializers.ChoiceField(choices=MaterialityPurpose.choices)
    validation_frequency_months = serializers.IntegerField(min_value=1, max_value=120, required=False)
    last_validated_on = serializers.DateField(required=False, allow_null=True)


class ModelFilter(django_filters.FilterSet):
    family = django_filters.ChoiceFilter(choices=ModelFamily.choices)
    status = django_filters.ChoiceFilter(choices=ModelStatus.choices)
    business_line = django_filters.CharFilter(lookup_expr="iexact")
    tier = IntegerFilter(method="filter_tier", min_value=1, max_value=3, help_text="the effective tier, 1 to 3")
    search = django_filters.CharFilter(method="filter_search", label="search name, id, purpose")
    next_validation_before = django_filters.DateFilter(field_name="next_validation_due", lookup_expr="lte")

    class Meta:
        model = InventoryModel
        fields = ["family", "status", "business_line"]

    def filter_tier(self, queryset, name, value):
        return queryset.filter(Q(tier_override=value) | Q(tier_override__isnull=True, computed_tier=value))

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(model_id__icontains=value) | Q(purpose__icontains=value))


class ModelListCreateApi(generics.ListAPIView):
    """The model inventory: list (every role) and register (developers, admins)."""

    serializer_class = ModelOutput
    filterset_class = ModelFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return InventoryModel.objects.none()
        # ModelOutput reads three many-to-many relations by one column each: one query per relation for the
        # page, loading only what is shown (a full row per related model doubled the cost of a 50-row page).
        return model_list(user=self.request.user).prefetch_related(None).prefetch_related(
            Prefetch("developers", queryset=User.objects.only("id", "username")),
            Prefetch("upstream", queryset=InventoryModel.objects.only("id", "model_id")),
            Prefetch("downstream", queryset=InventoryModel.objects.only("id", "model_id")),
        )

    @extend_schema(request=ModelInput, responses={201: ModelOutput}, operation_id="models_create")
    def post(self, request):
        data = ModelInput(data=request.data)
        data.is_valid(raise_exception=True)
        model = model_create(actor=request.user, **data.validated_data)
        return Response(ModelOutput(model).data, status=status.HTTP_201_CREATED)


class ModelDetailApi(APIView):
    class ModelUpdateInput(ModelInput):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, partial=True, **kwargs)

    @extend_schema(responses=ModelOutput, operation_id="models_retrieve")
    def get(self, request, model_id: str):
        return Response(ModelOutput(model_get(user=request.user, model_id=model_id)).data)

    @extend_schema(request=ModelUpdateInput, responses=ModelOutput, operation_id="models_update")
    def patch(self, request, model_id: str):
        model = model_get(user=request.user, model_id=model_id)
        data = self.ModelUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields.pop("owner", None)
        model = model_update(actor=request.user, model=model, **fields)
        return Response(ModelOutput(model).data)


class ModelTierOverrideApi(APIView):
    class TierOverrideInput(serializers.Serializer):
        tier = serializers.IntegerField(min_value=1, max_value=3, allow_null=True)
        reason = serializers.CharField()

    @extend_schema(request=TierOverrideInput, responses=ModelOutput, operation_id="models_tier_override")
    def post(self, request, model_id: str):
        model = model_get(user=request.user, model_id=model_id)
        data = self.TierOverrideInput(data=request.data)
        data.is_valid(raise_exception=True)
        model = model_tier_override(actor=request.user, model=model, **data.validated_data)
        return Response(ModelOutput(model).data)


class VersionOutput(serializers.ModelSerializer):
    model = serializers.CharField(source="model.model_id")
    created_by = serializers.CharField(source="created_by.username")
    developers = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    # Empty until the workflow step that fills them: null in the data, so nullable in the schema.
    submitted_by = serializers.CharField(source="submitted_by.username", default=None, allow_null=True,
                                         read_only=True)
    validator = serializers.CharField(source="validator.username", default=None, allow_null=True, read_only=True)
    approver = serializers.CharField(source="approver.username", default=None, allow_null=True, read_only=True)

    class Meta:
        model = ModelVersion
        fields = [
            "id", "model", "version", "status", "role", "engine", "config", "checkpoint_sha256", "checkpoint_uri",
            "training_run", "dataset_fingerprints", "train_start", "train_end", "holdout_start", "holdout_end",
            "environment", "notes", "developers", "created_by", "submitted_by", "validator", "approver",
            "created_at", "updated_at",
        ]


class VersionInput(serializers.Serializer):
    version = serializers.RegexField(SEMVER.regex, max_length=64)
    developers = UserField(many=True, required=False)
    engine = serializers.CharField(max_length=64, required=False, allow_blank=True)
    config = serializers.JSONField(required=False)
    checkpoint_sha256 = serializers.RegexField(r"^[0-9a-f]{64}$", required=False, allow_blank=True)
    checkpoint_uri = serializers.CharField(max_length=500, required=False, allow_blank=True)
    training_run = serializers.CharField(max_length=100, required=False, allow_blank=True)
    dataset_fingerprints = serializers.ListField(child=serializers.RegexField(r"^[0-9a-f]{64}$"), required=False)
    train_start = serializers.DateField(required=False, allow_null=True)
    train_end = serializers.DateField(required=False, allow_null=True)
    holdout_start = serializers.DateField(required=False, allow_null=True)
    holdout_end = serializers.DateField(required=False, allow_null=True)
    environment = serializers.JSONField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True)


class VersionFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=VersionStatus.choices)
    model = django_filters.CharFilter(field_name="model__model_id")
    engine = django_filters.CharFilter()
    validator = django_filters.NumberFilter(field_name="validator_id")

    class Meta:
        model = ModelVersion
        fields = ["status", "model", "engine", "validator"]


class VersionListApi(generics.ListAPIView):
    """Model versions visible to the caller (object-level rules in governance.access)."""

    serializer_class = VersionOutput
    filterset_class = VersionFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ModelVersion.objects.none()
        return version_list(user=self.request.user).prefetch_related("developers")


class ModelVersionsApi(generics.ListAPIView):
    serializer_class = VersionOutput
    filterset_class = VersionFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ModelVersion.objects.none()
        model = model_get(user=self.request.user, model_id=self.kwargs["model_id"])
        return version_list(user=self.request.user).filter(model=model).prefetch_related("developers")

    @extend_schema(request=VersionInput, responses={201: VersionOutput}, operation_id="model_versions_create")
    def post(self, request, model_id: str):
        model = model_get(user=request.user, model_id=model_id)
        data = VersionInput(data=request.data)
        data.is_valid(raise_exception=True)
        version = version_create(actor=request.user, model=model, **data.validated_data)
        return Response(VersionOutput(version).data, status=status.HTTP_201_CREATED)


class VersionDetailApi(APIView):
    class VersionUpdateInput(VersionInput):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, partial=True, **kwargs)

    @extend_schema(responses=VersionOutput, operation_id="versions_retrieve")
    def get(self, request, pk: int):
        return Response(VersionOutput(version_get(user=request.user, pk=pk)).data)

    @extend_schema(request=VersionUpdateInput, responses=VersionOutput, operation_id="versions_update")
    def patch(self, request, pk: int):
        version = version_get(user=request.user, pk=pk)
        data = self.VersionUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields.pop("version", None)
        version = version_update(actor=request.user, version=version, **fields)
        return Response(VersionOutput(version).data)


class TierChangeOutput(serializers.ModelSerializer):
    model = serializers.CharField(source="model.model_id")
    proposed_by = serializers.CharField(source="proposed_by.username")
    decided_by = serializers.CharField(source="decided_by.username", default=None, allow_null=True, read_only=True)

    class Meta:
        model = TierChangeRequest
        fields = ["id", "model", "changes", "tier_before", "tier_after", "rule_version", "reason", "status",
                  "proposed_by", "proposed_at", "decided_by", "decided_at", "decision_reason"]


class ModelTierChangesApi(generics.ListAPIView):
    """Tier change requests of one model; POST proposes one (issue 16 §5, governance.services.tier_changes)."""

    serializer_class = TierChangeOutput

    class TierChangeInput(serializers.Serializer):
        exposure_usd = serializers.DecimalField(max_digits=20, decimal_places=2, min_value=0, required=False)
        materiality_purpose = serializers.ChoiceField(choices=MaterialityPurpose.choices, required=False)
        reason = serializers.CharField(allow_blank=True)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TierChangeRequest.objects.none()
        model = model_get(user=self.request.user, model_id=self.kwargs["model_id"])
        return tier_change_list(user=self.request.user).filter(model=model)

    @extend_schema(request=TierChangeInput, responses={201: TierChangeOutput},
                   operation_id="models_tier_changes_create")
    def post(self, request, model_id: str):
        model = model_get(user=request.user, model_id=model_id)
        data = self.TierChangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        change = tier_change_propose(actor=request.user, model=model, **data.validated_data)
        return Response(TierChangeOutput(change).data, status=status.HTTP_201_CREATED)


class TierChangeDetailApi(APIView):
    @extend_schema(responses=TierChangeOutput, operation_id="tier_changes_retrieve")
    def get(self, request, pk: int):
        return Response(TierChangeOutput(tier_change_get(user=request.user, pk=pk)).data)


class TierChangeDecisionApi(APIView):
    class TierChangeDecisionInput(serializers.Serializer):
        decision = serializers.ChoiceField(choices=DECISIONS)
        reason = serializers.CharField(allow_blank=True)

    @extend_schema(request=TierChangeDecisionInput, responses=TierChangeOutput, operation_id="tier_changes_decide")
    def post(self, request, pk: int):
        change = tier_change_get(user=request.user, pk=pk)
        data = self.TierChangeDecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        change = tier_change_decide(actor=request.user, change=change, **data.validated_data)
        return Response(TierChangeOutput(change).data)


urlpatterns = [
    path("models/", ModelListCreateApi.as_view(), name="models"),
    path("models/<str:model_id>/", ModelDetailApi.as_view(), name="model"),
    path("models/<str:model_id>/tier-override/", ModelTierOverrideApi.as_view(), name="model-tier-override"),
    path("models/<str:model_id>/versions/", ModelVersionsApi.as_view(), name="model-versions"),
    path("models/<str:model_id>/tier-changes/", ModelTierChangesApi.as_view(), name="model-tier-changes"),
    path("tier-changes/<int:pk>/", TierChangeDetailApi.as_view(), name="tier-change"),
    path("tier-changes/<int:pk>/decision/", TierChangeDecisionApi.as_view(), name="tier-change-decision"),
    path("versions/", VersionListApi.as_view(), name="versions"),
    path("versions/<int:pk>/", VersionDetailApi.as_view(), name="version"),
]
