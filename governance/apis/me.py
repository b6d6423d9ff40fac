"""Governance API: one thin view per operation."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.roles import user_roles


class MeApi(APIView):
    """Who the caller is and which roles they hold."""

    class MeOutput(serializers.Serializer):
        id = serializers.IntegerField()
        username = serializers.CharField()
        roles = serializers.ListField(child=serializers.CharField())

    @extend_schema(responses=MeOutput, operation_id="me")
    def get(self, request):
        user = request.user
        data = {"id": user.id, "username": user.get_username(), "roles": sorted(user_roles(user))}
        return Response(self.MeOutput(data).data)
