"""The permission ladder for every URL in the project (rows in ``ladder.py``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from tests.web.conftest import sign_in
from tests.web.ladder import EXEMPT, LADDER, Rung

from tiplab_web.core.roles import ACCOUNT_ROLES

ANONYMOUS = "anonymous"


def _walk(patterns: list[Any], namespace: str = "") -> set[str]:
    names = set()
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            names |= _walk(p.url_patterns, ns)
        elif isinstance(p, URLPattern):
            names.add(f"{namespace}{p.name}" if p.name else f"<unnamed {p.pattern}>")
    return names


def all_url_names() -> set[str]:
    return _walk(get_resolver().url_patterns)


def test_every_url_has_a_ladder_row():
    covered = {r.name for r in LADDER} | set(EXEMPT)
    missing = sorted(all_url_names() - covered)
    assert not missing, f"URL patterns with no row in tests/web/ladder.py: {missing}"


def test_every_ladder_row_names_a_real_url():
    stale = sorted({r.name for r in LADDER} - all_url_names())
    assert not stale, f"ladder rows for URLs that do not exist: {stale}"


def _params(value: Any, world: Any, user: Any) -> dict[str, Any]:
    if callable(value):
        return value(world, user)
    return dict(value or {})


def _request(client: Client, rung: Rung, world: Any, user: Any, owner: Any = None) -> Any:
    owner = owner or user or world.users[next(iter(sorted(rung.allowed or ACCOUNT_ROLES)))]
    url = reverse(rung.name, kwargs=_params(rung.kwargs, world, owner) or None)
    data = _params(rung.data, world, owner)
    headers = {}
    if rung.api and user is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {world.raw_token_of(user)}"
    return getattr(client, rung.method)(url, data, **headers)


CASES = [
    pytest.param(r, who, id=f"{r.id} as {who}")
    for r in LADDER
    for who in (ANONYMOUS, *ACCOUNT_ROLES)
]
OUTSIDER_CASES = [
    pytest.param(r, role, id=f"{r.id} as outsider {role}")
    for r in LADDER
    if r.outsider
    for role in sorted(r.allowed)
]


@pytest.mark.parametrize(("rung", "who"), CASES)
def test_ladder(world, rung: Rung, who: str):
    if who == ANONYMOUS:
        response = _request(Client(), rung, world, None)
        if rung.public:
            assert response.status_code < 400, response.status_code
        elif rung.api:
            assert response.status_code == 401
        else:
            assert response.status_code == 302
            assert response["Location"].startswith(resolve_url(settings.LOGIN_URL))
        return
    user = world.users[who]
    client = Client() if rung.api else sign_in(Client(), user)
    response = _request(client, rung, world, user)
    if who in rung.allowed or (rung.public and not rung.api):
        assert response.status_code in rung.ok, response.status_code
        if response.status_code == 302:
            assert not response["Location"].startswith(resolve_url(settings.LOGIN_URL)) or (
                rung.name in ("accounts:logout", "accounts:login")
            ), response["Location"]
    elif rung.public and rung.api:
        assert response.status_code == 200
    else:
        expected = dict(rung.denied_for).get(who, rung.denied)
        assert response.status_code == expected, response.status_code


@pytest.mark.parametrize(("rung", "role"), OUTSIDER_CASES)
def test_outsiders_get_404(world, rung: Rung, role: str):
    outsider = world.outsiders[role]
    client = Client() if rung.api else sign_in(Client(), outsider)
    response = _request(client, rung, world, outsider, owner=world.users[role])
    assert response.status_code == 404
