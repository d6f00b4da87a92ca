from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tiplab_web.core import nav
from tiplab_web.core.access import user_roles
from tiplab_web.core.roles import ROLE_LABELS


def shell(request: HttpRequest) -> dict[str, Any]:
    """Menu entries and the signed-in user's roles for the base template (computed once per
    request: every dashboard panel is rendered with the request's context too)."""
    cached = getattr(request, "_tiplab_shell", None)
    if cached is not None:
        return cached
    if getattr(request, "anonymous_client", None) is not None:
        # an anonymous route (survivors, reporters): no menu, no account; the quick exit
        from django.conf import settings

        out = {"nav_links": [], "user_role_labels": [],
               "quick_exit_url": settings.TIPLAB_QUICK_EXIT_URL,
               "anon_languages": settings.LANGUAGES}
        request._tiplab_shell = out  # type: ignore[attr-defined]
        return out
    roles = sorted(user_roles(getattr(request, "user", None)))
    out = {
        "nav_links": nav.links_for(request),
        "user_role_labels": [ROLE_LABELS[r] for r in roles if r in ROLE_LABELS],
    }
    request._tiplab_shell = out  # type: ignore[attr-defined]
    return out
