from __future__ import annotations

import pytest
from rest_framework import exceptions as drf
from rest_framework.test import APIClient

from config.exceptions import exception_handler
from governance.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_openapi_3_schema_is_served(developer):
    client = APIClient()
    client.force_authenticate(developer)
    response = client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/me/" in schema["paths"]


def test_browsable_docs_pages_render_without_the_network(client, developer):
    client.force_login(developer)
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    # Swagger UI assets are served from the sidecar package, not a CDN.
    assert b"swagger-ui" in docs.content and b"cdn.jsdelivr" not in docs.content
    assert client.get("/api/v1/redoc/").status_code == 200


def test_token_authentication_end_to_end(developer):
    client = APIClient()
    token = client.post("/api/v1/auth/token/", {"username": "dev", "password": PASSWORD}, format="json")
    assert token.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    me = client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json() == {"id": developer.id, "username": "dev", "roles": ["developer"]}


def test_session_authentication(client, developer):
    assert client.login(username="dev", password=PASSWORD)
    assert client.get("/api/v1/me/").json()["roles"] == ["developer"]


def test_unauthenticated_gets_401_in_the_error_shape():
    response = APIClient().get("/api/v1/me/")
    assert response.status_code == 401
    assert set(response.json()["error"]) == {"code", "message", "details"}
    assert response.json()["error"]["code"] == "not_authenticated"


def test_unknown_api_path_is_a_json_404():
    response = APIClient().get("/api/v1/no-such-thing/42/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "/api/v1/no-such-thing/42/" in response.json()["error"]["message"]


def test_wrong_password_for_a_token_is_400_with_field_details():
    response = APIClient().post("/api/v1/auth/token/", {"username": "x", "password": "y"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert response.json()["error"]["details"]


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (InvalidInput("bad window", details={"holdout_start": ["before training end"]}), 400, "invalid"),
        (Forbidden("only validators may do this"), 403, "forbidden"),
        (NotFound("model 7 does not exist"), 404, "not_found"),
        (Conflict("cannot approve a draft", code="illegal_transition"), 409, "illegal_transition"),
        (drf.ValidationError({"name": ["required"]}), 400, "invalid"),
        (drf.PermissionDenied(), 403, "permission_denied"),
    ],
)
def test_every_error_is_rendered_in_one_shape(exc, status, code):
    response = exception_handler(exc, {})
    assert response.status_code == status
    assert response.data["error"]["code"] == code
    assert isinstance(response.data["error"]["message"], str) and response.data["error"]["message"]
    if isinstance(exc, InvalidInput):
        assert response.data["error"]["details"] == {"holdout_start": ["before training end"]}


def test_a_bug_is_logged_and_answered_as_internal_error(caplog):
    response = exception_handler(ZeroDivisionError("boom"), {"view": None})
    assert response.status_code == 500
    assert response.data["error"]["code"] == "internal_error"
    assert "boom" not in str(response.data)


def test_the_openapi_schema_generates_without_warnings(capsys):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
