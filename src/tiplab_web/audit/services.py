"""Writing and verifying the audit chain."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connections, router, transaction
from django.http import HttpRequest
from django.utils import timezone

from tiplab_web.audit.models import GENESIS_HASH, AuditEntry

_PG_LOCK_KEY = 0x7469706C  # "tipl": one advisory lock serialises writers on PostgreSQL


def _clean_ip(raw: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(raw)) if raw else None
    except ValueError:
        return None


def _describe(obj: Any) -> tuple[str, str]:
    if obj is None:
        return "", ""
    if isinstance(obj, tuple) and len(obj) == 2:
        return str(obj[0]), str(obj[1])
    meta = getattr(obj, "_meta", None)
    if meta is not None:
        return f"{meta.app_label}.{meta.model_name}", str(obj.pk)
    raise TypeError(f"audit.record: obj must be a model instance or (type, id), got {obj!r}")


def record(request_or_user: Any, action: str, obj: Any = None, **details: Any) -> AuditEntry:
    """Append one entry to the audit log and return it.

    ``request_or_user`` is the current request (gives user, IP address and user agent) or
    a user (or None) for work done outside a request. ``obj`` is a model instance or a
    ``(type, id)`` pair. ``details`` must be JSON-serialisable (other values become strings);
    never put identifiers of victims or passwords in them.
    """
    request = request_or_user if isinstance(request_or_user, HttpRequest) else None
    user = getattr(request, "user", None) if request is not None else request_or_user
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    object_type, object_id = _describe(obj)
    meta = request.META if request is not None else {}
    entry = AuditEntry(
        created_at=timezone.now(),
        actor=user,
        actor_username=user.get_username() if user is not None else "",
        action=action,
        object_type=object_type,
        object_id=object_id,
        ip_address=_clean_ip(meta.get("REMOTE_ADDR")),
        user_agent=str(meta.get("HTTP_USER_AGENT", ""))[:300],
        details=json.loads(json.dumps(details, default=str)),
    )
    alias = router.db_for_write(AuditEntry)
    connection = connections[alias]
    with transaction.atomic(using=alias):
        # SQLite serialises writers (transaction_mode IMMEDIATE); PostgreSQL needs a lock
        # taken before reading the chain head, or two writers could chain to the same entry.
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])
        last = (
            AuditEntry.objects.using(alias).order_by("-id").values_list("hash", flat=True).first()
        )
        entry.prev_hash = last or GENESIS_HASH
        entry.hash = entry.compute_hash()
        entry.save(using=alias)
    return entry


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head: str
    broken_id: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_id is None


def _in_order(chunk_size: int = 2000) -> Iterator[AuditEntry]:
    return AuditEntry.objects.order_by("id").iterator(chunk_size=chunk_size)


def verify_chain() -> ChainReport:
    """Recompute every hash in order; report the first entry that does not fit."""
    expected_prev = GENESIS_HASH
    count = 0
    for entry in _in_order():
        if entry.prev_hash != expected_prev:
            return ChainReport(
                count,
                expected_prev,
                entry.pk,
                "its prev_hash does not match the previous entry's hash "
                "(an entry before it was removed or altered)",
            )
        if entry.compute_hash() != entry.hash:
            return ChainReport(
                count,
                expected_prev,
                entry.pk,
                "its content does not match its hash (the entry was altered)",
            )
        expected_prev = entry.hash
        count += 1
    return ChainReport(count, expected_prev)
