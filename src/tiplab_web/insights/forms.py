"""Filter forms of the analytics pages (GET; every field optional with a default)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

CASE_BREAKDOWNS = [
    ("", _("None (all records)")),
    ("sex", _("Sex")),
    ("age_band", _("Age band")),
    ("exploitation_forms", _("Form of exploitation")),
    ("citizenship", _("Citizenship")),
    ("region_of_exploitation", _("Region")),
    ("source_agency", _("Source agency")),
]
AGG_BREAKDOWNS = [("", _("None (total)")), ("sex", _("Sex")), ("age_group", _("Age"))]
HORIZONS = [(0, _("No forecast")), (1, "1"), (2, "2"), (3, "3"), (5, "5")]
FLAG_GROUPS = [
    ("means_of_control", _("Means of control")),
    ("exploitation_forms", _("Forms of exploitation")),
    ("labour_sectors", _("Labour sectors")),
    ("recruiter_relation", _("Recruiter relation")),
]
PROFILE_BREAKDOWNS = [("sex", _("Sex")), ("age_band", _("Age band"))]
ROUTE_DATASETS = [("cases", _("Case records (simulated country)")),
                  ("denver", _("Denver coding of US TIP reports (2008–2016)"))]


UNITS = [("persons", _("Persons (designated linkage)")), ("records", _("Records"))]


class UnitMixin(forms.Form):
    """What to count: persons of the designated link run (the default when one is
    designated) or records. Without a designation only records can be counted."""

    unit = forms.ChoiceField(label=_("Count"), choices=UNITS, required=False, initial="")


def bind(form_class: type[forms.Form], query: Any, **kwargs: Any) -> forms.Form:
    """Bind the query string over the form's initial values (a fresh page is valid too)."""
    probe = form_class(**kwargs)
    data = {name: f.initial for name, f in probe.fields.items() if f.initial is not None}
    for key in query:
        if key in probe.fields:
            data[key] = query.getlist(key)[-1]
    if query:  # a submitted form: an unticked checkbox group means "none"
        for name, f in probe.fields.items():
            if isinstance(f, forms.MultipleChoiceField):
                data[name] = query.getlist(name)
    return form_class(data, **kwargs)


class YearsMixin(forms.Form):
    start = forms.IntegerField(label=_("From year"), required=False, min_value=1900,
                               max_value=2100)
    end = forms.IntegerField(label=_("To year"), required=False, min_value=1900,
                             max_value=2100)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError(_("The first year is after the last year."))
        return data


class TrendsForm(UnitMixin, YearsMixin):
    dataset = forms.ChoiceField(
        label=_("Data"), initial="cases",
        choices=[("cases", _("Case records (simulated country)")),
                 ("glotip", _("UNODC GLOTIP aggregates"))])
    by = forms.ChoiceField(label=_("Breakdown (case records)"), choices=CASE_BREAKDOWNS,
                           required=False, initial="")
    country = forms.ChoiceField(label=_("Country (GLOTIP)"), required=False, initial="GBR")
    indicator = forms.ChoiceField(label=_("Indicator (GLOTIP)"), required=False,
                                  initial="Detected trafficking victims")
    agg_by = forms.ChoiceField(label=_("Breakdown (GLOTIP)"), choices=AGG_BREAKDOWNS,
                               required=False, initial="")
    horizon = forms.TypedChoiceField(label=_("Forecast (years)"), choices=HORIZONS,
                                     coerce=int, required=False, initial=3, empty_value=0)

    def __init__(self, *args: Any, countries: list[str] = (), indicators: list[str] = (),
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [(c, c) for c in countries] or [("GBR", "GBR")]
        self.fields["indicator"].choices = [(i, i) for i in indicators] or [
            ("Detected trafficking victims", "Detected trafficking victims")]


class HotspotsForm(UnitMixin):
    year = forms.TypedChoiceField(label=_("Year"), required=False, coerce=int,
                                  empty_value=None, initial="")
    trend_start = forms.TypedChoiceField(label=_("Emerging hotspots from"), required=False,
                                         coerce=int, empty_value=None, initial="")
    trend_end = forms.TypedChoiceField(label=_("Emerging hotspots to"), required=False,
                                       coerce=int, empty_value=None, initial="")

    def __init__(self, *args: Any, years: tuple[int, int] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        span = [(y, str(y)) for y in (range(years[0], years[1] + 1) if years else range(0))]
        self.fields["year"].choices = [("", _("All years")), *span]
        self.fields["trend_start"].choices = [("", _("First year")), *span]
        self.fields["trend_end"].choices = [("", _("Last year")), *span]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        lo, hi = data.get("trend_start"), data.get("trend_end")
        if lo is not None and hi is not None and hi - lo < 2:
            raise forms.ValidationError(
                _("Emerging hotspots need at least three years: pick a wider span."))
        return data


class ProfilesForm(UnitMixin, YearsMixin):
    group = forms.ChoiceField(label=_("Flag group"), choices=FLAG_GROUPS,
                              initial="means_of_control")
    by = forms.MultipleChoiceField(label=_("Breakdown"), choices=PROFILE_BREAKDOWNS,
                                   required=False, initial=["sex"],
                                   widget=forms.CheckboxSelectMultiple)


class RoutesForm(UnitMixin, YearsMixin):
    dataset = forms.ChoiceField(label=_("Data"), choices=ROUTE_DATASETS, initial="cases")
    top = forms.TypedChoiceField(label=_("Corridors on the map"), coerce=int, initial=20,
                                 choices=[(10, "10"), (20, "20"), (30, "30"), (50, "50")])
    a_start = forms.IntegerField(label=_("Compare: period A from"), required=False,
                                 min_value=1900, max_value=2100)
    a_end = forms.IntegerField(label=_("period A to"), required=False, min_value=1900,
                               max_value=2100)
    b_start = forms.IntegerField(label=_("period B from"), required=False, min_value=1900,
                                 max_value=2100)
    b_end = forms.IntegerField(label=_("period B to"), required=False, min_value=1900,
                               max_value=2100)

    PERIOD_FIELDS = ("a_start", "a_end", "b_start", "b_end")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        given = [data.get(f) is not None for f in self.PERIOD_FIELDS]
        if any(given) and not all(given):
            raise forms.ValidationError(
                _("To compare two periods, give the first and last year of both."))
        if all(given) and (data["a_start"] > data["a_end"] or data["b_start"] > data["b_end"]):
            raise forms.ValidationError(_("A comparison period starts after it ends."))
        return data

    def periods(self) -> tuple[tuple[int, int], tuple[int, int]] | None:
        """(period A, period B) when both are given (call after ``is_valid``)."""
        d = self.cleaned_data
        if any(d.get(f) is None for f in self.PERIOD_FIELDS):
            return None
        return (d["a_start"], d["a_end"]), (d["b_start"], d["b_end"])


class GapForm(forms.Form):
    by = forms.MultipleChoiceField(
        label=_("Strata"), required=False, initial=["region_of_exploitation"],
        widget=forms.CheckboxSelectMultiple,
        choices=[("region_of_exploitation", _("Region")),
                 ("exploitation_form", _("Form of exploitation")), ("sex", _("Sex")),
                 ("age_band", _("Age band")), ("year", _("Year"))])
    nboot = forms.TypedChoiceField(
        label=_("Bootstrap replicates (interval)"), coerce=int, initial=200,
        choices=[(200, "200"), (1000, "1000"), (0, _("none (model-conditional interval)"))])
    method = forms.ChoiceField(
        label=_("Method"), required=False, initial="stepwise",
        choices=[("stepwise", _("stepwise log-linear (fast)")),
                 ("lcmcr", _("latent classes, LCMCR (heterogeneity; minutes)"))],
        help_text=_("LCMCR absorbs differences in how visible people are; its credible "
                    "interval needs no bootstrap."))

    def clean_by(self) -> list[str]:
        by = list(self.cleaned_data.get("by") or [])
        if not by:
            raise forms.ValidationError(_("Choose at least one stratum."))
        if len(by) > 2:
            raise forms.ValidationError(_(
                "Choose at most two strata: beyond that most strata are too small to "
                "estimate."))
        return by


class VulnerabilityForm(forms.Form):
    source = forms.ChoiceField(label=_("Indicators"))
    normalisation = forms.ChoiceField(label=_("Normalisation"), required=False, choices=[
        ("", _("as configured")), ("minmax", _("min-max")), ("zscore", _("z-score")),
        ("rank", _("rank")), ("target", _("distance to target"))])
    weighting = forms.ChoiceField(label=_("Weights"), required=False, choices=[
        ("", _("as configured")), ("equal", _("equal")), ("expert", _("expert")),
        ("budget", _("budget allocation")), ("pca", _("principal components"))])
    aggregation = forms.ChoiceField(label=_("Aggregation"), required=False, choices=[
        ("", _("as configured")), ("arithmetic", _("arithmetic")),
        ("geometric", _("geometric")), ("harmonic", _("harmonic"))])
    imputation = forms.ChoiceField(label=_("Missing values"), required=False, choices=[
        ("", _("as configured")), ("none", _("none (refuse)")), ("mean", _("mean")),
        ("regression", _("regression"))])
    replications = forms.TypedChoiceField(
        label=_("Monte Carlo replications"), coerce=int, initial=1000,
        choices=[(200, "200"), (1000, "1000"), (5000, "5000")])

    def __init__(self, *args: Any, sources: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [(s["key"], s["name"]) for s in sources]
        if sources:
            self.fields["source"].initial = sources[0]["key"]

    def choices(self) -> dict[str, str]:
        return {k: self.cleaned_data[k] for k in ("normalisation", "weighting",
                                                  "aggregation", "imputation")
                if self.cleaned_data.get(k)}


class IndicatorUploadForm(forms.Form):
    table = forms.FileField(label=_("Indicator table (CSV: one row per unit)"))
    config = forms.FileField(label=_("Index configuration (YAML, optional)"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("table", "config"):
            f = data.get(name)
            if f is not None and f.size > 5 * 1024 * 1024:
                self.add_error(name, _("The file is larger than 5 MB."))
        return data
