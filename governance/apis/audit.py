"""Governance API: the audit trail (events, verification, signed checkpoints, the platform key)."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from governance import signing
from governance.api_filters import BIGINT_MAX, IntegerFilter, IntegerRangeFilter
from governance.audit_verify import verify_audit_chain
from governance.errors import ApplicationError
from governance.models import AuditCheckpoint, AuditEvent
from governance.selectors.audit import (
    AuditEventFilter,
    audit_checkpoint_list,
    audit_event_get,
    audit_event_list,
    require_any_role,
    require_checkpoint_role,
)
from governance.services.checkpoints import REASON_MAX_LENGTH, audit_checkpoint_create, checkpoint_message

TAGS = ["audit"]


class SigningUnavailable(ApplicationError):
    status_code = 503
    default_code = "signing_unavailable"


def _signing(call):
    """Run ``call``; a misconfigured signing key is the operator's to fix, answered as 503."""
    try:
        return call()
    except ImproperlyConfigured as exc:
        raise SigningUnavailable(f"The platform signing key is not usable: {exc}") from exc


class AuditEventOutput(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "seq", "timestamp", "actor_id", "actor_username", "action", "object_type", "object_id",
            "before", "after", "reason", "prev_hash", "hash",
        ]
        read_only_fields = fields


class AuditCheckpointOutput(serializers.ModelSerializer):
    fingerprint = serializers.SerializerMethodField(help_text="sha256: + SHA-256 of the raw public key")
    signed_message = serializers.SerializerMethodField(
        help_text="the exact UTF-8 text the signature covers (canonical JSON of seq, head_hash, signed_at, reason)"
    )

    class Meta:
        model = AuditCheckpoint
        fields = ["id", "seq", "head_hash", "signed_at", "reason", "public_key", "signature", "fingerprint",
                  "signed_message"]
        read_only_fields = fields

    def get_fingerprint(self, obj: AuditCheckpoint) -> str:
        try:
            return signing.key_fingerprint(obj.public_key)
        except ValueError:
            return ""

    def get_signed_message(self, obj: AuditCheckpoint) -> str:
        return checkpoint_message(
            seq=obj.seq, head_hash=obj.head_hash, signed_at=obj.signed_at, reason=obj.reason
        ).decode("utf-8")


class AuditEventListFilter(AuditEventFilter):
    """The selector's filters, with the numeric ones as bounded whole numbers (a bad one is a 400 naming it)."""

    actor = IntegerFilter(field_name="actor_id", min_value=1, max_value=BIGINT_MAX, help_text="the acting user's id")
    seq = IntegerRangeFilter(min_value=1, max_value=BIGINT_MAX,
                             help_text="seq_min / seq_max: sequence number bounds, inclusive")

    class Meta(AuditEventFilter.Meta):
        pass


class AuditEventListApi(generics.ListAPIView):
    """The audit trail, oldest first. Auditors, admins, validators and approvers read every event;
    developers read the events they are the actor of."""

    OutputSerializer = AuditEventOutput

    serializer_class = OutputSerializer
    filterset_class = AuditEventListFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return AuditEvent.objects.none()
        return audit_event_list(user=self.request.user)

    @extend_schema(operation_id="audit_events_list", tags=TAGS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class AuditEventDetailApi(APIView):
    """One audit event by sequence number (404 when absent or not readable by the caller)."""

    OutputSerializer = AuditEventOutput

    @extend_schema(responses=OutputSerializer, operation_id="audit_event_get", tags=TAGS)
    def get(self, request, seq: int):
        event = audit_event_get(user=request.user, seq=seq)
        return Response(self.OutputSerializer(event).data)


class AuditVerifyApi(APIView):
    """Recompute the hash chain and check every signed checkpoint now. 200 either way: see ``ok``."""

    @extend_schema_serializer(component_name="AuditVerification")
    class OutputSerializer(serializers.Serializer):
        @extend_schema_serializer(component_name="AuditCheckpointSummary")
        class CheckpointSummary(serializers.Serializer):
            id = serializers.IntegerField()
            seq = serializers.IntegerField()
            head_hash = serializers.CharField()
            signed_at = serializers.DateTimeField()
            reason = serializers.CharField()
            public_key = serializers.CharField()
            fingerprint = serializers.CharField()
            signature_valid = serializers.BooleanField()
            trusted_key = serializers.BooleanField()

        @extend_schema_serializer(component_name="AuditProblem")
        class Problem(serializers.Serializer):
            seq = serializers.IntegerField()
            reason = serializers.CharField()

        ok = serializers.BooleanField()
        n_events = serializers.IntegerField(help_text="events verified intact from seq 1")
        first_broken_seq = serializers.IntegerField(allow_null=True)
        reason = serializers.CharField(allow_blank=True, help_text="why the chain breaks there; empty when ok")
        head_seq = serializers.IntegerField(allow_null=True)
        head_hash = serializers.CharField(allow_null=True)
        n_checkpoints = serializers.IntegerField()
        last_checkpoint = CheckpointSummary(allow_null=True)
        problems = Problem(many=True, help_text="every problem found, by seq (at most 50)")

    @extend_schema(responses=OutputSerializer, operation_id="audit_verify", tags=TAGS)
    def get(self, request):
        require_any_role(request.user)
        result = _signing(verify_audit_chain)
        return Response(self.OutputSerializer(result.to_dict()).data)


class AuditCheckpointListApi(generics.ListAPIView):
    """Signed checkpoints of the chain head, newest first; POST signs the head now."""

    @extend_schema_serializer(component_name="AuditCheckpointInput")
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=REASON_MAX_LENGTH, help_text="why; signed with the head")

    OutputSerializer = AuditCheckpointOutput

    serializer_class = OutputSerializer
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AuditCheckpoint.objects.none()
        return audit_checkpoint_list(user=self.request.user)

    @extend_schema(operation_id="audit_checkpoints_list", tags=TAGS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer, 400: OpenApiResponse(description="reason missing or too long"),
                   403: OpenApiResponse(description="only admins (the auditor is read-only)")},
        operation_id="audit_checkpoint_create",
        tags=TAGS,
    )
    def post(self, request):
        require_checkpoint_role(request.user)  # admin only: the auditor is read-only
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        checkpoint = _signing(lambda: audit_checkpoint_create(actor=request.user, **data.validated_data))
        return Response(self.OutputSerializer(checkpoint).data, status=status.HTTP_201_CREATED)


class PublicKeyApi(APIView):
    """The platform's Ed25519 public key: what checkpoints and submission packets are signed with."""

    @extend_schema_serializer(component_name="PlatformPublicKey")
    class OutputSerializer(serializers.Serializer):
        algorithm = serializers.CharField()
        public_key = serializers.CharField(help_text="raw 32-byte public key, hex")
        fingerprint = serializers.CharField()

    @extend_schema(responses=OutputSerializer, operation_id="audit_public_key", tags=TAGS)
    def get(self, request):
        public_key = _signing(signing.platform_public_key_hex)
        data = {"algorithm": signing.ALGORITHM, "public_key": public_key,
                "fingerprint": signing.key_fingerprint(public_key)}
        return Response(self.OutputSerializer(data).data)


urlpatterns = [
    path("audit/events/", AuditEventListApi.as_view(), name="audit-events"),
    path("audit/events/<int:seq>/", AuditEventDetailApi.as_view(), name="audit-event"),
    path("audit/verify/", AuditVerifyApi.as_view(), name="audit-verify"),
    path("audit/checkpoints/", AuditCheckpointListApi.as_view(), name="audit-checkpoints"),
    path("audit/public-key/", PublicKeyApi.as_view(), name="audit-public-key"),
]
