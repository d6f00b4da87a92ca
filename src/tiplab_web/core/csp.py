"""Content-Security-Policy on every response (Django 5.2 has none built in).

The policy comes from ``settings.TIPLAB_CSP`` (a directive -> sources mapping): everything
from our own origin, no inline scripts or styles, images also from ``data:`` URLs, and no
framing. A view may loosen it for itself with the ``csp_update`` decorator.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"


def build_policy(directives: dict[str, str]) -> str:
    return "; ".join(f"{name} {value}".strip() for name, value in directives.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = build_policy(settings.TIPLAB_CSP)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if HEADER not in response:
            extra = getattr(response, "_csp_update", None)
            if extra:
                response[HEADER] = build_policy({**settings.TIPLAB_CSP, **extra})
            else:
                response[HEADER] = self.policy
        return response


def csp_update(
    **directives: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Replace some directives for one view: ``@csp_update(img_src="'self' data: blob:")``."""
    changes = {k.replace("_", "-"): v for k, v in directives.items()}

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            response = view(request, *args, **kwargs)
            response._csp_update = changes  # type: ignore[attr-defined]
            return response

        return wrapper

    return decorator
