"""``get_<thing>_for(user, id)`` helpers for the accounts app: 404 for anyone who may not see it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.http import Http404

from tiplab_web.accounts.models import ApiToken
from tiplab_web.core.access import can, get_object_for


def get_api_token_for(user: Any, token_id: Any) -> ApiToken:
    """A token is visible to its owner only."""
    if not can(user, "api.tokens"):
        raise Http404
    return get_object_for(user, ApiToken.objects.filter(owner=user), pk=token_id)


def get_account_for(user: Any, account_id: Any) -> Any:
    """User accounts are visible to administrators (``users.manage``) only."""
    if not can(user, "users.manage"):
        raise Http404
    users = get_user_model().objects.select_related("profile__organisation")
    return get_object_for(user, users, pk=account_id)
