"""Recorded decisions that stay in history: which estimate is the country's, which link run
defines a person. A decision is never edited; a new one (or a withdrawal) ends the current
one with who, when and why."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class Designation(models.Model):
    """Who designated it, when and why; who ended it, when and why (abstract)."""

    designated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                      related_name="+")
    designated_at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 null=True, blank=True, related_name="+")
    end_note = models.TextField(blank=True)

    class Meta:
        abstract = True
        ordering = ["-designated_at", "-id"]

    @property
    def current(self) -> bool:
        return self.ended_at is None

    def end(self, user: Any, note: str, *, also: tuple[str, ...] = ()) -> None:
        """Close this designation (``also``: further fields the caller changed)."""
        self.ended_at = timezone.now()
        self.ended_by = user
        self.end_note = note
        self.save(update_fields=["ended_at", "ended_by", "end_note", *also])
