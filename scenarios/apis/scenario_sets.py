"""Scenario API: scenario sets — list, detail, download in the scenario file format, import."""

from __future__ import annotations

import io
import json

import django_filters
import numpy as np
from django.http import HttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.artifacts import read_bytes
from governance.errors import InvalidInput
from scenarios import scenario_files
from scenarios.models import Dataset, ScenarioSet
from scenarios.selectors.runs import get_or_404, scenario_set_list
from scenarios.services.scenario_sets import scenario_set_array, scenario_set_import


class ScenarioSetOutput(serializers.ModelSerializer):
    class Meta:
        model = ScenarioSet
        fields = ["id", "name", "source", "purpose", "model_version", "dataset", "generation_run", "engine",
                  "engine_config", "condition", "seed", "factors", "n_scenarios", "horizon", "sha256", "size_bytes",
                  "out_of_training_range", "out_of_range_reason", "condition_bounds", "filter_report", "created_at"]


class ScenarioSetFilter(django_filters.FilterSet):
    class Meta:
        model = ScenarioSet
        fields = ["model_version", "dataset", "purpose", "sha256"]


class ScenarioSetListApi(generics.ListAPIView):
    serializer_class = ScenarioSetOutput
    filterset_class = ScenarioSetFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ScenarioSet.objects.none()
        return scenario_set_list(user=self.request.user)


class ScenarioSetDetailApi(APIView):
    @extend_schema(responses=ScenarioSetOutput, operation_id="scenario_sets_retrieve")
    def get(self, request, pk: int):
        return Response(ScenarioSetOutput(get_or_404(scenario_set_list(user=request.user), pk, "scenario set")).data)


class ScenarioSetDownloadApi(APIView):
    FORMATS = ("parquet", "csv", "npy")

    @extend_schema(parameters=[OpenApiParameter("file_format", OpenApiTypes.STR, enum=FORMATS)],
                   responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
                   operation_id="scenario_sets_download")
    def get(self, request, pk: int):
        scenario_set = get_or_404(scenario_set_list(user=request.user), pk, "scenario set")
        fmt = request.query_params.get("file_format", "parquet")
        if fmt not in self.FORMATS:
            raise InvalidInput(f"file_format must be one of {', '.join(self.FORMATS)}", details={"file_format": [fmt]})
        if fmt == "parquet":
            body, content_type = read_bytes(scenario_set.storage_path, expected_sha256=scenario_set.sha256), \
                "application/vnd.apache.parquet"
        elif fmt == "csv":
            body = scenario_files.to_csv_bytes(scenario_set_array(scenario_set), scenario_set.factors)
            content_type = "text/csv"
        else:
            buffer = io.BytesIO()
            np.save(buffer, scenario_set_array(scenario_set), allow_pickle=False)
            body, content_type = buffer.getvalue(), "application/octet-stream"
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="scenario-set-{scenario_set.pk}.{fmt}"'
        response["X-Scenario-Set-SHA256"] = scenario_set.sha256
        return response


class ScenarioSetImportApi(APIView):
    parser_classes = [MultiPartParser]

    class ScenarioImportInput(serializers.Serializer):
        file = serializers.FileField()
        name = serializers.CharField(max_length=200)
        dataset = serializers.PrimaryKeyRelatedField(queryset=Dataset.objects.all(), required=False, allow_null=True)
        factors = serializers.CharField(required=False, help_text='JSON list of factor names (needed for .npy)')

    @extend_schema(request={"multipart/form-data": ScenarioImportInput}, responses={201: ScenarioSetOutput},
                   operation_id="scenario_sets_import")
    def post(self, request):
        data = self.ScenarioImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        factors = None
        if data.validated_data.get("factors"):
            try:
                factors = json.loads(data.validated_data["factors"])
            except json.JSONDecodeError as error:
                raise InvalidInput("factors must be a JSON list of names", details={"factors": [str(error)]}) from error
            if not isinstance(factors, list) or not all(isinstance(f, str) for f in factors):
                raise InvalidInput("factors must be a JSON list of names", details={"factors": ["not a list"]})
        upload = data.validated_data["file"]
        scenario_set = scenario_set_import(actor=request.user, data=upload.read(), filename=upload.name,
                                           name=data.validated_data["name"],
                                           dataset=data.validated_data.get("dataset"), factors=factors)
        return Response(ScenarioSetOutput(scenario_set).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("scenario-sets/", ScenarioSetListApi.as_view(), name="scenario-sets"),
    path("scenario-sets/import/", ScenarioSetImportApi.as_view(), name="scenario-set-import"),
    path("scenario-sets/<int:pk>/", ScenarioSetDetailApi.as_view(), name="scenario-set"),
    path("scenario-sets/<int:pk>/download/", ScenarioSetDownloadApi.as_view(), name="scenario-set-download"),
]
