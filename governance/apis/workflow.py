"""Governance API: workflow transitions with e-signatures, signatures, findings, evidence."""

from __future__ import annotations

import django_filters
from django.urls import path, re_path
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.access import require_any_role
from governance.apis.inventory import UserField, VersionOutput
from governance.models import Evidence, Finding, Signature
from governance.models.inventory import VersionRole
from governance.models.review import FindingStatus, Severity
from governance.roles import has_role
from governance.selectors.inventory import (
    evidence_list,
    finding_get,
    finding_list,
    signature_list,
    version_get,
)
from governance.services.review import finding_accept_risk, finding_close, finding_raise, finding_remediate
from governance.services.workflow import segregation_violation, version_role_set, version_transition
from governance.signatures import changed_fields, signature_is_bound, state_hash
from governance.workflow import ACTIONS, TRANSITIONS, transitions_from


class TransitionOutput(serializers.Serializer):
    action = serializers.CharField()
    source = serializers.CharField()
    target = serializers.CharField()
    role = serializers.CharField()
    signature_meaning = serializers.CharField(allow_null=True)


class WorkflowApi(APIView):
    """The workflow as data: every allowed transition."""

    @extend_schema(responses=TransitionOutput(many=True), operation_id="workflow_transitions")
    def get(self, request):
        require_any_role(request.user)
        return Response(TransitionOutput(TRANSITIONS, many=True).data)


class VersionTransitionApi(APIView):
    class TransitionInput(serializers.Serializer):
        action = serializers.ChoiceField(choices=ACTIONS)
        password = serializers.CharField(required=False, allow_blank=True, write_only=True,
                                         help_text="your password, re-entered to sign")
        reason = serializers.CharField(required=False, allow_blank=True, default="")
        override_reason = serializers.CharField(required=False, allow_blank=True, default="",
                                                help_text="superusers acting without the role must say why")

    class AvailableTransitionOutput(TransitionOutput):
        allowed = serializers.BooleanField()
        why_not = serializers.CharField(allow_null=True)

    @extend_schema(responses=AvailableTransitionOutput(many=True), operation_id="version_transitions_available")
    def get(self, request, pk: int):
        """The transitions from the version's current status, and whether the caller may take each."""
        version = version_get(user=request.user, pk=pk)
        rows = []
        for t in transitions_from(version.status):
            why = None if has_role(request.user, t.role) else f"needs the role {t.role}"
            why = why or segregation_violation(request.user, version, t)
            rows.append({**t.__dict__, "allowed": why is None, "why_not": why})
        return Response(self.AvailableTransitionOutput(rows, many=True).data)

    @extend_schema(request=TransitionInput, responses=VersionOutput, operation_id="version_transition")
    def post(self, request, pk: int):
        version = version_get(user=request.user, pk=pk)
        data = self.TransitionInput(data=request.data)
        data.is_valid(raise_exception=True)
        version = version_transition(actor=request.user, version=version, **data.validated_data)
        return Response(VersionOutput(version).data)


class VersionRoleApi(APIView):
    """Champion / challenger / benchmark: a governance decision (approver or admin), audited."""

    class RoleInput(serializers.Serializer):
        # A plain string: the service answers an unknown role with 400 naming the choices.
        role = serializers.CharField(allow_blank=True, help_text=f"one of {', '.join(map(repr, VersionRole.values))}")
        reason = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(request=RoleInput, responses=VersionOutput, operation_id="version_role_set")
    def post(self, request, pk: int):
        version = version_get(user=request.user, pk=pk)
        data = self.RoleInput(data=request.data)
        data.is_valid(raise_exception=True)
        version = version_role_set(actor=request.user, version=version, **data.validated_data)
        return Response(VersionOutput(version).data)


class SignatureOutput(serializers.ModelSerializer):
    bound = serializers.SerializerMethodField(help_text="the version still matches what was signed")
    changed_fields = serializers.SerializerMethodField()

    class Meta:
        model = Signature
        fields = ["id", "signer_username", "role", "action", "meaning", "from_status", "to_status", "reason",
                  "signed_at", "record_sha256", "bound", "changed_fields"]

    def get_bound(self, obj) -> bool:
        return signature_is_bound(obj, self.context.get("current_hash"))

    def get_changed_fields(self, obj) -> list[str]:
        return [] if self.get_bound(obj) else changed_fields(obj)


class VersionSignaturesApi(APIView):
    @extend_schema(responses=SignatureOutput(many=True), operation_id="version_signatures")
    def get(self, request, pk: int):
        version = version_get(user=request.user, pk=pk)
        context = {"current_hash": state_hash(version)}
        return Response(SignatureOutput(signature_list(version=version), many=True, context=context).data)


class FindingOutput(serializers.ModelSerializer):
    raised_by = serializers.CharField(source="raised_by.username")
    owner = serializers.CharField(source="owner.username")
    model = serializers.CharField(source="version.model.model_id")

    class Meta:
        model = Finding
        fields = ["id", "version", "model", "title", "description", "severity", "status", "raised_by", "owner",
                  "due_date", "remediation_notes", "resolution", "created_at", "updated_at"]


class FindingFilter(django_filters.FilterSet):
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    status = django_filters.MultipleChoiceFilter(choices=FindingStatus.choices)
    version = django_filters.NumberFilter(field_name="version_id")
    owner = django_filters.NumberFilter(field_name="owner_id")
    overdue_on = django_filters.DateFilter(field_name="due_date", lookup_expr="lt")

    class Meta:
        model = Finding
        fields = ["severity", "status", "version", "owner"]


class FindingListApi(generics.ListAPIView):
    serializer_class = FindingOutput
    filterset_class = FindingFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Finding.objects.none()
        return finding_list(user=self.request.user)


class VersionFindingsApi(generics.ListAPIView):
    serializer_class = FindingOutput
    filterset_class = FindingFilter

    class FindingInput(serializers.Serializer):
        title = serializers.CharField(max_length=200)
        description = serializers.CharField()
        severity = serializers.ChoiceField(choices=Severity.choices)
        owner = UserField()
        due_date = serializers.DateField()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Finding.objects.none()
        version = version_get(user=self.request.user, pk=self.kwargs["pk"])
        return finding_list(user=self.request.user).filter(version=version)

    @extend_schema(request=FindingInput, responses={201: FindingOutput}, operation_id="version_findings_raise")
    def post(self, request, pk: int):
        version = version_get(user=request.user, pk=pk)
        data = self.FindingInput(data=request.data)
        data.is_valid(raise_exception=True)
        finding = finding_raise(actor=request.user, version=version, **data.validated_data)
        return Response(FindingOutput(finding).data, status=status.HTTP_201_CREATED)


class FindingDetailApi(APIView):
    @extend_schema(responses=FindingOutput, operation_id="findings_retrieve")
    def get(self, request, pk: int):
        return Response(FindingOutput(finding_get(user=request.user, pk=pk)).data)


class FindingActionApi(APIView):
    """remediate (owner/developer), close (validator), accept-risk (approver)."""

    ACTIONS = {
        "remediate": (finding_remediate, "remediation_notes"),
        "close": (finding_close, "resolution"),
        "accept-risk": (finding_accept_risk, "resolution"),
    }

    SIGNED = {"close", "accept-risk"}

    class FindingActionInput(serializers.Serializer):
        text = serializers.CharField(help_text="remediation notes, or the resolution / reason")
        password = serializers.CharField(required=False, allow_blank=True, write_only=True,
                                         help_text="close and accept-risk are e-signed: your password, re-entered")

    @extend_schema(request=FindingActionInput, responses=FindingOutput, operation_id="findings_action")
    def post(self, request, pk: int, action: str):
        finding = finding_get(user=request.user, pk=pk)
        service, argument = self.ACTIONS[action]
        data = self.FindingActionInput(data=request.data)
        data.is_valid(raise_exception=True)
        signed = {"password": data.validated_data.get("password", "")} if action in self.SIGNED else {}
        finding = service(actor=request.user, finding=finding, **{argument: data.validated_data["text"]}, **signed)
        return Response(FindingOutput(finding).data)


class EvidenceOutput(serializers.ModelSerializer):
    class Meta:
        model = Evidence
        fields = ["id", "version", "kind", "source", "outcome", "summary", "sha256", "created_at"]


class EvidenceFilter(django_filters.FilterSet):
    version = django_filters.NumberFilter(field_name="version_id")

    class Meta:
        model = Evidence
        fields = ["version", "kind", "outcome"]


class EvidenceListApi(generics.ListAPIView):
    """Evidence pushed down by validation and reports (read-only over the API)."""

    serializer_class = EvidenceOutput
    filterset_class = EvidenceFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Evidence.objects.none()
        qs = evidence_list(user=self.request.user)
        if "pk" in self.kwargs:
            qs = qs.filter(version=version_get(user=self.request.user, pk=self.kwargs["pk"]))
        return qs


urlpatterns = [
    path("workflow/", WorkflowApi.as_view(), name="workflow"),
    path("versions/<int:pk>/transitions/", VersionTransitionApi.as_view(), name="version-transitions"),
    path("versions/<int:pk>/role/", VersionRoleApi.as_view(), name="version-role"),
    path("versions/<int:pk>/signatures/", VersionSignaturesApi.as_view(), name="version-signatures"),
    path("versions/<int:pk>/findings/", VersionFindingsApi.as_view(), name="version-findings"),
    path("versions/<int:pk>/evidence/", EvidenceListApi.as_view(), name="version-evidence"),
    path("findings/", FindingListApi.as_view(), name="findings"),
    path("findings/<int:pk>/", FindingDetailApi.as_view(), name="finding"),
    re_path(r"^findings/(?P<pk>[0-9]+)/(?P<action>remediate|close|accept-risk)/$", FindingActionApi.as_view(),
            name="finding-action"),
    path("evidence/", EvidenceListApi.as_view(), name="evidence"),
]
