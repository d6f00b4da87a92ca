"""The permission ladder: one row per (URL name, method), for every URL in the project.

For each row, ``test_ladder.py`` checks, for every account role and for anonymous users:

* anonymous → redirected to the login page (pages) or 401 (API), unless ``public``;
* signed-in roles not in ``allowed`` → ``denied`` (403 for role-gated pages; 404 where the
  object is invisible to them);
* ``outsider`` rows: a user of an allowed role who does not own the object → 404;
* roles in ``allowed`` → a success status (``ok``).

Adding a view? Add its row here (``test_every_url_has_a_ladder_row`` fails until you do).
``kwargs`` and ``data`` may be callables ``(world, user) -> dict`` for objects the
requesting user must own. ``world`` is the fixture in ``tests/web/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tiplab_web.core.roles import (
    ACCOUNT_ROLES,
    ADMINISTRATOR,
    AGENCY_REPORTER,
    ANALYST,
)

ALL = frozenset(ACCOUNT_ROLES)
ADMIN = frozenset({ADMINISTRATOR})
TOKEN_HOLDERS = frozenset({ANALYST, AGENCY_REPORTER})

Params = dict[str, Any] | Callable[[Any, Any], dict[str, Any]] | None


@dataclass(frozen=True)
class Rung:
    name: str
    method: str = "get"
    allowed: frozenset[str] = ALL
    public: bool = False
    kwargs: Params = None
    data: Params = None
    denied: int = 403
    outsider: bool = False
    api: bool = False
    ok: tuple[int, ...] = (200, 302)
    note: str = ""

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.name}"


def _token_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {"token_id": world.token_of(user).pk}


def _analyst_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {"user_id": world.users[ANALYST].pk}


def _user_edit_data(world: Any, user: Any) -> dict[str, Any]:
    return {"organisation": world.home.pk, "roles": [ANALYST], "is_active": "on"}


LADDER: list[Rung] = [
    # core
    Rung("core:home"),
    Rung("core:panel", kwargs={"key": "recent_activity"}),
    Rung("core:confirm_password"),
    Rung(
        "core:confirm_password",
        "post",
        data={"password": "correct horse battery staple 42", "next": "/"},
    ),
    Rung("set_language", "post", public=True, data={"language": "fr", "next": "/"}),
    # accounts
    Rung("accounts:login", public=True),
    Rung("accounts:login", "post", public=True, data={"username": "x", "password": "y"}),
    Rung("accounts:logout", "post", public=True),
    Rung("accounts:otp_enrol"),
    Rung("accounts:otp_verify"),
    Rung("accounts:invitation", public=True, kwargs=lambda w, u: {"token": w.invitation_token}),
    Rung("accounts:users", allowed=ADMIN),
    Rung("accounts:user_invite", allowed=ADMIN),
    Rung(
        "accounts:user_invite",
        "post",
        allowed=ADMIN,
        data=lambda w, u: {
            "email": "someone@example.org",
            "organisation": w.home.pk,
            "roles": [ANALYST],
        },
    ),
    Rung("accounts:user_edit", allowed=ADMIN, kwargs=_analyst_kwargs),
    Rung("accounts:user_edit", "post", allowed=ADMIN, kwargs=_analyst_kwargs, data=_user_edit_data),
    Rung("accounts:organisations", allowed=ADMIN),
    Rung(
        "accounts:organisations",
        "post",
        allowed=ADMIN,
        data={"name": "Labour Inspectorate", "kind": "labour_inspectorate", "country": "zz"},
    ),
    Rung("accounts:tokens", allowed=TOKEN_HOLDERS),
    Rung("accounts:tokens", "post", allowed=TOKEN_HOLDERS, data={"name": "etl", "days": 30}),
    Rung(
        "accounts:token_revoke", "post", allowed=TOKEN_HOLDERS, kwargs=_token_kwargs, outsider=True
    ),
    # audit
    Rung("audit:log", allowed=ADMIN),
    Rung("audit:export", allowed=ADMIN),
    # API (Bearer tokens; only token-holding roles can authenticate)
    Rung("api:health", api=True, public=True),
    Rung("api:me", api=True, allowed=TOKEN_HOLDERS, denied=401),
    Rung("api:openapi-json", api=True, public=True),
    Rung("api:openapi-view", api=True, public=True),
]

#: URL names that need no ladder row, with the reason.
EXEMPT: dict[str, str] = {
    "api:api-root": "Ninja's bare /api/ root; answers 404 in the error shape (test_api.py)",
}
