"""Behind a trusted proxy, the client's address comes from X-Forwarded-For: rate limits,
login lockouts and the audit log see each client, not the proxy; nothing else is believed."""

from __future__ import annotations

import pytest
from django.test import Client

from tiplab_web.audit.models import AuditEntry
from tiplab_web.core.proxy import forwarded_client

TRUSTED = frozenset({"127.0.0.1", "::1"})


@pytest.mark.parametrize(("remote", "header", "client"), [
    ("127.0.0.1", "203.0.113.7", "203.0.113.7"),
    ("127.0.0.1", "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # left part: client's own
    ("127.0.0.1", "203.0.113.7, 127.0.0.1", "203.0.113.7"),  # a second proxy hop
    ("127.0.0.1", "", "127.0.0.1"),
    ("127.0.0.1", "not-an-address", "127.0.0.1"),
    ("192.0.2.50", "203.0.113.7", "192.0.2.50"),  # not from the proxy: header ignored
    ("::1", "2001:db8::1", "2001:db8::1"),
])
def test_the_client_address_is_the_last_untrusted_hop(remote, header, client):
    assert forwarded_client(remote, header, TRUSTED) == client


def test_lockouts_and_audit_see_each_client_behind_the_proxy(world, settings):
    settings.TIPLAB_TRUSTED_PROXIES = ["127.0.0.1"]
    user = world.users["analyst"]
    attacker = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.66")
    for _ in range(6):
        attacker.post("/accounts/login/", {"username": "nobody", "password": "wrong"})
    # the attacker's address is locked out, not the proxy's: a colleague signs in
    colleague = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.20")
    response = colleague.post("/accounts/login/", {"username": user.get_username(),
                                                   "password": "correct horse battery staple 42"})
    assert response.status_code == 302, response.content[:500]
    entry = AuditEntry.objects.filter(actor=user).latest("id")
    assert entry.ip_address == "198.51.100.20"


def test_without_trusted_proxies_the_header_is_ignored(world, settings):
    settings.TIPLAB_TRUSTED_PROXIES = []
    user = world.users["analyst"]
    client = Client(REMOTE_ADDR="192.0.2.9", HTTP_X_FORWARDED_FOR="203.0.113.1")
    client.post("/accounts/login/", {"username": user.get_username(),
                                     "password": "correct horse battery staple 42"})
    assert AuditEntry.objects.filter(actor=user).latest("id").ip_address == "192.0.2.9"
