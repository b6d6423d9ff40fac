"""Scenario API: training runs, generation runs (progress readable), cancellation."""

from __future__ import annotations

import django_filters
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.access import visible_versions
from governance.models import InventoryModel, ModelVersion, RunStatus
from scenarios.engines.registry import ENGINE_MODULES
from scenarios.models import Dataset, GenerationRun, Purpose, TrainingRun
from scenarios.selectors.runs import generation_run_list, get_or_404, training_run_list
from scenarios.services.runs import generation_run_start, run_cancel, training_run_start

RUN_FIELDS = ["id", "status", "progress", "progress_detail", "error", "attempts", "worker", "seed",
              "cancel_requested", "created_by", "created_at", "started_at", "finished_at"]


class TrainingRunOutput(serializers.ModelSerializer):
    model = serializers.CharField(source="model.model_id")
    created_by = serializers.CharField(source="created_by.username")

    class Meta:
        model = TrainingRun
        fields = [*RUN_FIELDS, "model", "version_label", "dataset", "engine", "config", "train_start", "train_end",
                  "holdout_start", "holdout_end", "loss_curve", "environment", "checkpoint_sha256", "model_version"]


class GenerationRunOutput(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username")
    scenario_set = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = GenerationRun
        fields = [*RUN_FIELDS, "model_version", "purpose", "n_scenarios", "horizon", "condition", "scenario_set",
                  "out_of_range_reason", "condition_bounds", "plausibility_filter", "filter_report"]


class RunFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=RunStatus.choices)


class TrainingRunFilter(RunFilter):
    class Meta:
        model = TrainingRun
        fields = ["status", "engine", "dataset"]


class GenerationRunFilter(RunFilter):
    class Meta:
        model = GenerationRun
        fields = ["status", "model_version", "purpose"]


class TrainingRunListCreateApi(generics.ListAPIView):
    serializer_class = TrainingRunOutput
    filterset_class = TrainingRunFilter

    class TrainingRunInput(serializers.Serializer):
        model = serializers.SlugRelatedField(slug_field="model_id", queryset=InventoryModel.objects.all())
        version_label = serializers.CharField(max_length=64)
        dataset = serializers.PrimaryKeyRelatedField(queryset=Dataset.objects.all())
        engine = serializers.ChoiceField(choices=sorted(ENGINE_MODULES))
        config = serializers.JSONField(required=False, default=dict)
        train_start = serializers.DateField(required=False, allow_null=True, default=None)
        train_end = serializers.DateField()
        holdout_start = serializers.DateField()
        holdout_end = serializers.DateField(required=False, allow_null=True, default=None)
        seed = serializers.IntegerField(min_value=0, max_value=2**63 - 1, default=0)

        def validate_config(self, value):
            if not isinstance(value, dict):
                raise serializers.ValidationError("a JSON object")
            return value

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TrainingRun.objects.none()
        return training_run_list(user=self.request.user)

    @extend_schema(request=TrainingRunInput, responses={202: TrainingRunOutput}, operation_id="training_runs_start")
    def post(self, request):
        data = self.TrainingRunInput(data=request.data)
        data.is_valid(raise_exception=True)
        run = training_run_start(actor=request.user, **data.validated_data)
        return Response(TrainingRunOutput(run).data, status=status.HTTP_202_ACCEPTED)


class TrainingRunDetailApi(APIView):
    @extend_schema(responses=TrainingRunOutput, operation_id="training_runs_retrieve")
    def get(self, request, pk: int):
        return Response(TrainingRunOutput(get_or_404(training_run_list(user=request.user), pk, "training run")).data)


class GenerationRunListCreateApi(generics.ListAPIView):
    serializer_class = GenerationRunOutput
    filterset_class = GenerationRunFilter

    class GenerationRunInput(serializers.Serializer):
        model_version = serializers.PrimaryKeyRelatedField(queryset=ModelVersion.objects.all())
        n_scenarios = serializers.IntegerField(min_value=1, max_value=1_000_000)
        horizon = serializers.IntegerField(min_value=1, max_value=520)
        condition = serializers.JSONField(required=False, default=dict,
                                          help_text='e.g. {"severity": "severe"}, {"targets": [{"factor": "SP500", '
                                                    '"move": -0.35, "days": 60}]}, or {"supervisory": {"edition": '
                                                    '"2025", "scenario": "severely_adverse"}}')
        seed = serializers.IntegerField(min_value=0, max_value=2**63 - 1, default=0)
        purpose = serializers.ChoiceField(choices=Purpose.choices, default=Purpose.USE)
        out_of_range_reason = serializers.CharField(
            required=False, default="", allow_blank=True, max_length=2000,
            help_text="a developer's reason to generate from a condition outside the engine's trained range "
                      "(audited; the set is marked out of training range)")
        plausibility_filter = serializers.JSONField(
            required=False, default=None, allow_null=True,
            help_text='{"default": true} or {"rules": [{"rule": "non_negative", "factor": "VIX"}, {"rule": '
                      '"max_daily_move", "factor": "SP500", "maximum_abs": 0.25}]}: paths breaking a rule are '
                      'removed after sampling; the run fails if more than 5 % would be')

        def validate_condition(self, value):
            if not isinstance(value, dict):
                raise serializers.ValidationError("a JSON object")
            return value

        def validate_plausibility_filter(self, value):
            if value is not None and not isinstance(value, dict):
                raise serializers.ValidationError('a JSON object: {"default": true} or {"rules": [...]}')
            return value

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return GenerationRun.objects.none()
        # GenerationRunOutput reads the run's scenario set (a reverse one-to-one): join it, not one query a row.
        return generation_run_list(user=self.request.user).select_related("scenario_set")

    @extend_schema(request=GenerationRunInput, responses={202: GenerationRunOutput},
                   operation_id="generation_runs_start")
    def post(self, request):
        data = self.GenerationRunInput(data=request.data)
        data.is_valid(raise_exception=True)
        # A version the caller may not see is answered as not existing (the one visibility rule).
        get_or_404(visible_versions(request.user), data.validated_data["model_version"].pk, "model version")
        run = generation_run_start(actor=request.user, **data.validated_data)
        return Response(GenerationRunOutput(run).data, status=status.HTTP_202_ACCEPTED)


class GenerationRunDetailApi(APIView):
    @extend_schema(responses=GenerationRunOutput, operation_id="generation_runs_retrieve")
    def get(self, request, pk: int):
        run = get_or_404(generation_run_list(user=request.user), pk, "generation run")
        return Response(GenerationRunOutput(run).data)


class TrainingRunCancelApi(APIView):
    @extend_schema(request=None, responses=TrainingRunOutput, operation_id="training_runs_cancel")
    def post(self, request, pk: int):
        run = get_or_404(training_run_list(user=request.user), pk, "training run")
        return Response(TrainingRunOutput(run_cancel(actor=request.user, run=run)).data)


class GenerationRunCancelApi(APIView):
    @extend_schema(request=None, responses=GenerationRunOutput, operation_id="generation_runs_cancel")
    def post(self, request, pk: int):
        run = get_or_404(generation_run_list(user=request.user), pk, "generation run")
        return Response(GenerationRunOutput(run_cancel(actor=request.user, run=run)).data)


urlpatterns = [
    path("training-runs/", TrainingRunListCreateApi.as_view(), name="training-runs"),
    path("training-runs/<int:pk>/", TrainingRunDetailApi.as_view(), name="training-run"),
    path("generation-runs/", GenerationRunListCreateApi.as_view(), name="generation-runs"),
    path("generation-runs/<int:pk>/", GenerationRunDetailApi.as_view(), name="generation-run"),
    path("training-runs/<int:pk>/cancel/", TrainingRunCancelApi.as_view(), name="training-run-cancel"),
    path("generation-runs/<int:pk>/cancel/", GenerationRunCancelApi.as_view(), name="generation-run-cancel"),
]
