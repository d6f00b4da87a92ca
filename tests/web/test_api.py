"""The JSON API: token authentication, one error shape for every status, rate limits."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from tests.web.conftest import make_token, make_user

from tiplab_web.accounts.models import ApiToken
from tiplab_web.accounts.services import set_roles

pytestmark = pytest.mark.django_db


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def assert_error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"status", "code", "message", "details"}
    assert error["status"] == status
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["details"], list)
    return error


@pytest.fixture
def reporter_token(world):
    return make_token(world.users["agency_reporter"])


def test_health_needs_no_token(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_me_with_a_valid_token(client, world, reporter_token):
    response = client.get("/api/me", **bearer(reporter_token))
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "agency_reporter"
    assert body["roles"] == ["agency_reporter"]
    assert body["organisation"] == world.home.name
    token = ApiToken.objects.get()
    assert token.last_used_at is not None


@pytest.mark.parametrize("header", [None, "Bearer nonsense", "Bearer tip_unknown", "Basic abc"])
def test_missing_or_bad_tokens_get_401(client, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get("/api/me", **extra)
    assert_error_shape(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Bearer"


def test_revoked_and_expired_tokens_get_401(client, reporter_token):
    ApiToken.objects.update(revoked_at=timezone.now())
    assert_error_shape(client.get("/api/me", **bearer(reporter_token)), 401, "not_authenticated")
    ApiToken.objects.update(revoked_at=None, expires_at=timezone.now() - timedelta(seconds=1))
    assert_error_shape(client.get("/api/me", **bearer(reporter_token)), 401, "not_authenticated")


def test_tokens_stop_working_when_the_owner_loses_the_role_or_gains_a_2fa_role(client, world):
    user = world.users["analyst"]
    token = make_token(user)
    assert client.get("/api/me", **bearer(token)).status_code == 200
    set_roles(user, ["analyst", "data_steward"])
    assert client.get("/api/me", **bearer(token)).status_code == 401
    set_roles(user, ["policy_officer"])
    assert client.get("/api/me", **bearer(token)).status_code == 401


def test_session_cookies_do_not_authenticate_the_api(client_as):
    response = client_as("analyst").get("/api/me")
    assert_error_shape(response, 401, "not_authenticated")


# --- one error shape for every status ---------------------------------------------------


@pytest.mark.urls("tests.web.api_urls")
def test_error_shape_400_malformed_json(client, reporter_token):
    response = client.post(
        "/api/_test/echo", "{not json", content_type="application/json", **bearer(reporter_token)
    )
    assert_error_shape(response, 400, "bad_request")


@pytest.mark.urls("tests.web.api_urls")
def test_error_shape_422_validation(client, reporter_token):
    response = client.post(
        "/api/_test/echo", {"n": "many"}, content_type="application/json", **bearer(reporter_token)
    )
    error = assert_error_shape(response, 422, "validation_error")
    assert error["details"][0]["loc"] == ["body", "body", "n"]


@pytest.mark.urls("tests.web.api_urls")
def test_error_shape_403(client, reporter_token):
    assert_error_shape(
        client.get("/api/_test/admin-only", **bearer(reporter_token)), 403, "permission_denied"
    )
    assert_error_shape(
        client.get("/api/_test/denied", **bearer(reporter_token)), 403, "permission_denied"
    )


@pytest.mark.urls("tests.web.api_urls")
def test_error_shape_404_from_a_view(client, reporter_token):
    assert_error_shape(client.get("/api/_test/missing", **bearer(reporter_token)), 404, "not_found")


def test_error_shape_404_unknown_path(client):
    assert_error_shape(client.get("/api/no-such-thing"), 404, "not_found")
    assert_error_shape(client.get("/api/"), 404, "not_found")


def test_error_shape_405(client):
    response = client.post("/api/health")
    assert_error_shape(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET"


@pytest.mark.urls("tests.web.api_urls")
def test_error_shape_500_hides_the_bug(client, caplog):
    response = client.get("/api/_test/boom")
    error = assert_error_shape(response, 500, "server_error")
    assert "a bug" not in json.dumps(error)
    assert "a bug" in caplog.text  # logged for the operators


def test_error_shape_429_per_token(client, settings, reporter_token):
    settings.TIPLAB_RATE_LIMITS = {**settings.TIPLAB_RATE_LIMITS, "api_token": (2, 60)}
    for _ in range(2):
        assert client.get("/api/me", **bearer(reporter_token)).status_code == 200
    response = client.get("/api/me", **bearer(reporter_token))
    assert_error_shape(response, 429, "rate_limited")
    assert 1 <= int(response["Retry-After"]) <= 61


def test_error_shape_429_per_ip(client, settings):
    settings.TIPLAB_RATE_LIMITS = {**settings.TIPLAB_RATE_LIMITS, "api_ip": (3, 60)}
    for _ in range(3):
        assert client.get("/api/health").status_code == 200
    assert_error_shape(client.get("/api/health"), 429, "rate_limited")
    other_ip = client.get("/api/health", REMOTE_ADDR="192.0.2.50")
    assert other_ip.status_code == 200


# --- schema and docs ------------------------------------------------------------------------


def test_openapi_schema_documents_the_error_shape(client):
    schema = client.get("/api/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    me = schema["paths"]["/api/me"]["get"]
    assert {"200", "401", "403", "404", "422", "429"} <= set(me["responses"])
    error = schema["components"]["schemas"]["ErrorOut"]
    assert error["properties"]["error"]["$ref"].endswith("ErrorDetail")
    assert schema["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"


def test_api_docs_are_served_without_any_cdn(client):
    response = client.get("/api/docs")
    html = response.content.decode()
    assert response.status_code == 200
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert "https://" not in html
    assert "http://" not in html
    for asset in (
        "/static/ninja/swagger-ui-bundle.js",
        "/static/ninja/swagger-ui.css",
        "/static/ninja/swagger-ui-init.js",
    ):
        served = client.get(asset)
        assert served.status_code == 200
        assert b"".join(served.streaming_content)
        served.close()


def test_a_data_steward_token_is_refused(client, world):
    user = make_user("steward2", ["data_steward"], world.home)
    token = make_token(user)
    assert_error_shape(client.get("/api/me", **bearer(token)), 401, "not_authenticated")
