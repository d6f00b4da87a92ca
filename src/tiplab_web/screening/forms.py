"""The upload form: a CSV of texts, which columns hold the id and the text, the threshold."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ScreeningBatch
from .upload import MAX_BYTES


class UploadForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, required=False,
                            help_text=_("Default: the file's name."))
    kind = forms.ChoiceField(
        label=_("What the file holds"), choices=ScreeningBatch.Kind.choices,
        initial=ScreeningBatch.Kind.TEXTS,
        help_text=_("Case narratives: columns source_agency, record_id and text, as the "
                    "simulator writes narratives.csv; each flag links to its case record."))
    file = forms.FileField(label=_("CSV file"),
                           help_text=_("UTF-8 (or another encoding, detected), at most "
                                       "%(mb)d MB, a header row and one text per row.")
                           % {"mb": MAX_BYTES // (1024 * 1024)})
    id_column = forms.CharField(label=_("Id column"), max_length=100, initial="id",
                                required=False,
                                help_text=_("For texts: the column that names each row."))
    text_column = forms.CharField(label=_("Text column"), max_length=100, initial="text",
                                  required=False,
                                  help_text=_("For texts: the column holding the text."))
    threshold = forms.FloatField(
        label=_("Flag threshold"), initial=0.5, min_value=0.05, max_value=0.95,
        help_text=_("A text is flagged when an indicator's confidence reaches this value. "
                    "Lower finds more, with more false alarms to review."))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("kind") == ScreeningBatch.Kind.TEXTS:
            for f in ("id_column", "text_column"):
                if not (data.get(f) or "").strip():
                    self.add_error(f, _("Name the column."))
        f = data.get("file")
        if f is not None and f.size > MAX_BYTES:
            self.add_error("file", _("The file is %(mb).1f MB; at most %(max)d MB can be "
                                     "screened at once. Split it into several files.")
                           % {"mb": f.size / 1e6, "max": MAX_BYTES // (1024 * 1024)})
        return data


class ReviewForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in ("confirm", "dismiss", "escalate",
                                                         "reopen")])
    note = forms.CharField(required=False, max_length=1000)
