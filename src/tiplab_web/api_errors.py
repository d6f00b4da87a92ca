"""One JSON error shape for every API error::

    {"error": {"status": 404, "code": "not_found", "message": "...", "details": [...]}}

``error_response`` builds it; the Ninja exception handlers in ``tiplab_web.api`` use it, and
``ApiErrorMiddleware`` rewrites any other error response under ``/api/`` (Django's own 404
and 500 pages, 405 from the router) into it. The middleware also applies the per-IP API
rate limit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from tiplab_web.core import ratelimit

API_PREFIX = "/api/"

#: status -> (code, default message)
ERROR_CODES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request could not be read."),
    401: ("not_authenticated", "Send a valid API token: 'Authorization: Bearer <token>'."),
    403: ("permission_denied", "Your role does not allow this."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "This method is not allowed here."),
    409: ("conflict", "The request conflicts with the current state."),
    413: ("payload_too_large", "The request body is too large."),
    415: ("unsupported_media_type", "Send JSON with 'Content-Type: application/json'."),
    422: ("validation_error", "The request is not valid; see details."),
    429: ("rate_limited", "Too many requests; slow down."),
    500: ("server_error", "Something went wrong on our side; the error has been logged."),
    503: ("unavailable", "The service is briefly unavailable; try again in a moment."),
}


def error_body(
    status: int,
    code: str | None = None,
    message: str | None = None,
    details: list[Any] | None = None,
) -> dict[str, Any]:
    default_code, default_message = ERROR_CODES.get(
        status, ("server_error" if status >= 500 else "error", "Error.")
    )
    return {
        "error": {
            "status": status,
            "code": code or default_code,
            "message": message or default_message,
            "details": details or [],
        }
    }


def error_response(
    status: int,
    code: str | None = None,
    message: str | None = None,
    details: list[Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    response = JsonResponse(error_body(status, code, message, details), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _is_shaped(response: HttpResponse) -> bool:
    if not response.get("Content-Type", "").startswith("application/json"):
        return False
    if getattr(response, "streaming", False):
        return False
    try:
        body = json.loads(response.content)
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("error"), dict)


class ApiErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        try:
            ratelimit.check("api_ip", ratelimit.client_ip(request))
        except ratelimit.RateLimited as e:
            return error_response(429, headers={"Retry-After": str(e.retry_after)})
        response = self.get_response(request)
        if response.status_code >= 400 and not _is_shaped(response):
            headers = {}
            if response.status_code == 405 and response.has_header("Allow"):
                headers["Allow"] = response["Allow"]
            response = error_response(response.status_code, headers=headers)
        return response
