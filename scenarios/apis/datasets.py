"""Scenario API: datasets (upload, built-in import, list, detail) and dataset imports.

An upload is authorised before its body is read (``ImporterOnlyForPost`` and the upload handler's
own check), streamed to disk under the size limit (``scenarios.upload_handlers``), and parsed by a
worker: the answer is 202 with the import's URL and status.
"""

from __future__ import annotations

import json

import django_filters
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.urls import path, reverse
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.errors import InvalidInput
from scenarios import datasets as checks
from scenarios.builtin_data import BUILTINS
from scenarios.models import Dataset
from scenarios.models.dataset import DatasetImport
from scenarios.selectors.dataset_imports import dataset_import_get, dataset_import_list
from scenarios.selectors.datasets import dataset_get, dataset_list
from scenarios.services.dataset_imports import UploadTooLarge, dataset_import_start
from scenarios.services.datasets import dataset_import_builtin, require_importer
from scenarios.upload_handlers import FILE_FIELD, DatasetUploadHandler, StagedUpload


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


class DatasetImportOutput(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None)
    url = serializers.SerializerMethodField()
    dataset_url = serializers.SerializerMethodField()

    class Meta:
        model = DatasetImport
        fields = ["id", "url", "status", "progress", "progress_detail", "error", "name", "filename", "file_format",
                  "size_bytes", "upload_sha256", "options", "dataset", "dataset_url", "created_by", "created_at",
                  "started_at", "finished_at"]

    def get_url(self, row) -> str:
        return reverse("scenarios:dataset_import", args=[row.pk])

    def get_dataset_url(self, row) -> str | None:
        return reverse("scenarios:dataset", args=[row.dataset_id]) if row.dataset_id else None


class ImporterOnlyForPost(BasePermission):
    """POST needs a developer or admin, checked before the body is read (DRF parses it lazily)."""

    def has_permission(self, request, view) -> bool:
        if request.method == "POST":
            require_importer(request.user)
            # DRF's JSON parser reads a body whole, whatever DATA_UPLOAD_MAX_MEMORY_SIZE says.
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
            if not request.content_type.startswith("multipart/") and declared > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                raise UploadTooLarge(f"a JSON or form body is limited to {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} "
                                     "bytes; send a file as multipart/form-data")
        return True


def read_body(request):
    """The parsed body; Django's own body limits become 413/400 answers rather than 500s."""
    try:
        return request.data
    except RequestDataTooBig as error:
        raise UploadTooLarge(f"the form fields exceed {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes") from error
    except (TooManyFieldsSent, TooManyFilesSent) as error:
        raise InvalidInput(f"the form has too many fields or files: {error}") from error


class DatasetFilter(django_filters.FilterSet):
    class Meta:
        model = Dataset
        fields = ["name", "sha256", "frequency"]


class DatasetListCreateApi(generics.ListAPIView):
    """List datasets, or upload one (multipart: file + options) or import a built-in (JSON: builtin)."""

    serializer_class = DatasetOutput
    filterset_class = DatasetFilter
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    permission_classes = [*APIView.permission_classes, ImporterOnlyForPost]

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

    def initial(self, request, *args, **kwargs):
        if request.method == "POST":
            # Before authentication: a session's CSRF check may already read a multipart body.
            self.upload_handler = DatasetUploadHandler(request._request)
            request._request.upload_handlers = [self.upload_handler]
        super().initial(request, *args, **kwargs)

    @extend_schema(request={"multipart/form-data": DatasetUploadInput, "application/json": DatasetUploadInput},
                   responses={201: DatasetOutput, 202: DatasetImportOutput}, operation_id="datasets_create")
    def post(self, request):
        """A file: 202 with the import (parsed by a worker; poll its URL). A builtin: 201 with the dataset."""
        try:
            data = self.DatasetUploadInput(data=read_body(request))
            data.is_valid(raise_exception=True)
            options = dict(data.validated_data)
            upload = options.pop(FILE_FIELD, None)
            builtin = options.pop("builtin", None)
            if builtin:
                for key in ("kind", "column_kinds", "risk_classes", "date_column"):
                    options.pop(key, None)
                dataset = dataset_import_builtin(actor=request.user, builtin=builtin, **options)
                return Response(DatasetOutput(dataset).data, status=status.HTTP_201_CREATED)
            if not isinstance(upload, StagedUpload):
                raise InvalidInput("send the file as multipart/form-data", details={FILE_FIELD: ["a file"]})
            row = dataset_import_start(actor=request.user, staged=upload.staged, **options)
        finally:
            # Whatever no import took (a refused form, an error) is deleted now.
            handler = getattr(self, "upload_handler", None)
            if handler is not None:
                handler.discard()
        row = dataset_import_get(user=request.user, pk=row.pk)  # done already when tasks run in-process
        return Response(DatasetImportOutput(row).data, status=status.HTTP_202_ACCEPTED,
                        headers={"Location": reverse("scenarios:dataset_import", args=[row.pk])})


class DatasetDetailApi(APIView):
    @extend_schema(responses=DatasetOutput, operation_id="datasets_retrieve")
    def get(self, request, pk: int):
        return Response(DatasetOutput(dataset_get(user=request.user, pk=pk)).data)


class DatasetImportListApi(generics.ListAPIView):
    """Your dataset imports (admins and auditors: all), newest first."""

    serializer_class = DatasetImportOutput
    filterset_fields = ["status"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return DatasetImport.objects.none()
        return dataset_import_list(user=self.request.user)


class DatasetImportDetailApi(APIView):
    @extend_schema(responses=DatasetImportOutput, operation_id="dataset_imports_retrieve")
    def get(self, request, pk: int):
        return Response(DatasetImportOutput(dataset_import_get(user=request.user, pk=pk)).data)


urlpatterns = [
    path("datasets/", DatasetListCreateApi.as_view(), name="datasets"),
    path("datasets/<int:pk>/", DatasetDetailApi.as_view(), name="dataset"),
    path("dataset-imports/", DatasetImportListApi.as_view(), name="dataset_imports"),
    path("dataset-imports/<int:pk>/", DatasetImportDetailApi.as_view(), name="dataset_import"),
]
