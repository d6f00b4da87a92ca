"""Translated labels of the consultation vocabulary (the core keeps English ones)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

GROUP_LABELS = {
    "law_enforcement": _("Law enforcement"),
    "judiciary": _("Judiciary and prosecution"),
    "ngo": _("NGOs and service providers"),
    "community": _("Community organisations"),
    "survivor_board": _("Survivors"),
    "public": _("The public"),
    "government": _("Government (drafting team)"),
    "international": _("International organisations"),
}
OUTCOME_LABELS = {
    "accepted": _("Accepted"),
    "partly": _("Partly accepted"),
    "not_accepted": _("Not accepted"),
}
STATE_LABELS = {"open": _("Open"), "upcoming": _("Not open yet"), "closed": _("Closed")}
KIND_LABELS = {"comment": _("Comment"), "amendment": _("Amendment"), "reply": _("Reply")}
