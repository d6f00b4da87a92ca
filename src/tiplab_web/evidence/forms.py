"""Forms of the evidence pages: notes (typed or uploaded), codes, quotations, the codebook."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tiplab.records.codes import EXPLOITATION_FORMS

from . import services
from .models import Note

LANGUAGES = [("", _("Detect from the text")), ("en", _("English")), ("fr", _("French")),
             ("es", _("Spanish")), ("pt", _("Portuguese")), ("de", _("German")),
             ("it", _("Italian")), ("ru", _("Russian")), ("ar", _("Arabic"))]
MAX_UPLOAD = 10 * 1024 * 1024


class NoteMetaForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200,
                            help_text=_("A short name for the note; no names of people."))
    source_type = forms.ChoiceField(label=_("Source"), choices=Note.SourceType.choices)
    interview_date = forms.DateField(label=_("Date of the interview"), required=False,
                                     widget=forms.DateInput(attrs={"type": "date"}))
    region = forms.ChoiceField(label=_("Region"), required=False)
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGES, required=False,
                                 help_text=_("The model suggests codes for English notes; "
                                             "notes in other languages are coded by hand."))
    exploitation_form = forms.ChoiceField(
        label=_("Form of exploitation"), required=False,
        choices=[("", _("Not recorded")), *EXPLOITATION_FORMS.items()])
    consent_analysis = forms.BooleanField(
        label=_("The person interviewed agreed to the note's use in analysis"), required=False,
        help_text=_("Without it the note is kept but neither coded nor counted."))
    consent_quote = forms.BooleanField(
        label=_("... and to being quoted (redacted)"), required=False)
    blind = forms.BooleanField(
        label=_("Two coders, blind"), required=False,
        help_text=_("Each coder sees only their own codes until both have finished."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        regions = services.regions()
        field = self.fields["region"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Not recorded")), *sorted(regions.items(), key=lambda kv: kv[1])]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("consent_quote") and not data.get("consent_analysis"):
            self.add_error("consent_quote", _("Quotation needs consent to use the note in "
                                              "analysis too."))
        return data

    def note_input(self, **extra: str) -> services.NoteInput:
        d = self.cleaned_data
        return services.NoteInput(
            title=d["title"], source_type=d["source_type"], interview_date=d["interview_date"],
            region=d.get("region") or "", language=d.get("language") or "",
            exploitation_form=d.get("exploitation_form") or "",
            consent_analysis=bool(d.get("consent_analysis")),
            consent_quote=bool(d.get("consent_quote")), blind=bool(d.get("blind")), **extra)


class NoteForm(NoteMetaForm):
    text = forms.CharField(label=_("Text of the note"), widget=forms.Textarea(attrs={"rows": 14}),
                           max_length=services.MAX_CHARS, strip=True)

    field_order = ["title", "text"]


class UploadForm(NoteMetaForm):
    file = forms.FileField(label=_("File"), help_text=_(
        "A TXT, DOCX or PDF file of at most 10 MB. Scanned PDFs need text recognition first."))

    field_order = ["file", "title"]


class FilterForm(forms.Form):
    source_type = forms.ChoiceField(label=_("Source"), required=False,
                                    choices=[("", _("All")), *Note.SourceType.choices])
    region = forms.ChoiceField(label=_("Region"), required=False)
    year = forms.IntegerField(label=_("Year"), required=False, min_value=1900, max_value=2100)
    coded = forms.ChoiceField(label=_("Coding"), required=False, choices=[
        ("", _("All")), ("coded", _("Coded")), ("uncoded", _("Not coded yet"))])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["region"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("All")), *sorted(services.regions().items(),
                                                   key=lambda kv: kv[1])]


class SpanForm(forms.Form):
    start = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    end = forms.IntegerField(min_value=1, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") is not None and data.get("end") is not None \
                and data["end"] <= data["start"]:
            raise forms.ValidationError(_("Select some text first."))
        return data


class CodingForm(SpanForm):
    code = forms.ChoiceField(label=_("Code"))
    comment = forms.CharField(label=_("Comment"), required=False, max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, codebook: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["code"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(str(group).replace("_", " ").capitalize(),
                          [(c.key, f"{c.label} ({c.key})") for c in codes])
                         for group, codes in codebook.groups().items()]


GROUPS = [("forced_labour", _("Forced labour (ILO indicators)")),
          ("operational", _("Operational indicators (ILO–EC)")),
          ("vulnerability", _("Vulnerabilities")), ("recruitment", _("Recruitment")),
          ("barriers", _("Barriers to justice")), ("service_gaps", _("Service gaps"))]


class CodeEditForm(forms.Form):
    """Add a code, or change an existing one (its label, description, more cue phrases)."""

    mode = forms.ChoiceField(label=_("Change"), choices=[
        ("add", _("Add a new code")), ("edit", _("Change an existing code"))],
        widget=forms.RadioSelect, initial="add")
    key = forms.CharField(label=_("Code key"), max_length=80,
                          help_text=_("e.g. TH.RECRUIT.ONLINE; unique in the codebook."))
    label = forms.CharField(label=_("Label"), max_length=120, required=False)
    group = forms.ChoiceField(label=_("Group"), choices=GROUPS, required=False)
    description = forms.CharField(label=_("Description"), required=False, max_length=1000,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    cues = forms.CharField(label=_("Cue phrases to add (one per line)"), required=False,
                           max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    strength = forms.ChoiceField(label=_("Strength (operational indicators)"), required=False,
                                 choices=[("", _("None")), ("strong", _("Strong")),
                                          ("medium", _("Medium")), ("weak", _("Weak"))])
    change = forms.CharField(label=_("What changed and why"), max_length=300)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("mode") == "add":
            for name in ("label", "group", "description"):
                if not data.get(name):
                    self.add_error(name, _("A new code needs this."))
        return data

    def new_data(self, current: dict[str, Any]) -> dict[str, Any]:
        """The codebook's dict with this change applied (validated by the core on save)."""
        d = self.cleaned_data
        data = {**current, "codes": [dict(c) for c in current["codes"]]}
        cues = [c.strip() for c in (d.get("cues") or "").splitlines() if c.strip()]
        if d["mode"] == "add":
            data["codes"].append({"key": d["key"].strip(), "label": d["label"],
                                  "group": d["group"], "description": d["description"],
                                  "cues": cues, "strength": d.get("strength") or None,
                                  "source": "local"})
            return data
        for c in data["codes"]:
            if c["key"] == d["key"].strip():
                if d.get("label"):
                    c["label"] = d["label"]
                if d.get("description"):
                    c["description"] = d["description"]
                if d.get("strength"):
                    c["strength"] = d["strength"]
                c["cues"] = list(c.get("cues") or []) + [q for q in cues
                                                          if q not in (c.get("cues") or [])]
                return data
        raise forms.ValidationError(_("There is no code %(k)s to change.") % {"k": d["key"]})
