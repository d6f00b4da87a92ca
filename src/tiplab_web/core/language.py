"""The language a user chose, remembered with their account rather than one browser.

The switcher (``set_language``) stores the choice on the user's profile as well as in the
cookie; ``UserLanguageMiddleware`` applies it to every request of the signed-in user, so
the choice follows them to another computer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

LANGUAGES = {code for code, _name in settings.LANGUAGES}


def _profile(user: Any) -> Any:
    if not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "profile", None) if hasattr(user, "profile") else None


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's ``set_language``, and the choice saved on the signed-in user's profile."""
    response = django_set_language(request)
    code = request.POST.get("language", "")
    profile = _profile(request.user)
    if profile is not None and code in LANGUAGES and profile.language != code:
        profile.language = code
        profile.save(update_fields=["language"])
    return response


class UserLanguageMiddleware:
    """After ``AuthenticationMiddleware``: a signed-in user's chosen language wins over the
    browser's; the cookie is brought in line."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        profile = _profile(getattr(request, "user", None))
        chosen = profile.language if profile is not None else ""
        if chosen in LANGUAGES:
            translation.activate(chosen)
            request.LANGUAGE_CODE = chosen
        response = self.get_response(request)
        if chosen in LANGUAGES and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != chosen:
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, chosen,
                                max_age=settings.LANGUAGE_COOKIE_AGE,
                                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
                                secure=settings.LANGUAGE_COOKIE_SECURE,
                                httponly=settings.LANGUAGE_COOKIE_HTTPONLY)
        return response
