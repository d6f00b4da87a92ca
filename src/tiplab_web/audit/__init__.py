"""The append-only, hash-chained audit log.

Other apps call ``tiplab_web.audit.record(request_or_user, action, obj=None, **details)``.
"""

from __future__ import annotations

from typing import Any


def record(request_or_user: Any, action: str, obj: Any = None, **details: Any) -> Any:
    """Append one audit entry; see ``tiplab_web.audit.services.record``."""
    from tiplab_web.audit.services import record as _record

    return _record(request_or_user, action, obj, **details)
