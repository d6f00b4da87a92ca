"""What the command-line plug-ins of the web layer share (``tiplab codes``, ``tiplab
consultation``, ``tiplab round``, ``tiplab scorecard``): Django set up once, and the named user
they act as, whose role must allow the command."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer

ByOption = Annotated[str, typer.Option("--by", help="Username of the person acting (audited).")]


def setup_django() -> None:
    """Set Django up once (a second ``django.setup()`` would configure logging again, onto
    whatever ``sys.stderr`` is at that moment) — ``DJANGO_SETTINGS_MODULE``, else the embedded
    defaults."""
    from django.apps import apps

    if apps.ready:
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tiplab_web.settings.dev")
    import django

    django.setup()


def acting_user(username: str, capability: str) -> Any:
    """The active user ``username``, who must hold ``capability``; a clear error otherwise."""
    from django.contrib.auth import get_user_model

    from tiplab.errors import TiplabError
    from tiplab_web.core.access import can

    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise TiplabError(f"--by {username}: no active user of that name")
    if not can(user, capability):
        raise TiplabError(f"--by {username}: their role does not allow this ({capability})")
    return user
