"""Forms of the monitoring pages. The values of an agency's form are not a Django form: the
indicators differ per form, so the view reads ``v-<item>``, ``c-<item>`` and the breakdown
by sex (``sex-<item>-female`` …) and hands them to ``services.save_values``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tiplab_web.accounts.models import Organisation


class RoundForm(forms.Form):
    plan = forms.ChoiceField(label=_("Plan"))
    period = forms.CharField(label=_("Period"), max_length=10,
                             help_text=_("A year (2025) or a quarter (2026-Q1)."))
    opens_on = forms.DateField(label=_("Opens on"),
                               widget=forms.DateInput(attrs={"type": "date"}))
    deadline = forms.DateField(label=_("Deadline"),
                               widget=forms.DateInput(attrs={"type": "date"}),
                               help_text=_("Submissions after this day are counted late; "
                                           "they are accepted until you close the round."))

    def __init__(self, *args: Any, plans: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["plan"].choices = [(p.pk, f"{p.title} ({p.ident})") for p in plans or []]
        if not self.is_bound:
            day = timezone.localdate()
            self.initial.setdefault("opens_on", day)
            self.initial.setdefault("deadline", day + dt.timedelta(days=30))
            self.initial.setdefault("period", str(day.year - 1))


class AddItemForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("Organisation"),
                                          queryset=Organisation.objects.order_by("name"))
    indicator = forms.ChoiceField(label=_("Measure and indicator"))

    def __init__(self, *args: Any, choices: list[tuple[str, str]] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["indicator"].choices = choices or []


class UploadForm(forms.Form):
    file = forms.FileField(label=_("Filled-in template (.csv or .xlsx)"))


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect, choices=[
        ("approve", _("Approve: the values count")),
        ("return", _("Return for correction"))])
    reason = forms.CharField(label=_("Reason (required to return)"), required=False,
                             max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
