from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tiplab_web.core import nav
from tiplab_web.core.access import user_roles
from tiplab_web.core.roles import ROLE_LABELS


def shell(request: HttpRequest) -> dict[str, Any]:
    """Menu entries and the signed-in user's roles for the base template."""
    roles = sorted(user_roles(getattr(request, "user", None)))
    return {
        "nav_links": nav.links_for(request),
        "user_role_labels": [ROLE_LABELS[r] for r in roles if r in ROLE_LABELS],
    }
