"""Property-based run of the whole API schema with schemathesis (few examples, in-process
through the WSGI app). Every documented operation is called with generated inputs, with and
without a valid token; responses must match the schema (status codes, error shape, types)."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from tests.web.conftest import make_token

pytestmark = pytest.mark.django_db
FEW = settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
#: Uploads validated by their content (file type, profile): a schema-valid request may
#: rightly be refused (415, 422), so the "valid data is accepted" check does not apply.
CONTENT_VALIDATED = {("POST", "/api/cases/batches"), ("POST", "/api/cases/batches/preview"),
                     ("POST", "/api/cases/batches/jobs")}


def operations():
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())
    ops = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in ops} >= {"/api/health", "/api/me"}
    return ops


def test_api_conforms_to_its_schema_with_a_token(world):
    headers = {"Authorization": f"Bearer {make_token(world.users['agency_reporter'])}"}
    calls: dict[str, list[int]] = {}
    for operation in operations():

        @FEW
        @given(case=operation.as_strategy())
        def check(case):
            excluded = (
                [positive_data_acceptance]
                if (case.method.upper(), case.operation.path) in CONTENT_VALIDATED
                else []
            )
            response = case.call_and_validate(headers=headers, excluded_checks=excluded)
            calls.setdefault(case.operation.path, []).append(response.status_code)

        check()
    assert set(calls["/api/me"]) == {200}
    assert set(calls["/api/health"]) == {200}
    assert {"/api/cases/batches", "/api/cases/batches/{batch_id}", "/api/jobs/",
            "/api/jobs/{job_id}"} <= set(calls)


def test_api_refuses_generated_calls_without_a_token():
    from django.core.cache import cache

    for operation in operations():
        # each operation's calls start a fresh rate-limit window (the per-address limit
        # would otherwise be what answers once the API has enough operations)
        cache.clear()

        @FEW
        @given(case=operation.as_strategy())
        def check(case):
            response = case.call()
            if case.operation.path == "/api/health":
                assert response.status_code == 200
            else:
                assert response.status_code == 401
                assert response.json()["error"]["code"] == "not_authenticated"

        check()
