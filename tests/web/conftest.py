"""Standing test users (one per role, plus an outsider per role in another organisation)
and clients signed in as them, with TOTP passed and a fresh password confirmation."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from tiplab_web.accounts.models import ApiToken, Invitation, Organisation, Profile
from tiplab_web.accounts.services import TOKEN_PREFIX, hash_secret, set_roles
from tiplab_web.core.reauth import SESSION_KEY as REAUTH_KEY
from tiplab_web.core.roles import ACCOUNT_ROLES

PASSWORD = "correct horse battery staple 42"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def make_user(
    username: str, roles: list[str], organisation: Organisation, *, totp: bool | None = None
) -> Any:
    user = get_user_model().objects.create_user(
        username=username, password=PASSWORD, email=f"{username}@example.org"
    )
    Profile.objects.create(user=user, organisation=organisation)
    set_roles(user, roles)
    if totp is None:
        totp = bool({"administrator", "data_steward"} & set(roles))
    if totp:
        TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    return user


def sign_in(client: Client, user: Any, *, verified: bool = True, reauth: bool = True) -> Client:
    """Sign ``user`` in on ``client``; mark TOTP passed and the password recently confirmed."""
    client.force_login(user)
    session = client.session
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if verified and device is not None:
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    if reauth:
        session[REAUTH_KEY] = time.time()
    session.save()
    return client


def make_token(user: Any, name: str = "test") -> str:
    raw = f"{TOKEN_PREFIX}test-{user.pk}-{name}-{time.time_ns()}"
    ApiToken.objects.create(
        owner=user,
        name=name,
        prefix=raw[:12],
        token_hash=hash_secret(raw),
        expires_at=timezone.now() + timedelta(days=30),
    )
    return raw


class _UsersByRole(dict):
    """Creates the standing user of a role on first use (keeps the ladder tests fast)."""

    def __init__(self, organisation: Organisation, prefix: str = "") -> None:
        super().__init__()
        self.organisation = organisation
        self.prefix = prefix

    def __missing__(self, role: str) -> Any:
        if role not in ACCOUNT_ROLES:
            raise KeyError(role)
        user = make_user(f"{self.prefix}{role}", [role], self.organisation)
        self[role] = user
        return user


@dataclass
class World:
    """Everything the permission ladder needs: users, outsiders, and objects they own."""

    home: Organisation
    elsewhere: Organisation
    users: dict[str, Any]
    outsiders: dict[str, Any]
    invitation_token: str
    _tokens: dict[int, tuple[str, ApiToken]] = field(default_factory=dict)

    def token_of(self, user: Any) -> ApiToken:
        return self._token(user)[1]

    def raw_token_of(self, user: Any) -> str:
        return self._token(user)[0]

    def _token(self, user: Any) -> tuple[str, ApiToken]:
        if user.pk not in self._tokens:
            raw = make_token(user, "ladder")
            self._tokens[user.pk] = (raw, ApiToken.objects.filter(owner=user).latest("id"))
        return self._tokens[user.pk]


@pytest.fixture
def world(db) -> World:
    home = Organisation.objects.create(
        name="National Rapporteur's Office", kind=Organisation.Kind.COORDINATOR, country="ZZ"
    )
    elsewhere = Organisation.objects.create(
        name="Shelter NGO", kind=Organisation.Kind.SHELTER, country="ZZ"
    )
    users = _UsersByRole(home)
    outsiders = _UsersByRole(elsewhere, prefix="outsider-")
    token = "invitation-token-for-tests"
    Invitation.objects.create(
        email="new@example.org",
        organisation=home,
        roles=["analyst"],
        token_hash=hash_secret(token),
        created_by=None,
        expires_at=timezone.now() + timedelta(days=7),
    )
    return World(home, elsewhere, users, outsiders, token)


@pytest.fixture
def client_as(world):
    """``client_as("analyst")``: a client signed in as the standing user of that role."""

    def make(role: str, **kwargs: Any) -> Client:
        return sign_in(Client(), world.users[role], **kwargs)

    return make
