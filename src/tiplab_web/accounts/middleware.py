"""Administrators and data stewards see nothing until they have passed TOTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

from tiplab_web.core.access import requires_two_factor

#: Views a signed-in user may reach before the second factor.
EXEMPT_VIEWS = frozenset(
    {"accounts:otp_enrol", "accounts:otp_verify", "accounts:logout", "set_language"}
)


class TwoFactorRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        path = request.path_info
        if path.startswith(("/api/", settings.STATIC_URL)):
            return None  # the API authenticates by token, not by session
        if path.startswith("/public/"):
            return None  # the public portal is the same for everyone, signed in or not
        match = request.resolver_match
        if match is not None and match.view_name in EXEMPT_VIEWS:
            return None
        if not requires_two_factor(user) or user.is_verified():
            return None
        from tiplab_web.accounts.services import has_confirmed_totp

        step = "accounts:otp_verify" if has_confirmed_totp(user) else "accounts:otp_enrol"
        target = reverse(step) + "?" + urlencode({"next": request.get_full_path()})
        if getattr(request, "htmx", False):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return HttpResponseRedirect(target)
