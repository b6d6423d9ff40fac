"""Scenario API: datasets (upload, built-in import, list, detail)."""

from __future__ import annotations

import json

import django_filters
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.errors import InvalidInput
from scenarios import datasets as checks
from scenarios.builtin_data import BUILTINS
from scenarios.models import Dataset
from scenarios.selectors.datasets import dataset_get, dataset_list
from scenarios.services.datasets import dataset_import_builtin, dataset_import_upload


class DatasetOutput(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None)

    class Meta:
        model = Dataset
        fields = ["id", "name", "version", "description", "source", "frequency", "factors", "column_kinds",
                  "risk_classes", "schema", "n_rows", "start_date", "end_date", "nan_policy", "quality", "sha256",
                  "size_bytes", "increments_sha256", "created_by", "created_at"]


class JSONMapField(serializers.JSONField):
    """A column → value map, sent as JSON (also as a JSON string inside a multipart form)."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except json.JSONDecodeError as error:
                raise serializers.ValidationError(f"not valid JSON: {error}") from error
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise serializers.ValidationError("an object mapping column names to strings")
        return data


class DatasetFilter(django_filters.FilterSet):
    class Meta:
        model = Dataset
        fields = ["name", "sha256", "frequency"]


class DatasetListCreateApi(generics.ListAPIView):
    """List datasets, or upload one (multipart: file + options) or import a built-in (JSON: builtin)."""

    serializer_class = DatasetOutput
    filterset_class = DatasetFilter
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    class DatasetUploadInput(serializers.Serializer):
        file = serializers.FileField(required=False)
        builtin = serializers.ChoiceField(choices=sorted(BUILTINS), required=False)
        name = serializers.CharField(max_length=100, required=False)
        kind = serializers.ChoiceField(choices=checks.COLUMN_KINDS, default="prices")
        column_kinds = JSONMapField(required=False)
        risk_classes = JSONMapField(required=False)
        date_column = serializers.CharField(default="date")
        nan_policy = serializers.ChoiceField(choices=checks.NAN_POLICIES, default="reject")
        ffill_limit = serializers.IntegerField(min_value=1, max_value=100, default=5)
        min_rows = serializers.IntegerField(min_value=2, default=checks.DEFAULT_MIN_ROWS)
        description = serializers.CharField(required=False, allow_blank=True, default="")

        def validate(self, attrs):
            if bool(attrs.get("file")) == bool(attrs.get("builtin")):
                raise serializers.ValidationError("send either a file or a builtin name")
            if attrs.get("file") and not attrs.get("name"):
                raise serializers.ValidationError({"name": ["required with a file"]})
            return attrs

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Dataset.objects.none()
        return dataset_list(user=self.request.user)

    @extend_schema(request={"multipart/form-data": DatasetUploadInput, "application/json": DatasetUploadInput},
                   responses={201: DatasetOutput}, operation_id="datasets_create")
    def post(self, request):
        data = self.DatasetUploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        options = dict(data.validated_data)
        upload = options.pop("file", None)
        builtin = options.pop("builtin", None)
        if builtin:
            for key in ("kind", "column_kinds", "risk_classes", "date_column"):
                options.pop(key, None)
            dataset = dataset_import_builtin(actor=request.user, builtin=builtin, **options)
        else:
            if upload is None:
                raise InvalidInput("no file uploaded")
            dataset = dataset_import_upload(actor=request.user, handle=upload, filename=upload.name,
                                            size=upload.size, **options)
        return Response(DatasetOutput(dataset).data, status=status.HTTP_201_CREATED)


class DatasetDetailApi(APIView):
    @extend_schema(responses=DatasetOutput, operation_id="datasets_retrieve")
    def get(self, request, pk: int):
        return Response(DatasetOutput(dataset_get(user=request.user, pk=pk)).data)


urlpatterns = [
    path("datasets/", DatasetListCreateApi.as_view(), name="datasets"),
    path("datasets/<int:pk>/", DatasetDetailApi.as_view(), name="dataset"),
]
