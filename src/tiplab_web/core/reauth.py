"""Re-authentication before destructive and bulk-export actions.

Decorate the view (both its confirmation GET and its POST)::

    from tiplab_web.core.reauth import require_recent_password

    @require_recent_password(minutes=10)
    def export_cases(request): ...

If the user has not entered their password within ``minutes``, they are sent to the
confirm-password page and come back to the same URL afterwards (htmx requests get an
``HX-Redirect``). A POST is not replayed: the user lands on the view's GET page and submits
again, so give such views a confirmation page.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

SESSION_KEY = "tiplab_reauth_at"


def mark_password_confirmed(request: HttpRequest) -> None:
    request.session[SESSION_KEY] = time.time()


def password_recently_confirmed(request: HttpRequest, minutes: int | None = None) -> bool:
    minutes = settings.TIPLAB_REAUTH_MINUTES if minutes is None else minutes
    stamp = request.session.get(SESSION_KEY)
    return isinstance(stamp, int | float) and 0 <= time.time() - stamp <= minutes * 60


def confirm_url(next_url: str) -> str:
    return reverse("core:confirm_password") + "?" + urlencode({"next": next_url})


def require_recent_password(
    minutes: int | None = None,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """View decorator: ask for the password again unless given within ``minutes``
    (default ``settings.TIPLAB_REAUTH_MINUTES``)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if password_recently_confirmed(request, minutes):
                return view(request, *args, **kwargs)
            target = confirm_url(request.get_full_path())
            if getattr(request, "htmx", False):
                response = HttpResponse(status=204)
                response["HX-Redirect"] = target
                return response
            return HttpResponseRedirect(target)

        wrapper.requires_recent_password = True  # type: ignore[attr-defined]
        return wrapper

    return decorator
