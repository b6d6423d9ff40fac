"""Governance API: lineage — the subgraph around a node, as JSON or W3C PROV-JSON, and node search.

Read-only: lineage is written by the services that create things. Anyone holding a platform
role may read it (auditors browse every number back to the bytes it came from), less the nodes
of versions they may not see (governance.selectors.lineage.lineage_hidden_node_ids: 404 for such a
root, left out of a graph or a list).
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.errors import Forbidden, InvalidInput
from governance.models import LineageNode
from governance.prov import prov_document
from governance.roles import user_roles
from governance.selectors.lineage import (
    DIRECTIONS,
    MAX_DEPTH,
    MIN_DEPTH,
    LineageNodeFilter,
    lineage_node_list_for,
    lineage_subgraph_for,
)


class HoldsAnyRole(BasePermission):
    """Authenticated (else 401) and holding at least one platform role (else 403)."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if not user_roles(request.user):
            raise Forbidden("this needs a platform role", code="missing_role")
        return True


# Component names in the OpenAPI schema are global, so these carry the "Lineage" prefix.
class LineageErrorOutput(serializers.Serializer):
    class LineageErrorBody(serializers.Serializer):
        code = serializers.CharField()
        message = serializers.CharField()
        details = serializers.JSONField()

    error = LineageErrorBody()


class LineageNodeOutput(serializers.Serializer):
    uid = serializers.CharField()
    node_class = serializers.CharField()
    kind = serializers.CharField()
    label = serializers.CharField()
    sha256 = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    attributes = serializers.JSONField()


class LineageSubgraphInput(serializers.Serializer):
    direction = serializers.ChoiceField(choices=DIRECTIONS, default="up")
    depth = serializers.IntegerField(min_value=MIN_DEPTH, max_value=MAX_DEPTH, default=3)


def _subgraph_params(request) -> dict:
    params = LineageSubgraphInput(data=request.query_params)
    if not params.is_valid():
        names = ", ".join(sorted(params.errors))
        raise InvalidInput(f"invalid query parameter: {names}", details=params.errors)
    return params.validated_data


UID_PARAMETER = OpenApiParameter(
    "uid", OpenApiTypes.STR, OpenApiParameter.PATH,
    description="Lineage node uid, e.g. `dataset:12` (may contain ':', never '/').",
)
SUBGRAPH_PARAMETERS = [
    UID_PARAMETER,
    OpenApiParameter(
        "direction", OpenApiTypes.STR, OpenApiParameter.QUERY, enum=list(DIRECTIONS), default="up",
        description="up: what it came from; down: what was derived from it; both: the two together.",
    ),
    OpenApiParameter(
        "depth", OpenApiTypes.INT, OpenApiParameter.QUERY, default=3,
        description=f"How many edges to walk, {MIN_DEPTH} to {MAX_DEPTH}.",
    ),
]
ERROR_RESPONSES = {
    400: OpenApiResponse(LineageErrorOutput, description="A query parameter is invalid (named in details)."),
    401: OpenApiResponse(LineageErrorOutput, description="Not authenticated."),
    403: OpenApiResponse(LineageErrorOutput, description="The caller holds no platform role."),
    404: OpenApiResponse(LineageErrorOutput, description="No lineage node with this uid that the caller may see."),
}


class LineageSubgraphApi(APIView):
    """The lineage subgraph around one node."""

    permission_classes = [HoldsAnyRole]

    class LineageSubgraphOutput(serializers.Serializer):
        class LineageEdgeOutput(serializers.Serializer):
            source = serializers.CharField(source="source.uid")
            target = serializers.CharField(source="target.uid")
            relation = serializers.CharField()

        root = serializers.CharField()
        direction = serializers.CharField()
        depth = serializers.IntegerField()
        nodes = LineageNodeOutput(many=True)
        edges = LineageEdgeOutput(many=True)

    @extend_schema(
        operation_id="lineage_subgraph",
        parameters=SUBGRAPH_PARAMETERS,
        responses={200: LineageSubgraphOutput, **ERROR_RESPONSES},
    )
    def get(self, request, uid: str):
        params = _subgraph_params(request)
        nodes, edges = lineage_subgraph_for(user=request.user, uid=uid, **params)
        data = {"root": uid, **params, "nodes": nodes, "edges": edges}
        return Response(self.LineageSubgraphOutput(data).data)


class LineageProvApi(APIView):
    """The lineage subgraph around one node as a W3C PROV-JSON document."""

    permission_classes = [HoldsAnyRole]

    @extend_schema(
        operation_id="lineage_prov",
        parameters=SUBGRAPH_PARAMETERS,
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT,
                                 description="PROV-JSON (https://www.w3.org/submissions/prov-json/), keys sorted."),
            **ERROR_RESPONSES,
        },
    )
    def get(self, request, uid: str):
        params = _subgraph_params(request)
        nodes, edges = lineage_subgraph_for(user=request.user, uid=uid, **params)
        return Response(prov_document(nodes, edges))


class LineageNodeListApi(generics.ListAPIView):
    """Lineage nodes, filtered by kind, class, object or hash; paginated (limit/offset)."""

    permission_classes = [HoldsAnyRole]
    filterset_class = LineageNodeFilter
    serializer_class = LineageNodeOutput

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return LineageNode.objects.none()
        return lineage_node_list_for(user=self.request.user)

    @extend_schema(
        operation_id="lineage_nodes_list",
        responses={200: LineageNodeOutput(many=True), **{code: ERROR_RESPONSES[code] for code in (400, 401, 403)}},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


# <str:uid> matches any run of characters but "/": a uid's ":" is fine, a "/" never reaches a view.
urlpatterns = [
    path("lineage/", LineageNodeListApi.as_view(), name="lineage_nodes"),
    path("lineage/<str:uid>/", LineageSubgraphApi.as_view(), name="lineage_subgraph"),
    path("lineage/<str:uid>/prov/", LineageProvApi.as_view(), name="lineage_prov"),
]
