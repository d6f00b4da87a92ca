"""The client's address behind a reverse proxy.

Behind nginx on the same host every request arrives from 127.0.0.1, so rate limits, login
lockouts and the audit log would all see one client. When the peer is one of
``TIPLAB_TRUSTED_PROXIES`` (settings.production: this host), the address is taken from
``X-Forwarded-For``: the right-most entry that is not itself a trusted proxy — the left
part of that header is whatever the client chose to send, and is never trusted.
``REMOTE_ADDR`` is replaced before anything reads it, so every consumer (rate limits,
django-axes, audit entries) sees the same client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def _ip(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def forwarded_client(remote: str, forwarded_for: str, trusted: frozenset[str]) -> str:
    """The client address for a request from ``remote`` carrying ``forwarded_for``."""
    if remote not in trusted or not forwarded_for:
        return remote
    for hop in reversed(forwarded_for.split(",")):
        address = _ip(hop)
        if address is None:
            return remote  # a malformed header: keep what the socket says
        if address not in trusted:
            return address
    return remote


class ProxyAddressMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.trusted = frozenset(
            a for a in (_ip(x) for x in getattr(settings, "TIPLAB_TRUSTED_PROXIES", ())) if a)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.trusted:
            meta = request.META
            meta["REMOTE_ADDR"] = forwarded_client(meta.get("REMOTE_ADDR", ""),
                                                   meta.get("HTTP_X_FORWARDED_FOR", ""),
                                                   self.trusted)
        return self.get_response(request)
