"""Forms of the consultation pages and of the survivors' pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tiplab.policy import questionnaires as qs
from tiplab_web.accounts.models import Organisation

from .labels import GROUP_LABELS, OUTCOME_LABELS


class ConsultationForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300)
    description = forms.CharField(label=_("What you ask participants"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    opens_on = forms.DateField(label=_("Opens on"), widget=forms.DateInput(attrs={"type": "date"}))
    closes_on = forms.DateField(label=_("Closes on"),
                                widget=forms.DateInput(attrs={"type": "date"}))
    scope = forms.MultipleChoiceField(
        label=_("Parts of the plan"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unticked to consult on the whole plan."))
    invited = forms.ModelMultipleChoiceField(
        label=_("Invited organisations"), queryset=Organisation.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Each takes part in its usual stakeholder group (police: law enforcement; "
                    "prosecution and courts: judiciary; NGOs and shelters: NGOs; other: "
                    "community organisations). Survivors and the public take part through "
                    "one-time codes."))

    def __init__(self, *args: Any, units: list[Any] | None = None, own: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = [(u.key, u.title) for u in units or []]
        qs_ = Organisation.objects.order_by("name")
        if own is not None:
            qs_ = qs_.exclude(pk=own.pk)
        self.fields["invited"].queryset = qs_
        if not self.is_bound:
            today = timezone.localdate()
            self.initial.setdefault("opens_on", today)
            self.initial.setdefault("closes_on", today + dt.timedelta(days=42))


class ContributionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=[
        ("comment", _("Comment")), ("amendment", _("Amendment: suggest new text"))],
        initial="comment", widget=forms.RadioSelect)
    body = forms.CharField(label=_("Your comment"), max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 4}))
    suggested_text = forms.CharField(
        label=_("Suggested text (amendments)"), required=False, max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The whole text as you would have it; the change is shown as a diff."))


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Your reply"), max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class HideForm(forms.Form):
    reason = forms.CharField(label=_("Reason for hiding"), max_length=300)


class RespondForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Answer"), choices=list(OUTCOME_LABELS.items()))
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))
    revision = forms.IntegerField(
        label=_("Plan revision that changed the text"), required=False, min_value=1,
        help_text=_("The revision number on the plan's versions page."))


class InviteForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("Organisation"),
                                          queryset=Organisation.objects.order_by("name"))
    group = forms.ChoiceField(label=_("Stakeholder group"), required=False,
                              choices=[("", _("Its usual group"))]
                              + [(k, v) for k, v in GROUP_LABELS.items()
                                 if k not in ("survivor_board", "public")])


class IssueCodesForm(forms.Form):
    target = forms.ChoiceField(label=_("For"))
    n = forms.IntegerField(label=_("How many codes"), min_value=1, max_value=1000, initial=20)
    days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=366,
                              initial=60)
    group = forms.ChoiceField(label=_("Who will use them"), choices=[
        ("survivor_board", GROUP_LABELS["survivor_board"]), ("public", GROUP_LABELS["public"])])
    note = forms.CharField(label=_("Your note for this batch"), required=False, max_length=200,
                           help_text=_("Where or when you hand them out, e.g. “north shelter, "
                                       "March”. Never a person's name."))
    fmt = forms.ChoiceField(label=_("Format"), choices=[("html", _("Page to print")),
                                                       ("pdf", "PDF")], initial="html")

    def __init__(self, *args: Any, consultations: list[Any] | None = None,
                 questionnaires: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(f"c:{c.pk}", _("Consultation: %(t)s") % {"t": c.title})
                   for c in consultations or []]
        if questionnaires:  # issued by the drafting team, who review the answers
            choices += [(f"q:{q.key}", _("Questionnaire: %(t)s") % {"t": q.t("title", "en")})
                        for q in qs.shipped().values()]
        self.fields["target"].choices = choices


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve and publish")),
                                          ("reject", _("Do not publish"))],
                                 widget=forms.RadioSelect, label=_("Decision"))
    text = forms.CharField(label=_("Text to publish (edit out anything that could identify "
                                   "the person)"), required=False, max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 6}))
    note = forms.CharField(label=_("Why not published (kept for the record)"), required=False,
                           max_length=300)
