from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import LinkDecision, LinkSamplePair


class LinkForm(forms.Form):
    sources = forms.MultipleChoiceField(
        label=_("Agencies to link"), widget=forms.CheckboxSelectMultiple,
        help_text=_("Active records of these agencies are linked in clear text; identifiers "
                    "are decrypted in memory only and this bulk access is audited."))
    threshold = forms.FloatField(
        label=_("Match threshold"), required=False, min_value=0.01, max_value=0.999,
        help_text=_("Leave empty to use the model's choice (the threshold with the highest "
                    "estimated F1; the run page shows the trade-off and the reasoning)."))

    def __init__(self, *args: Any, sources: list[tuple[str, int]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sources"].choices = [(s, f"{s} ({n:,} records)") for s, n in sources]


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=LinkDecision.DECISIONS)


class SampleForm(forms.Form):
    size = forms.IntegerField(
        label=_("Pairs to draw"), min_value=20, max_value=2000, initial=200,
        help_text=_("About this many; every group of pairs gets at least ten. More pairs give "
                    "narrower intervals."))


class LabelForm(forms.Form):
    label = forms.ChoiceField(choices=LinkSamplePair.LABELS)
