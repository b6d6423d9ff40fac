"""Validation API: start a validation run, read its results, list by model version; policies."""

from __future__ import annotations

import django_filters
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.access import require_any_role
from governance.api_filters import IntegerFilter
from governance.models import RunStatus
from scenarios.models import ScenarioSet
from scenarios.selectors.runs import get_or_404, scenario_set_list
from validation import suite
from validation.models import MetricRow, ValidationPolicy, ValidationRun
from validation.outcomes import not_run_tiers
from validation.selectors.runs import validation_run_get, validation_run_list
from validation.services.policy import policy_update
from validation.services.runs import validation_run_start


class MetricRowOutput(serializers.ModelSerializer):
    class Meta:
        model = MetricRow
        fields = ["tier", "name", "factor", "value", "pvalue", "threshold", "warn_threshold", "direction", "floor",
                  "outcome", "details", "reference"]


class ValidationRunOutput(serializers.ModelSerializer):
    policy = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username")
    not_run_tiers = serializers.SerializerMethodField(help_text="tiers that tested nothing (outcome NOT_RUN)")

    class Meta:
        model = ValidationRun
        fields = ["id", "status", "progress", "parts", "error", "scenario_set", "model_version", "dataset", "policy",
                  "train_start", "train_end", "holdout_start", "holdout_end", "tiers", "options", "tier_outcomes",
                  "outcome", "not_run_tiers", "results_sha256", "seed", "created_by", "created_at", "started_at",
                  "finished_at"]

    def get_not_run_tiers(self, obj) -> list[str]:
        return not_run_tiers(obj.tier_outcomes or {})

    def get_policy(self, obj) -> str:
        return f"tier {obj.policy.model_tier} v{obj.policy.version}"


class ValidationRunDetailOutput(ValidationRunOutput):
    metrics = MetricRowOutput(many=True, read_only=True)

    class Meta(ValidationRunOutput.Meta):
        fields = [*ValidationRunOutput.Meta.fields, "metrics"]


class ValidationRunFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=RunStatus.choices)

    class Meta:
        model = ValidationRun
        fields = ["status", "model_version", "scenario_set", "outcome"]


class ValidationRunListCreateApi(generics.ListAPIView):
    serializer_class = ValidationRunOutput
    filterset_class = ValidationRunFilter

    class ValidationRunInput(serializers.Serializer):
        scenario_set = serializers.PrimaryKeyRelatedField(queryset=ScenarioSet.objects.all())
        tiers = serializers.ListField(child=serializers.ChoiceField(choices=suite.TIERS), required=False,
                                      allow_empty=False)
        options = serializers.JSONField(required=False, default=dict,
                                        help_text='e.g. {"portfolio_weights": {"SP500": 1.0}, "coherence_rules": []}')
        train_end = serializers.DateField(required=False, allow_null=True, default=None)
        holdout_start = serializers.DateField(required=False, allow_null=True, default=None)
        holdout_end = serializers.DateField(required=False, allow_null=True, default=None)
        seed = serializers.IntegerField(min_value=0, max_value=2**63 - 1, default=0)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ValidationRun.objects.none()
        return validation_run_list(user=self.request.user)

    @extend_schema(request=ValidationRunInput, responses={202: ValidationRunOutput},
                   operation_id="validation_runs_start")
    def post(self, request):
        data = self.ValidationRunInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        scenario_set = get_or_404(scenario_set_list(user=request.user), values.pop("scenario_set").pk,
                                  "scenario set")
        if not isinstance(values.get("options"), dict):
            values["options"] = {}
        run = validation_run_start(actor=request.user, scenario_set=scenario_set, **values)
        return Response(ValidationRunOutput(run).data, status=status.HTTP_202_ACCEPTED)


class ValidationRunDetailApi(APIView):
    @extend_schema(responses=ValidationRunDetailOutput, operation_id="validation_runs_retrieve")
    def get(self, request, pk: int):
        run = validation_run_get(user=request.user, pk=pk)
        return Response(ValidationRunDetailOutput(run).data)


class PolicyOutput(serializers.ModelSerializer):
    class Meta:
        model = ValidationPolicy
        fields = ["id", "model_tier", "version", "thresholds", "noise_floor", "suite_settings", "note", "created_at"]


class PolicyFilter(django_filters.FilterSet):
    model_tier = IntegerFilter(min_value=1, max_value=3, help_text="the model tier, 1 to 3")

    class Meta:
        model = ValidationPolicy
        fields = ["model_tier"]


class PolicyListApi(generics.ListAPIView):
    """Validation policies, every version; admins post a change for one tier."""

    serializer_class = PolicyOutput
    filterset_class = PolicyFilter

    class PolicyUpdateInput(serializers.Serializer):
        model_tier = serializers.IntegerField(min_value=1, max_value=3)
        thresholds = serializers.JSONField()
        note = serializers.CharField()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ValidationPolicy.objects.none()
        require_any_role(self.request.user)
        return ValidationPolicy.objects.all()

    @extend_schema(request=PolicyUpdateInput, responses={201: PolicyOutput}, operation_id="validation_policies_update")
    def post(self, request):
        data = self.PolicyUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        policy = policy_update(actor=request.user, **data.validated_data)
        return Response(PolicyOutput(policy).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("validation-runs/", ValidationRunListCreateApi.as_view(), name="validation-runs"),
    path("validation-runs/<int:pk>/", ValidationRunDetailApi.as_view(), name="validation-run"),
    path("validation-policies/", PolicyListApi.as_view(), name="validation-policies"),
]
