"""The JSON API: ``/api/`` (OpenAPI schema at ``/api/openapi.json``, docs at ``/api/docs``).

Agency systems authenticate with ``Authorization: Bearer <token>`` (tokens are created on
the "API tokens" page). Every error has one shape (``tiplab_web.api_errors``).

Apps add routers here::

    from tiplab_web.cases.api import router as cases_router
    api.add_router("/cases/", cases_router)

and declare ``response={200: TheirSchema, **ERROR_RESPONSES}`` so the schema documents the
error shape. Use ``auth=token_auth`` (the default) and check capabilities with
``require(request, "capability")``.
"""

from __future__ import annotations

import importlib.util
import logging
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from tiplab import __version__ as tiplab_version
from tiplab_web.api_errors import error_response
from tiplab_web.core import ratelimit
from tiplab_web.core.access import can, user_roles

logger = logging.getLogger("tiplab.web.api")


class ErrorDetail(Schema):
    status: int
    code: str
    message: str
    details: list[Any]


class ErrorOut(Schema):
    error: ErrorDetail


#: Error responses every authenticated operation may return; spread into ``response=``.
ERROR_RESPONSES: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ErrorOut,
    429: ErrorOut,
}


class TokenAuth(HttpBearer):
    """``Authorization: Bearer tip_…``: an active token of an active user; rate limited."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from tiplab_web.accounts.services import authenticate_token

        found = authenticate_token(token)
        if found is None:
            return None
        ratelimit.check("api_token", str(found.pk))
        request.user = found.owner
        request.api_token = found  # type: ignore[attr-defined]
        return found


token_auth = TokenAuth()


def require(request: HttpRequest, capability: str) -> None:
    """Raise 403 (in the API's error shape) unless the token owner holds ``capability``."""
    if not can(request.user, capability):
        raise PermissionDenied


def install_error_handlers(target: NinjaAPI) -> None:
    """Map every exception to the one error shape (also used by test APIs)."""

    @target.exception_handler(ValidationError)
    def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        if any(e.get("type") == "json_invalid" for e in exc.errors):
            return error_response(
                400, message="The request body is not valid JSON.", details=exc.errors
            )
        return error_response(422, details=exc.errors)

    @target.exception_handler(AuthenticationError)
    def _not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return error_response(401, headers={"WWW-Authenticate": "Bearer"})

    @target.exception_handler(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return error_response(exc.status_code, message=exc.message)

    @target.exception_handler(PermissionDenied)
    def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return error_response(403)

    @target.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(404)

    @target.exception_handler(ratelimit.RateLimited)
    def _rate_limited(request: HttpRequest, exc: ratelimit.RateLimited) -> HttpResponse:
        return error_response(429, headers={"Retry-After": str(exc.retry_after)})

    @target.exception_handler(Exception)
    def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        from tiplab_web.core.errors import RETRY_AFTER_SECONDS, database_unavailable

        if database_unavailable(exc):
            logger.warning("API %s %s: database unavailable (%s)", request.method,
                           request.path, exc)
            return error_response(503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        logger.exception("API error on %s %s", request.method, request.path)
        return error_response(500)


api = NinjaAPI(
    title="tiplab API",
    version="1",
    description="Submit agency data and read your own submissions. "
    "Authenticate with `Authorization: Bearer <token>`.",
    urls_namespace="api",
    auth=token_auth,
    docs_url="/docs",
    openapi_url="/openapi.json",
)


install_error_handlers(api)


class HealthOut(Schema):
    status: str
    version: str


@api.get(
    "/health",
    auth=None,
    response={200: HealthOut, 429: ErrorOut},
    tags=["system"],
    summary="Is the service up?",
)
def health(request: HttpRequest) -> dict[str, str]:
    return {"status": "ok", "version": tiplab_version}


class MeOut(Schema):
    username: str
    organisation: str | None
    roles: list[str]
    token_name: str
    token_expires_at: datetime


@api.get(
    "/me",
    response={200: MeOut, **ERROR_RESPONSES},
    tags=["system"],
    summary="The token's owner, organisation and roles",
)
def me(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    profile = getattr(user, "profile", None)
    token = request.auth  # type: ignore[attr-defined]
    return {
        "username": user.get_username(),
        "organisation": profile.organisation.name if profile else None,
        "roles": sorted(user_roles(user)),
        "token_name": token.name,
        "token_expires_at": token.expires_at,
    }


from tiplab_web.jobs.api import router as jobs_router  # noqa: E402 - needs ``require`` above

api.add_router("/jobs/", jobs_router)

from tiplab_web.plans.api import router as plans_router  # noqa: E402 - needs ``require`` above

api.add_router("/plans/", plans_router)

# Data-submission endpoints of the cases app, when it provides them.
if importlib.util.find_spec("tiplab_web.cases.api") is not None:
    from tiplab_web.cases.api import router as cases_router

    api.add_router("/cases/", cases_router)

from tiplab_web.groups.api import router as groups_router  # noqa: E402 - needs ``require`` above

api.add_router("/groups/", groups_router)

from tiplab_web.consultations.api import router as consultations_router  # noqa: E402

api.add_router("/consultations/", consultations_router)

from tiplab_web.monitoring.api import router as monitoring_router  # noqa: E402

api.add_router("/monitoring/", monitoring_router)
