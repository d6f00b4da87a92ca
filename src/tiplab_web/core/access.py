"""Central access helpers. Every view goes through these; none tests role names itself.

* ``has_role(user, *roles)``: does the user hold any of these roles?
* ``can(user, capability)``: the capability table of ``tiplab_web.core.roles``.
* ``role_required(*roles)`` / ``capability_required(capability)``: view decorators.
  Anonymous users are sent to the login page; signed-in users without the role get 403.
* ``get_object_for(user, queryset, **lookup)``: the object if ``queryset`` (already scoped
  to what the user may see) holds it, else ``Http404`` so its existence does not leak.
  Apps write their own ``get_<thing>_for(user, id)`` on top of it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from tiplab_web.core.roles import roles_with

M = TypeVar("M", bound=Model)
View = Callable[..., HttpResponse]

_CACHE_ATTR = "_tiplab_roles"


def user_roles(user: Any) -> frozenset[str]:
    """The roles ``user`` holds (empty for anonymous or inactive users), cached per request."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = frozenset(user.role_grants.values_list("role", flat=True))
        setattr(user, _CACHE_ATTR, cached)
    return cached


def forget_roles(user: Any) -> None:
    """Drop the per-request cache after the user's roles changed."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def has_role(user: Any, *roles: str) -> bool:
    """True when ``user`` holds at least one of ``roles``."""
    return bool(user_roles(user) & set(roles))


def can(user: Any, capability: str) -> bool:
    """True when one of the user's roles holds ``capability`` (``core.roles.CAPABILITIES``)."""
    return bool(user_roles(user) & roles_with(capability))


def requires_two_factor(user: Any) -> bool:
    """Administrators and data stewards must pass TOTP before they see any page."""
    return has_role(user, *settings.TIPLAB_TWO_FACTOR_ROLES)


def _guard(test: Callable[[Any], bool]) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not test(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def role_required(*roles: str) -> Callable[[View], View]:
    """Decorator: the user must hold one of ``roles`` (login redirect, else 403)."""
    return _guard(lambda user: has_role(user, *roles))


def capability_required(capability: str) -> Callable[[View], View]:
    """Decorator: the user must hold ``capability`` (login redirect, else 403)."""
    roles_with(capability)  # fail at import time on a typo
    return _guard(lambda user: can(user, capability))


def login_required(view: View) -> View:
    """Decorator: any signed-in user with at least one role (login redirect, else 403)."""
    return capability_required("dashboard.view")(view)


def get_object_for(user: Any, queryset: QuerySet[M], **lookup: Any) -> M:
    """The object matching ``lookup`` within ``queryset``, which the caller has already
    narrowed to what ``user`` may see; ``Http404`` otherwise (never 403: no existence leak).
    """
    if not user_roles(user):
        raise Http404
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def organisation_of(user: Any) -> Any:
    """The user's organisation (``accounts.Organisation``), or None for anonymous users and
    accounts without a profile. Scope agency data with it: ``.filter(organisation=...)``."""
    if not getattr(user, "is_authenticated", False):
        return None
    profile = getattr(user, "profile", None) if hasattr(user, "profile") else None
    return profile.organisation if profile is not None else None
