"""Errors raised by :mod:`tiplab.linkage`."""

from __future__ import annotations

from tiplab.errors import TiplabError


class LinkageError(TiplabError):
    """A linkage run cannot proceed; the message says what, where and how to fix it."""


class RolesError(LinkageError):
    """A roles file (ROLES.yaml) or a column-role mapping is malformed."""


class EncodingError(LinkageError):
    """Privacy-preserving encoding failed (bad key, wrong key, incompatible encodings)."""
