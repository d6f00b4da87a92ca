"""Dashboard figures that change only when the approved data change, computed once per state.

The records-by-source table, the data freshness and the open validation problems scan every
case record of the active batches (30 ms of a dashboard request on the demo's 8,400 records,
growing with the data). They depend on nothing but the set of active batches (and the
viewer's agency, for the problems), so they are cached under a key made of that set: an
import, an approval or a supersede changes the key and the next request recomputes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache

from .models import ImportBatch

T = TypeVar("T")

#: seconds a computed figure is kept (a new state makes a new key before that anyway)
TIMEOUT = 6 * 3600


def active_state() -> str:
    """A fingerprint of the set of active batches (their ids), exact and cheap to get."""
    ids = ImportBatch.objects.filter(status=ImportBatch.ACTIVE).order_by("pk").values_list(
        "pk", flat=True)
    return hashlib.blake2b(",".join(map(str, ids)).encode(), digest_size=8).hexdigest()


def per_state(name: str, compute: Callable[[], T], *, scope: str = "",
              request: Any = None) -> T:
    """``compute()`` cached for the current set of active batches (and ``scope``); with
    ``request``, the set is looked up once per request."""
    state = (memo_on_request(request, "active_state", active_state) if request is not None
             else active_state())
    scoped = hashlib.blake2b(scope.encode(), digest_size=8).hexdigest() if scope else "-"
    key = f"tiplab:state:{name}:{scoped}:{state}"
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, TIMEOUT)
    return found  # type: ignore[no-any-return]


def memo_on_request(request: Any, name: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per request (several panels may ask for the same thing)."""
    store = request.__dict__.setdefault("_tiplab_memo", {})
    if name not in store:
        store[name] = compute()
    return store[name]  # type: ignore[no-any-return]
