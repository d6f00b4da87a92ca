"""Forms of the public report pages and of the staff's triage page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tiplab.records.codes import GENDER, MAJORITY_STATUS
from tiplab.records.countries import is_country_code

from . import attachments, pow
from .models import Referral, Report

DANGER = (("no", _("No")), ("yes", _("Yes, someone is in danger now")),
          ("unsure", _("I am not sure")))


class _Honeypot(forms.Form):
    """A field people never see (hidden by the style sheet, skipped by the keyboard) and
    simple robots fill in."""

    website = forms.CharField(label=_("Leave this field empty"), required=False,
                              widget=forms.TextInput(attrs={"autocomplete": "off",
                                                            "tabindex": "-1"}))
    lang = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_website(self) -> str:
        value: str = self.cleaned_data.get("website", "")
        if value.strip():
            raise forms.ValidationError(_("This field must stay empty. Nothing was sent."))
        return value


class _Attachment(forms.Form):
    attachment = forms.FileField(
        label=_("A file (optional)"), required=False, widget=forms.FileInput(attrs={
            "accept": "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain"}),
        help_text="")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attachment"].help_text = _(
            "A photo (PNG, JPEG, GIF, WebP), a PDF or a text file, up to %(mb)s MB. Photos can "
            "hold the place and time they were taken, and the phone that took them: send one "
            "only if that is safe for you.") % {"mb": attachments.max_bytes() // (1024 * 1024)}

    def clean_attachment(self) -> attachments.Checked | None:
        f = self.cleaned_data.get("attachment")
        if not f:
            return None
        try:
            return attachments.check(f)
        except attachments.AttachmentRefused as e:
            raise forms.ValidationError(str(e)) from e


class ReportForm(_Attachment, _Honeypot):
    reporter = forms.ChoiceField(
        label=_("Who is reporting?"), widget=forms.RadioSelect, choices=(
            ("victim", _("It is happening, or happened, to me")),
            ("witness", _("I saw it or know about it")),
            ("other", _("Someone else (for example family, a friend or a professional)"))))
    in_danger = forms.ChoiceField(label=_("Is someone in danger right now?"),
                                  widget=forms.RadioSelect, choices=DANGER, initial="no")
    what = forms.CharField(
        label=_("What happened?"), max_length=20000, widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("In your own words. Write only what you feel safe sharing; you can add "
                    "more later with your receipt code."))
    where = forms.CharField(
        label=_("Where? (optional)"), required=False, max_length=500,
        help_text=_("A town, a region or a country is enough."))
    when = forms.CharField(
        label=_("When? (optional)"), required=False, max_length=500,
        help_text=_("Roughly is fine, for example “last spring” or “since 2023”."))
    contact = forms.CharField(
        label=_("Do you want to be contacted? (optional)"), required=False, max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Only if it is safe: how and when we may reach you. Leave it empty to stay "
                    "anonymous; you can read our replies with your receipt code instead."))
    pow_challenge = forms.CharField(required=False, widget=forms.HiddenInput)
    pow_counter = forms.CharField(required=False, widget=forms.HiddenInput)

    field_order = ["reporter", "in_danger", "what", "where", "when", "contact", "attachment",
                   "website"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not pow.bits():
            del self.fields["pow_challenge"], self.fields["pow_counter"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if pow.bits() and not pow.verify(data.get("pow_challenge", ""),
                                         data.get("pow_counter", "")):
            raise forms.ValidationError(
                _("The automatic check against mass submissions did not finish: it needs "
                  "JavaScript. Allow JavaScript for this page, or wait a moment and send "
                  "again."))
        return data


class ReceiptForm(_Honeypot):
    code = forms.CharField(label=_("Your receipt code"), max_length=64, widget=forms.TextInput(
        attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}))


class FollowupForm(_Attachment, _Honeypot):
    code = forms.CharField(max_length=64, widget=forms.HiddenInput)
    text = forms.CharField(label=_("What would you like to add?"), required=False,
                           max_length=20000, widget=forms.Textarea(attrs={"rows": 6}))

    field_order = ["text", "attachment", "website"]


# -- staff ---------------------------------------------------------------------------------------


class TriageForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=[
        c for c in Report.Status.choices if c[0] != Report.Status.DUPLICATE])
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Report.Urgency.choices,
                                required=False)
    category = forms.ChoiceField(label=_("Category"), choices=Report.Category.choices,
                                 required=False)


class MessageForm(forms.Form):
    text = forms.CharField(label=_("Message"), max_length=20000,
                           widget=forms.Textarea(attrs={"rows": 4}))


class ReferralForm(forms.Form):
    to = forms.ChoiceField(label=_("Referred to"), choices=Referral.To.choices)
    organisation = forms.CharField(label=_("Organisation"), max_length=200)
    on = forms.DateField(label=_("Date of the referral"),
                         widget=forms.DateInput(attrs={"type": "date"}))

    def clean_on(self) -> dt.date:
        on: dt.date = self.cleaned_data["on"]
        if on > timezone.localdate():
            raise forms.ValidationError(_("The date is in the future."))
        return on


class DuplicateForm(forms.Form):
    original = forms.CharField(label=_("Duplicate of report"), max_length=20,
                               help_text=_("Its reference, e.g. R-00012."))

    def clean_original(self) -> int:
        raw = self.cleaned_data["original"].strip().upper().removeprefix("R-")
        if not raw.isdigit():
            raise forms.ValidationError(_("Give a report reference such as R-00012."))
        return int(raw)


def _choices(codes: Any, empty: Any) -> list[tuple[str, Any]]:
    return [("", empty), *((k, v) for k, v in codes.items())]


class ConvertForm(forms.Form):
    country_of_exploitation = forms.CharField(
        label=_("Country of exploitation (ISO 3166-1 alpha-3, optional)"), required=False,
        max_length=3)
    sex = forms.ChoiceField(label=_("Sex / gender (optional)"), required=False,
                            choices=_choices(GENDER, _("Not known")))
    majority_status = forms.ChoiceField(label=_("Minor or adult (optional)"), required=False,
                                        choices=_choices(MAJORITY_STATUS, _("Not known")))

    def clean_country_of_exploitation(self) -> str:
        value = self.cleaned_data.get("country_of_exploitation", "").strip().upper()
        if value and not is_country_code(value):
            raise forms.ValidationError(_("%(v)s is not an ISO 3166-1 alpha-3 country code "
                                          "(e.g. GBR, FRA).") % {"v": value})
        return value
