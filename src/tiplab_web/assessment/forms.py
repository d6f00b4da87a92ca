from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tiplab.policy import legal

MAX_UPLOAD = 2 * 1024 * 1024


class NewAssessmentForm(forms.Form):
    country = forms.CharField(label=_("Country"), max_length=80,
                              help_text=_("ISO 3166 code or name, e.g. GBR or United Kingdom."))
    instrument = forms.ChoiceField(label=_("Instrument"), initial="palermo")
    date = forms.DateField(label=_("Date of the assessment"), initial=dt.date.today,
                           widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    note = forms.CharField(label=_("Note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, instruments: dict[str, legal.Instrument], **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["instrument"].choices = [(k, f"{v.short_title} (v{v.version})")
                                             for k, v in instruments.items()]

    def clean_country(self) -> str:
        try:
            return legal.country_code(self.cleaned_data["country"])
        except ValueError as e:
            raise forms.ValidationError(str(e)) from e


class AnswerForm(forms.Form):
    answer = forms.ChoiceField(label=_("Answer"), choices=[
        ("unknown", _("Not assessed")), ("yes", _("Yes")), ("partial", _("Partly")),
        ("no", _("No")), ("not_applicable", _("Not applicable"))])
    statute = forms.CharField(label=_("Statute"), required=False, max_length=300)
    article = forms.CharField(label=_("Article"), required=False, max_length=120)
    excerpt = forms.CharField(label=_("Quoted excerpt"), required=False, max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 2}))
    link = forms.URLField(label=_("Link"), required=False, max_length=500,
                          assume_scheme="https")
    comment = forms.CharField(label=_("Comment"), required=False, max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 2}))


class UploadForm(forms.Form):
    file = forms.FileField(label=_("File"))

    def clean_file(self) -> Any:
        f = self.cleaned_data["file"]
        if f.size > MAX_UPLOAD:
            raise forms.ValidationError(_("The file is larger than 2 MB."))
        return f

    def text(self) -> str:
        raw = self.cleaned_data["file"].read()
        try:
            return str(raw.decode("utf-8-sig"))
        except UnicodeDecodeError as e:
            raise forms.ValidationError(
                _("The file is not UTF-8 text (byte %(n)s); save it as UTF-8.")
                % {"n": e.start}) from e
