"""Optional proof of work (hashcash) on the report form, against bulk submissions.

``TIPLAB_REPORT_POW_BITS`` (default 0: off). When on, the form carries a signed challenge;
the browser (``static/reporting/pow.js``) finds a counter such that
``SHA-256(challenge ":" counter)`` starts with that many zero bits, and the server checks it
with one hash. Each challenge is accepted once and for an hour.

Off by default because it needs JavaScript: Tor Browser's "Safest" setting runs none, and a
reporter who cannot submit is worse than a few spam reports (the rate limits and the
honeypot stay on either way). A sender makes 2^bits hashes on average per report; the
server one.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.core import signing
from django.core.cache import cache

SALT = "tiplab.reporting.pow"
MAX_AGE = 3600


def bits() -> int:
    return max(0, min(32, int(getattr(settings, "TIPLAB_REPORT_POW_BITS", 0) or 0)))


def new_challenge() -> str:
    return signing.dumps({"n": secrets.token_hex(8), "b": bits()}, salt=SALT)


def leading_zero_bits(digest: bytes) -> int:
    n = 0
    for byte in digest:
        if byte == 0:
            n += 8
            continue
        n += 8 - byte.bit_length()
        break
    return n


def solve(challenge: str) -> str:
    """The counter the browser would find (for tests and the benchmark)."""
    need = signing.loads(challenge, salt=SALT)["b"]
    counter = 0
    while leading_zero_bits(hashlib.sha256(f"{challenge}:{counter}".encode()).digest()) < need:
        counter += 1
    return str(counter)


def verify(challenge: str, counter: str) -> bool:
    """True when the work is done, the challenge is ours, fresh and not used before."""
    if bits() == 0:
        return True
    try:
        payload = signing.loads(challenge, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return False
    need = int(payload.get("b", 0))
    if need < bits() or len(counter) > 20:
        return False
    digest = hashlib.sha256(f"{challenge}:{counter}".encode()).digest()
    if leading_zero_bits(digest) < need:
        return False
    return bool(cache.add(f"tiplab:pow:{payload['n']}", 1, timeout=MAX_AGE + 60))
