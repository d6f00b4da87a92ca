"""Forms of the plans pages. A measure is edited as one form plus two small tables (budget
lines, indicators); what they produce is checked again, whole, by ``tiplab.policy.plan``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tiplab.policy import plan as core
from tiplab.policy.indicators import library
from tiplab_web.assessment.forms import UploadForm

__all__ = ["AgreementForm", "BudgetLineForm", "IndicatorForm", "MeasureForm", "NewPlanForm",
           "ObjectiveForm", "SpendForm", "UploadForm", "budget_formset", "indicator_formset"]


def _lines(text: str) -> list[str]:
    return [x.strip() for x in (text or "").splitlines() if x.strip()]


def _commas(text: str) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


class NewPlanForm(forms.Form):
    ident = forms.SlugField(label=_("Short id"), max_length=80,
                            help_text=_("Letters, digits and dashes, e.g. nap-2025."))
    title = forms.CharField(label=_("Title"), max_length=300)
    country = forms.CharField(label=_("Country or region"), max_length=200)
    start_year = forms.IntegerField(label=_("First year"), min_value=1990, max_value=2100)
    end_year = forms.IntegerField(label=_("Last year"), min_value=1990, max_value=2100)
    currency = forms.CharField(label=_("Currency (ISO code)"), max_length=3, initial="EUR")
    pillars = forms.ChoiceField(label=_("Pillars"), initial="4p", choices=[
        ("4p", _("Prevention, protection, prosecution, partnership (4P)")),
        ("3p", _("Prevention, protection, prosecution (3P)")),
        ("custom", _("My own (below)"))])
    custom_pillars = forms.CharField(label=_("Your pillars, separated by commas"),
                                     required=False, max_length=500)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("start_year") and data.get("end_year") \
                and data["end_year"] < data["start_year"]:
            raise forms.ValidationError(_("The last year is before the first year."))
        if data.get("pillars") == "custom" and not _commas(data.get("custom_pillars", "")):
            self.add_error("custom_pillars", _("Name your pillars."))
        if data.get("currency") and not core.valid_currency(data["currency"]):
            self.add_error("currency", _("Not an ISO 4217 currency code (e.g. EUR, USD)."))
        return data


class ObjectiveForm(forms.Form):
    ident = forms.CharField(label=_("Id"), max_length=80)
    pillar = forms.ChoiceField(label=_("Pillar"))
    title = forms.CharField(label=_("Objective"), max_length=300)

    def __init__(self, *args: Any, plan: core.Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pillar"].choices = [(p.id, p.title) for p in plan.pillars]


class MeasureForm(forms.Form):
    objective = forms.ChoiceField(label=_("Objective"))
    ident = forms.CharField(label=_("Id"), max_length=80)
    title = forms.CharField(label=_("Measure"), max_length=300)
    type = forms.ChoiceField(label=_("Type"), choices=list(core.MEASURE_TYPES.items()))
    status = forms.ChoiceField(label=_("Status"), choices=list(core.MEASURE_STATUSES.items()))
    description = forms.CharField(label=_("Description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    lead = forms.CharField(label=_("Lead organisation"), required=False, max_length=200)
    partners = forms.CharField(label=_("Partners (separated by commas)"), required=False)
    target_groups = forms.CharField(label=_("Target groups (separated by commas)"),
                                    required=False)
    regions = forms.CharField(label=_("Regions (codes, separated by commas)"), required=False)
    start = forms.DateField(label=_("Start date"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("End date"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}))
    milestones = forms.CharField(
        label=_("Milestones"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: date, then what; add [done] when reached, e.g. "
                    "2026-06-30 Curriculum approved [done]"))
    risks = forms.CharField(label=_("Risks (one per line)"), required=False,
                            widget=forms.Textarea(attrs={"rows": 2}))
    assumptions = forms.CharField(label=_("Assumptions (one per line)"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, plan: core.Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plan = plan
        self.fields["objective"].choices = [
            (o.id, f"{plan.pillar_title(o.pillar)} · {o.id} {o.title}") for o in plan.objectives]

    def clean_milestones(self) -> list[core.Milestone]:
        out = []
        for n, line in enumerate(_lines(self.cleaned_data.get("milestones", "")), 1):
            done = line.endswith("[done]")
            line = line.removesuffix("[done]").strip()
            day, _sep, what = line.partition(" ")
            try:
                date = dt.date.fromisoformat(day)
            except ValueError:
                raise forms.ValidationError(
                    _("Line %(n)s: start with a date (YYYY-MM-DD), then what.") % {"n": n}
                ) from None
            if not what.strip():
                raise forms.ValidationError(_("Line %(n)s: say what the milestone is.")
                                            % {"n": n})
            out.append(core.Milestone(date, what.strip(), done))
        return out

    @staticmethod
    def initial_for(objective: core.Objective, m: core.Measure) -> dict[str, Any]:
        return {
            "objective": objective.id, "ident": m.id, "title": m.title, "type": m.type,
            "status": m.status, "description": m.description, "lead": m.lead,
            "partners": ", ".join(m.partners), "target_groups": ", ".join(m.target_groups),
            "regions": ", ".join(m.regions), "start": m.start, "end": m.end,
            "milestones": "\n".join(f"{x.date.isoformat()} {x.title}"
                                    + (" [done]" if x.done else "") for x in m.milestones),
            "risks": "\n".join(m.risks), "assumptions": "\n".join(m.assumptions)}

    def measure(self, budget: list[core.BudgetLine], indicators: list[core.MeasureIndicator],
                keep: core.Measure | None) -> core.Measure:
        cd = self.cleaned_data
        return core.Measure(
            id=cd["ident"].strip(), title=cd["title"].strip(), type=cd["type"],
            description=cd.get("description", "").strip(), lead=cd.get("lead", "").strip(),
            partners=_commas(cd.get("partners", "")),
            target_groups=_commas(cd.get("target_groups", "")),
            regions=_commas(cd.get("regions", "")), start=cd.get("start"), end=cd.get("end"),
            milestones=cd.get("milestones") or [], budget=budget, indicators=indicators,
            risks=_lines(cd.get("risks", "")), assumptions=_lines(cd.get("assumptions", "")),
            status=cd["status"], evidence=list(keep.evidence) if keep else [],
            agreements=list(keep.agreements) if keep else [])


class BudgetLineForm(forms.Form):
    year = forms.TypedChoiceField(label=_("Year"), coerce=int, required=False,
                                  empty_value=None)
    source = forms.ChoiceField(label=_("Funding source"),
                               choices=list(core.FUNDING_SOURCES.items()), required=False)
    amount = forms.DecimalField(label=_("Amount"), min_value=0, required=False,
                                decimal_places=2, max_digits=16)

    def __init__(self, *args: Any, years: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", "–"), *[(y, str(y)) for y in years]]


class IndicatorForm(forms.Form):
    indicator = forms.ChoiceField(label=_("Indicator"), required=False)
    baseline = forms.DecimalField(label=_("Baseline"), required=False, max_digits=16,
                                  decimal_places=4)
    baseline_year = forms.IntegerField(label=_("Baseline year"), required=False,
                                       min_value=1990, max_value=2100)

    def __init__(self, *args: Any, years: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lib = library()
        self.fields["indicator"].choices = [("", "–")] + [
            (i.id, f"{i.id} {i.name}") for i in lib.indicators.values()]
        self.years = years
        for y in years:
            self.fields[f"target_{y}"] = forms.DecimalField(
                label=_("Target %(y)s") % {"y": y}, required=False, max_digits=16,
                decimal_places=4)

    def value(self) -> core.MeasureIndicator | None:
        cd = self.cleaned_data
        if not cd.get("indicator"):
            return None
        targets = {y: float(cd[f"target_{y}"]) for y in self.years
                   if cd.get(f"target_{y}") is not None}
        return core.MeasureIndicator(
            cd["indicator"], None if cd.get("baseline") is None else float(cd["baseline"]),
            cd.get("baseline_year"), targets)


def budget_formset(plan: core.Plan, data: Any = None, lines: list[core.BudgetLine] = ()
                   ) -> Any:
    factory = forms.formset_factory(BudgetLineForm, extra=3)
    initial = [{"year": b.year, "source": b.source, "amount": b.amount} for b in lines]
    return factory(data, initial=initial, prefix="budget",
                   form_kwargs={"years": plan.years})


def indicator_formset(plan: core.Plan, data: Any = None,
                      items: list[core.MeasureIndicator] = ()) -> Any:
    factory = forms.formset_factory(IndicatorForm, extra=2)
    initial = [{"indicator": mi.indicator, "baseline": mi.baseline,
                "baseline_year": mi.baseline_year,
                **{f"target_{y}": v for y, v in mi.targets.items()}}
               for mi in items if mi.custom is None]
    return factory(data, initial=initial, prefix="indicators",
                   form_kwargs={"years": plan.years})


class AgreementForm(forms.Form):
    ident = forms.SlugField(label=_("Id"), max_length=80)
    title = forms.CharField(label=_("Title"), max_length=300)
    kind = forms.ChoiceField(label=_("Kind"), choices=list(core.AGREEMENT_KINDS.items()))
    partners = forms.CharField(label=_("Partners (separated by commas)"))
    scope = forms.MultipleChoiceField(label=_("Scope"),
                                      choices=list(core.AGREEMENT_SCOPES.items()),
                                      widget=forms.CheckboxSelectMultiple)
    status = forms.ChoiceField(label=_("Status"), choices=list(core.AGREEMENT_STATUSES.items()))
    signed = forms.DateField(label=_("Signed"), required=False,
                             widget=forms.DateInput(attrs={"type": "date"}))
    gap_items = forms.CharField(label=_("Legal gap items it answers (instrument:item, "
                                        "separated by commas)"), required=False)

    def agreement(self) -> core.Agreement:
        cd = self.cleaned_data
        return core.Agreement(cd["ident"], cd["title"], cd["kind"], _commas(cd["partners"]),
                              list(cd["scope"]), cd["status"], cd.get("signed"),
                              _commas(cd.get("gap_items", "")))


class SpendForm(forms.Form):
    line = forms.ChoiceField(label=_("Budget line"))
    period = forms.RegexField(label=_("Period"), regex=r"^\d{4}(-Q[1-4]|-\d{2})?$",
                              help_text=_("A year (2026), a quarter (2026-Q2) or a month "
                                          "(2026-05)."))
    committed = forms.DecimalField(label=_("Committed"), min_value=0, max_digits=16,
                                   decimal_places=2)
    disbursed = forms.DecimalField(label=_("Disbursed"), min_value=0, max_digits=16,
                                   decimal_places=2)

    def __init__(self, *args: Any, plan: core.Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["line"].choices = [
            (f"{m.id}|{b.key}", f"{m.id} · {b.year} · {core.FUNDING_SOURCES[b.source]}")
            for _o, m in plan.measures() for b in m.budget]
