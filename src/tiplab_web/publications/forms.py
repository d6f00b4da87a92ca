"""Forms: a release's contents (chosen from presets, not typed as JSON), a brief's narrative."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from tiplab.privacy import release as core

#: the presets a release is made of: key, kind, title, dimensions/columns, default ε
PRESETS: list[dict[str, Any]] = [
    {"key": "key_figures", "kind": "figures", "title": _("Key figures"), "epsilon": 0.1,
     "on": True},
    {"key": "region_year_form", "kind": "dp_table",
     "title": _("Victims identified by region, year and form of exploitation"),
     "dimensions": ("region", "year", "form"), "epsilon": 0.5, "on": True},
    {"key": "sex_age", "kind": "dp_table", "title": _("Victims identified by sex and age band"),
     "dimensions": ("sex", "age_band"), "epsilon": 0.2, "on": True},
    {"key": "citizenship_year", "kind": "dp_table",
     "title": _("Victims identified by citizenship and year"),
     "dimensions": ("citizenship", "year"), "epsilon": 0.2, "on": False},
    {"key": "region_year_suppressed", "kind": "table",
     "title": _("Victims identified by region and year (small counts suppressed)"),
     "dimensions": ("region", "year"), "on": False},
    {"key": "microdata_kanon", "kind": "kanon",
     "title": _("Case microdata, k-anonymous (CTDC layout)"),
     "columns": ("year", "sex", "age_band", "citizenship", "form", "region"), "on": False},
    {"key": "microdata_synthetic", "kind": "synthetic",
     "title": _("Synthetic case microdata (differentially private)"),
     "columns": ("year", "sex", "age_band", "citizenship", "form", "region"), "epsilon": 0.5,
     "delta": 1e-8, "on": False},
]
#: δ of each item drawn with the discrete Gaussian (the ledger's δ cap is 1e-6 by default)
GAUSSIAN_DELTA = 1e-8


class ReleaseForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    note = forms.CharField(label=_("What this version is for"), required=False, max_length=300)
    year_start = forms.IntegerField(label=_("From year"), min_value=1990, max_value=2100)
    year_end = forms.IntegerField(label=_("To year"), min_value=1990, max_value=2100)
    mechanism = forms.ChoiceField(
        label=_("Noise"), initial="laplace",
        choices=[("laplace", _("Discrete Laplace (pure ε-differential privacy)")),
                 ("gaussian", _("Discrete Gaussian (zero-concentrated DP; smaller errors on "
                                "large tables, a small δ)"))])
    k = forms.IntegerField(label=_("k of k-anonymous microdata"), min_value=2, max_value=100)

    def __init__(self, *args: Any, release: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.release = release
        if release is not None:
            for f in ("title", "description"):
                self.fields.pop(f)
        else:
            self.fields.pop("note")
        self.fields["k"].initial = settings.TIPLAB_RELEASE_K
        start, end = _data_years()
        self.fields["year_start"].initial = start
        self.fields["year_end"].initial = end
        for p in PRESETS:
            self.fields[f"use_{p['key']}"] = forms.BooleanField(
                label=p["title"], required=False, initial=p["on"])
            if "epsilon" in p:
                self.fields[f"eps_{p['key']}"] = forms.FloatField(
                    label=_("ε"), min_value=0.01, max_value=10, initial=p["epsilon"],
                    required=False)

    def presets(self) -> list[dict[str, Any]]:
        """(preset, its checkbox, its ε field) for the template."""
        return [{"preset": p, "use": self[f"use_{p['key']}"],
                 "eps": self[f"eps_{p['key']}"] if "epsilon" in p else None}
                for p in PRESETS]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not any(data.get(f"use_{p['key']}") for p in PRESETS):
            raise forms.ValidationError(_("Choose at least one item to publish."))
        for p in PRESETS:
            if data.get(f"use_{p['key']}") and "epsilon" in p and not data.get(f"eps_{p['key']}"):
                self.add_error(f"eps_{p['key']}", _("Give the ε this item may spend."))
        if (data.get("year_start") or 0) > (data.get("year_end") or 0):
            self.add_error("year_end", _("The last year is before the first."))
        return data

    def spec(self) -> core.ReleaseSpec:
        d = self.cleaned_data
        items = []
        for p in PRESETS:
            if not d.get(f"use_{p['key']}"):
                continue
            items.append(core.ItemSpec(
                key=p["key"], kind=p["kind"], title=str(p["title"]),
                dimensions=tuple(p.get("dimensions", ())), columns=tuple(p.get("columns", ())),
                epsilon=float(d.get(f"eps_{p['key']}") or 0) if "epsilon" in p else 0.0,
                # the Gaussian mechanism states its loss as (ε, δ): a small δ per item
                delta=p.get("delta") or (GAUSSIAN_DELTA if "epsilon" in p
                                         and d["mechanism"] == "gaussian" else 0.0),
                mechanism=d["mechanism"], k=int(d["k"])))
        title = d.get("title") or (self.release.title if self.release else "")
        return core.ReleaseSpec(title=title, items=tuple(items),
                                years=(int(d["year_start"]), int(d["year_end"])),
                                description=d.get("description") or "")

    @staticmethod
    def initial_from(spec: dict[str, Any], release: Any) -> dict[str, Any]:
        s = core.ReleaseSpec.from_dict(spec)
        out: dict[str, Any] = {f"use_{p['key']}": False for p in PRESETS}
        for i in s.items:
            out[f"use_{i.key}"] = True
            if i.epsilon:
                out[f"eps_{i.key}"] = i.epsilon
            out["mechanism"] = i.mechanism
            if i.kind == "kanon":
                out["k"] = i.k
        if s.years:
            out["year_start"], out["year_end"] = s.years
        return out


def _data_years() -> tuple[int | None, int | None]:
    """The first and last registration year in the current data (the default period)."""
    try:
        from tiplab_web.insights import services as insights

        eng = insights.engine()
        t = eng.cases
        row = eng.to_arrow(t.aggregate(lo=t.registration_date.year().min(),
                                       hi=t.registration_date.year().max())).to_pylist()[0]
        return row["lo"], row["hi"]
    except Exception:  # no data yet: the analyst types the years
        return None, None


class NarrativeForm(forms.Form):
    published = forms.BooleanField(label=_("Publish on the public portal"), required=False)

    def __init__(self, *args: Any, brief: Any, **kwargs: Any) -> None:
        from . import briefs

        super().__init__(*args, **kwargs)
        self.brief = brief
        self.fields["published"].initial = brief.published
        for key, label in briefs.sections(brief.kind):
            self.fields[f"s_{key}"] = forms.CharField(
                label=label, required=False, initial=brief.narrative.get(key, ""),
                widget=forms.Textarea(attrs={"rows": 5}))

    def narrative(self) -> dict[str, str]:
        return {k[2:]: v.strip() for k, v in self.cleaned_data.items()
                if k.startswith("s_") and v and v.strip()}
