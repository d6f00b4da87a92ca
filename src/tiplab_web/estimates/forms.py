from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from . import services
from .models import EstimationRun

MAX_UPLOAD = 2 * 1024 * 1024
STRATA_LABELS = {"year": _("year"), "region_of_exploitation": _("region"), "sex": _("sex"),
                 "age_band": _("age band"), "exploitation_form": _("form of exploitation")}


class EstimateForm(forms.Form):
    input_kind = forms.ChoiceField(
        label=_("Data"), widget=forms.RadioSelect, initial=EstimationRun.SHIPPED,
        choices=[(EstimationRun.LINK_RUN, _("A link run's person table")),
                 (EstimationRun.SHIPPED, _("A published multiple-list table")),
                 (EstimationRun.UPLOAD, _("Upload a pattern-count CSV"))])
    link_run = forms.ModelChoiceField(label=_("Link run"), queryset=None, required=False)
    by = forms.MultipleChoiceField(
        label=_("Strata (link runs only)"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=list(STRATA_LABELS.items()))
    pool_below = forms.IntegerField(
        label=_("Pool strata with fewer persons than"), required=False, min_value=0,
        initial=0, help_text=_("Sparse strata are merged into one \"other\" stratum; 0 = off."))
    shipped = forms.ChoiceField(label=_("Published table"), required=False)
    upload = forms.FileField(
        label=_("Pattern-count CSV"), required=False,
        help_text=_("One 0/1 column per list and a count column."))
    method = forms.ChoiceField(label=_("Method"), initial="stepwise",
                               choices=services.method_choices)
    nboot = forms.IntegerField(label=_("Bootstrap replicates"), initial=1000, min_value=0,
                               max_value=10000,
                               help_text=_("0 gives a model-conditional interval only."))
    seed = forms.IntegerField(label=_("Seed"), initial=1234, min_value=0)
    sensitivity = forms.BooleanField(label=_("Sensitivity table across methods"),
                                     required=False, initial=True)
    compare = forms.BooleanField(
        label=_("Compare every method, with a recommendation (LCMCR and dga included)"),
        required=False, initial=False,
        help_text=_("Adds about ten seconds: the latent-class sampler runs its chains."))

    def __init__(self, *args: Any, link_runs: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["link_run"].queryset = link_runs
        self.fields["link_run"].label_from_instance = (
            lambda r: f"#{r.pk} {r.created_at:%Y-%m-%d} · {', '.join(r.sources)} · "
                      f"{r.persons} persons")
        self.fields["shipped"].choices = [("", "—")] + [
            (n, n) for n in services.shipped_tables()]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("input_kind")
        if kind == EstimationRun.LINK_RUN and not data.get("link_run"):
            self.add_error("link_run", _("Choose a finished link run."))
        if kind == EstimationRun.SHIPPED and not data.get("shipped"):
            self.add_error("shipped", _("Choose a table."))
        if kind == EstimationRun.UPLOAD:
            f = data.get("upload")
            if not f:
                self.add_error("upload", _("Choose a CSV file."))
            elif f.size > MAX_UPLOAD:
                self.add_error("upload", _("The file is larger than 2 MB."))
        if kind != EstimationRun.LINK_RUN:
            data["by"], data["pool_below"] = [], 0
        return data

    def parameters(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {"method": d["method"], "nboot": d["nboot"], "seed": d["seed"],
                "by": list(d.get("by") or []), "pool_below": d.get("pool_below") or 0,
                "sensitivity": bool(d.get("sensitivity")), "compare": bool(d.get("compare"))}
