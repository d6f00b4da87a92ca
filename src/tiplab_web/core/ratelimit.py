"""A small fixed-window rate limiter on Django's cache.

``check(bucket, key)`` counts one request for ``key`` (an IP address, a token id, a user
id) in the named bucket of ``settings.TIPLAB_RATE_LIMITS`` = {bucket: (limit, seconds)} and
raises ``RateLimited`` once the limit is passed within the current window. With several
server processes, use a shared cache (settings.production uses the file cache).
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import cache


class RateLimited(Exception):
    def __init__(self, bucket: str, retry_after: int) -> None:
        super().__init__(f"rate limit {bucket!r} exceeded; retry after {retry_after} s")
        self.bucket = bucket
        self.retry_after = retry_after


def check(bucket: str, key: str) -> None:
    """Count one request; raise ``RateLimited`` when over the bucket's limit."""
    limit, window = settings.TIPLAB_RATE_LIMITS[bucket]
    now = time.time()
    slot = int(now // window)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    cache_key = f"tiplab:rl:{bucket}:{digest}:{slot}"
    cache.add(cache_key, 0, timeout=window + 1)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window + 1)
        count = 1
    if count > limit:
        raise RateLimited(bucket, max(1, int((slot + 1) * window - now) + 1))


def client_ip(request: object, *args: object) -> str:
    """The client address (behind a trusted proxy, ``core.proxy`` has already put the
    forwarded address in REMOTE_ADDR). Also django-axes' ``AXES_CLIENT_IP_CALLABLE``."""
    return getattr(request, "META", {}).get("REMOTE_ADDR", "") or "unknown"
