"""Reports API: request and read documentation PDFs and submission packets, download their files.

Who: the version's developers, validators, approvers, auditors and admins (``governance.access``);
a report or packet of a version the caller cannot see answers 404.
"""

from __future__ import annotations

import django_filters
from django.http import FileResponse, HttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.access import require_any_role, visible_versions
from governance.errors import Conflict
from governance.models import RunStatus
from governance.roles import REQUESTER_ROLES
from reports.models import Packet, Report
from reports.selectors import packet_get, report_get, visible_packets, visible_reports
from reports.services.packets import packet_path, packet_start, require_packet_access
from scenarios.models import StressResult
from scenarios.selectors.runs import get_or_404, scenario_set_list
from validation.selectors.runs import validation_run_list


class ReportOutput(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username")
    scenario_sets = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    validation_runs = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    stress_results = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Report
        fields = ["id", "status", "progress", "progress_detail", "error", "model_version", "scenario_sets",
                  "validation_runs", "stress_results", "options", "seed", "sha256", "size_bytes", "pages",
                  "sections", "shap", "timings", "created_by", "created_at", "started_at", "finished_at"]


class PacketFileOutput(serializers.Serializer):
    name = serializers.CharField()
    sha256 = serializers.CharField()
    size = serializers.IntegerField()


class PacketOutput(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username")
    files = PacketFileOutput(many=True, read_only=True)
    lineage_ids = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Packet
        fields = ["id", "status", "progress", "error", "report", "model_version", "sha256", "size_bytes",
                  "manifest_sha256", "files", "lineage_ids", "created_by", "created_at", "started_at", "finished_at"]


class ReportFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=RunStatus.choices)

    class Meta:
        model = Report
        fields = ["status", "model_version"]


class PacketFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=RunStatus.choices)

    class Meta:
        model = Packet
        fields = ["status", "model_version", "report"]


def _ids(label: str):
    return serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, allow_null=True,
                                 default=None, help_text=f"{label} ids; omitted: all of the version's")


class ReportListCreateApi(generics.ListAPIView):
    serializer_class = ReportOutput
    filterset_class = ReportFilter

    class ReportStartInput(serializers.Serializer):
        model_version = serializers.IntegerField(min_value=1)
        scenario_sets = _ids("scenario set")
        validation_runs = _ids("validation run")
        stress_results = _ids("stress result")
        options = serializers.DictField(required=False, default=dict,
                                        help_text="SHAP explainer and sample sizes, limits")
        seed = serializers.IntegerField(min_value=0, max_value=2**63 - 1, default=0)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Report.objects.none()
        # ReportOutput lists the ids of three many-to-many inputs: one query each for the page, not per row.
        return visible_reports(self.request.user).prefetch_related("scenario_sets", "validation_runs",
                                                                    "stress_results")

    @extend_schema(request=ReportStartInput, responses={202: ReportOutput}, operation_id="reports_start")
    def post(self, request):
        from reports.services.documents import report_start

        require_any_role(request.user, *REQUESTER_ROLES)  # 403 for the read-only auditor
        data = self.ReportStartInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        user = request.user
        version = get_or_404(visible_versions(user), values.pop("model_version"), "model version")
        scenario_sets = self._resolve(values.pop("scenario_sets"), scenario_set_list(user=user), "scenario set")
        validation_runs = self._resolve(values.pop("validation_runs"), validation_run_list(user=user),
                                        "validation run")
        stress_results = self._resolve(values.pop("stress_results"), StressResult.objects.filter(
            scenario_set__in=scenario_set_list(user=user)), "stress result")
        report = report_start(actor=user, model_version=version, scenario_sets=scenario_sets,
                              validation_runs=validation_runs, stress_results=stress_results, **values)
        return Response(ReportOutput(report).data, status=status.HTTP_202_ACCEPTED)

    @staticmethod
    def _resolve(ids, queryset, label: str):
        if ids is None:
            return None
        return [get_or_404(queryset, pk, label) for pk in dict.fromkeys(ids)]


class ReportDetailApi(APIView):
    @extend_schema(responses=ReportOutput, operation_id="reports_retrieve")
    def get(self, request, pk: int):
        return Response(ReportOutput(report_get(request.user, pk)).data)


class ReportPdfApi(APIView):
    @extend_schema(responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="the PDF")},
                   operation_id="reports_pdf")
    def get(self, request, pk: int):
        from reports.services.documents import report_pdf_path

        report = report_get(request.user, pk)
        if report.status != RunStatus.SUCCEEDED or not report.storage_path:
            raise Conflict(f"report {report.pk} is {report.status}: there is no PDF yet", code="report_not_ready")
        try:
            data = report_pdf_path(report).read_bytes()
        except OSError as error:
            raise Conflict(f"the PDF of report {report.pk} cannot be read", code="artifact_missing") from error
        response = HttpResponse(data, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="report-{report.pk}.pdf"'
        response["X-Content-SHA256"] = report.sha256
        return response


class PacketListCreateApi(generics.ListAPIView):
    serializer_class = PacketOutput
    filterset_class = PacketFilter

    class PacketStartInput(serializers.Serializer):
        report = serializers.IntegerField(min_value=1, help_text="a SUCCEEDED report's id")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Packet.objects.none()
        return visible_packets(self.request.user)

    @extend_schema(request=PacketStartInput, responses={202: PacketOutput}, operation_id="packets_start")
    def post(self, request):
        require_any_role(request.user, *REQUESTER_ROLES)  # 403 for the read-only auditor
        data = self.PacketStartInput(data=request.data)
        data.is_valid(raise_exception=True)
        report = report_get(request.user, data.validated_data["report"])
        packet = packet_start(actor=request.user, report=report)
        packet.refresh_from_db()  # the embedded default builds it at commit, inline
        return Response(PacketOutput(packet).data, status=status.HTTP_202_ACCEPTED)


class PacketDetailApi(APIView):
    @extend_schema(responses=PacketOutput, operation_id="packets_retrieve")
    def get(self, request, pk: int):
        return Response(PacketOutput(packet_get(request.user, pk)).data)


class PacketDownloadApi(APIView):
    @extend_schema(responses={(200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="the zip")},
                   operation_id="packets_download")
    def get(self, request, pk: int):
        packet = packet_get(request.user, pk)
        require_packet_access(request.user, packet.model_version)
        zip_path = packet_path(packet)
        try:
            handle = zip_path.open("rb")
        except OSError as error:
            raise Conflict(f"the zip of packet {packet.pk} cannot be read", code="artifact_missing") from error
        response = FileResponse(handle, content_type="application/zip", as_attachment=True,
                                filename=f"packet-{packet.pk}.zip")
        response["X-Content-SHA256"] = packet.sha256
        return response


urlpatterns = [
    path("reports/", ReportListCreateApi.as_view(), name="reports"),
    path("reports/<int:pk>/", ReportDetailApi.as_view(), name="report"),
    path("reports/<int:pk>/pdf/", ReportPdfApi.as_view(), name="report-pdf"),
    path("packets/", PacketListCreateApi.as_view(), name="packets"),
    path("packets/<int:pk>/", PacketDetailApi.as_view(), name="packet"),
    path("packets/<int:pk>/download/", PacketDownloadApi.as_view(), name="packet-download"),
]
