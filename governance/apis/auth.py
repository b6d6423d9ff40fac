"""The token endpoint: DRF's obtain_auth_token behind the one login guard (issue 16 §3).

Same answers as DRF's view for a client (200 ``{"token"}``, 400 for wrong credentials), plus 429
with ``Retry-After`` while the username/address pair or the address is locked out — the lock the
portal and the admin sign-in share, so a user locked out of the portal gets no token either.
"""

from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.errors import InvalidInput
from governance.services import login_guard

_ERROR = inline_serializer("AuthTokenError", fields={
    "error": inline_serializer("AuthTokenErrorBody", fields={
        "code": serializers.CharField(), "message": serializers.CharField(), "details": serializers.DictField(),
    }),
})


class AuthTokenApi(APIView):
    """Exchange a username and password for the caller's API token."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    class AuthTokenInput(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})

    class AuthTokenOutput(serializers.Serializer):
        token = serializers.CharField()

    @extend_schema(
        request=AuthTokenInput,
        responses={
            200: AuthTokenOutput,
            400: OpenApiResponse(_ERROR, description="missing fields, or the username and password do not match"),
            429: OpenApiResponse(_ERROR, description="locked out after repeated failures; see Retry-After"),
        },
        auth=[],
    )
    def post(self, request):
        data = self.AuthTokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        username, password = data.validated_data["username"], data.validated_data["password"]
        address = login_guard.client_address(request)
        login_guard.login_check(door="token", username=username, address=address)
        user = authenticate(request=request, username=username, password=password)
        if user is None:
            login_guard.login_failed(door="token", username=username, address=address)
            raise InvalidInput("Unable to log in with the provided credentials.", code="invalid",
                               details={"non_field_errors": ["Unable to log in with the provided credentials."]})
        login_guard.login_succeeded(door="token", user=user, address=address)
        token, _ = Token.objects.get_or_create(user=user)
        return Response(self.AuthTokenOutput({"token": token.key}).data)

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(exc, login_guard.LockedOut):
            response["Retry-After"] = str(exc.retry_after)
        return response
