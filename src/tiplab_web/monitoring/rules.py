"""The validation rules of a reporting form, as plain functions over proposed values.

Rules (``docs/monitoring.md``, "Validation rules"):

1. **Type and range**, from the indicator's unit (its first part: ``"count; percent"`` is a
   count): percentages lie between 0 and 100; counts (persons, cases, inspections, places,
   pupils, count) are whole numbers, not negative; yes/no is 1 or 0 (``yes``/``no`` are read
   too); every other unit (days, months, currency, FTE, rates) is a number, not negative.
   At most 4 decimals.
2. **Breakdown by sex** (only where the library lists ``sex`` for the indicator): each part
   follows rule 1; for counts, the parts add up to no more than the total.
3. **Cross-field** (:data:`CROSS_RULES`, over library ids, within one agency's form for the
   period): e.g. persons convicted ≤ persons prosecuted.
4. **Change against the last approved value** of the same agency, measure and indicator (an
   earlier period of the same kind: a year against a year, a quarter against a quarter):
   a change of more than ±``threshold`` % (setting ``TIPLAB_MONITORING_CHANGE_PERCENT``,
   default 50) needs a comment. From 0, any change needs one.

Each message names the indicator (id, name, measure) and says what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

#: unit words read as whole counts
COUNT_UNITS = frozenset({"persons", "count", "cases", "inspections", "places", "pupils"})
KINDS = ("percent", "count", "yesno", "number")
SEXES = ("female", "male", "other")
SEX_LABELS = {"female": gettext_lazy("Female"), "male": gettext_lazy("Male"),
              "other": gettext_lazy("Other or unknown")}
MAX_VALUE = Decimal("1e15")


@dataclass(frozen=True)
class CrossRule:
    """``smaller`` may not exceed ``larger`` for the same agency and period."""

    smaller: str
    larger: str
    why: Any


#: Cross-field rules over library indicator ids.
CROSS_RULES: tuple[CrossRule, ...] = (
    CrossRule("PROS-04", "PROS-03",
              gettext_lazy("no more people can be convicted than were prosecuted")),
    CrossRule("PROT-02", "PROT-01",
              gettext_lazy("no more victims can be formally identified than were referred or "
                           "registered as presumed victims")),
    CrossRule("PROS-03", "PROS-02",
              gettext_lazy("no more people can be prosecuted than were suspected")),
)


def value_kind(unit: str) -> str:
    """``percent``, ``count``, ``yesno`` or ``number`` for an indicator's unit text."""
    first = (unit or "").split(";")[0].strip().lower()
    if first.startswith("percent"):
        return "percent"
    if first.startswith("yes/no"):
        return "yesno"
    if first in COUNT_UNITS:
        return "count"
    return "number"


@dataclass
class Proposed:
    """One item's value as entered (raw), before checking."""

    value: Any = None
    comment: str = ""
    sex: dict[str, Any] = field(default_factory=dict)


@dataclass
class Checked:
    value: Decimal | None
    comment: str
    sex: dict[str, str]


@dataclass(frozen=True)
class ItemInfo:
    """What the rules need to know about a form item."""

    key: str
    measure_id: str
    indicator_id: str
    name: str
    kind: str
    by_sex: bool


def label(item: ItemInfo) -> str:
    return _("%(id)s (%(name)s), measure %(m)s") % {"id": item.indicator_id,
                                                     "name": item.name, "m": item.measure_id}


def fmt(d: Decimal | None) -> str:
    """A value as people write it: no trailing zeros, no exponent."""
    if d is None:
        return ""
    text = format(d.normalize(), "f")
    return text


def parse(raw: Any, kind: str) -> tuple[Decimal | None, str]:
    """The number in ``raw`` (None when empty) and "" — or None and what is wrong."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, ""
    if isinstance(raw, bool):
        raw = int(raw)
    if kind == "yesno" and isinstance(raw, str) and raw.strip().lower() in ("yes", "no"):
        raw = "1" if raw.strip().lower() == "yes" else "0"
    try:
        d = Decimal(str(raw).strip()) if not isinstance(raw, float) else Decimal(repr(raw))
    except InvalidOperation:
        return None, _("“%(raw)s” is not a number") % {"raw": str(raw)[:40]}
    if not d.is_finite():
        return None, _("“%(raw)s” is not a number") % {"raw": str(raw)[:40]}
    if abs(d) >= MAX_VALUE:
        return None, _("%(v)s is too large") % {"v": str(raw)[:40]}
    if d.as_tuple().exponent < -4 and d != d.quantize(Decimal("0.0001")):  # type: ignore[operator]
        return None, _("%(v)s has more than 4 decimals") % {"v": str(raw)[:40]}
    d = d.quantize(Decimal("0.0001"))
    if kind == "percent":
        if d < 0 or d > 100:
            return None, _("%(v)s is not a percentage between 0 and 100") % {"v": fmt(d)}
    elif kind == "count":
        if d != d.to_integral_value() or d < 0:
            return None, _("%(v)s is not a count (a whole number, 0 or more)") % {"v": fmt(d)}
    elif kind == "yesno":
        if d not in (0, 1):
            return None, _("%(v)s is not yes (1) or no (0)") % {"v": fmt(d)}
    elif d < 0:
        return None, _("%(v)s is negative; this indicator cannot be") % {"v": fmt(d)}
    return d, ""


def check(items: list[ItemInfo], proposed: dict[str, Proposed],
          previous: dict[str, tuple[str, Decimal]], threshold: float
          ) -> tuple[dict[str, Checked], list[str]]:
    """Check the values of a whole form: ``proposed`` by item key (every item's value as it
    would be saved), ``previous`` the last approved value by item key (period, value).
    Returns the checked values and the problems (empty: every rule holds)."""
    problems: list[str] = []
    out: dict[str, Checked] = {}
    by_key = {i.key: i for i in items}
    for key, p in proposed.items():
        item = by_key[key]
        value, err = parse(p.value, item.kind)
        if err:
            problems.append(f"{label(item)}: {err}.")
            continue
        comment = (p.comment or "").replace("\x00", "").strip()
        if len(comment) > 2000:
            problems.append(_("%(item)s: the comment is %(n)d characters long; the limit is "
                              "2000.") % {"item": label(item), "n": len(comment)})
            continue
        sex: dict[str, str] = {}
        parts = {k: v for k, v in (p.sex or {}).items()
                 if v is not None and str(v).strip() != ""}
        if parts and not item.by_sex:
            problems.append(_("%(item)s: this indicator takes no breakdown by sex.")
                            % {"item": label(item)})
            continue
        unknown = sorted(set(parts) - set(SEXES))
        if unknown:
            problems.append(_("%(item)s: unknown breakdown %(k)s (use female, male, other).")
                            % {"item": label(item), "k": ", ".join(unknown)})
            continue
        if parts and value is None:
            problems.append(_("%(item)s: a breakdown by sex needs the total value too.")
                            % {"item": label(item)})
            continue
        bad = False
        total = Decimal(0)
        for s in SEXES:
            if s not in parts:
                continue
            d, err = parse(parts[s], item.kind)
            if err or d is None:
                problems.append(_("%(item)s, %(sex)s: %(err)s.")
                                % {"item": label(item), "sex": SEX_LABELS[s], "err": err})
                bad = True
                continue
            sex[s] = fmt(d)
            total += d
        if bad:
            continue
        if sex and item.kind == "count" and value is not None and total > value:
            problems.append(_("%(item)s: the breakdown by sex adds up to %(sum)s, more than the "
                              "total %(total)s.") % {"item": label(item), "sum": fmt(total),
                                                     "total": fmt(value)})
            continue
        prev = previous.get(key)
        if value is not None and prev is not None and not comment:
            before_period, before = prev
            if before == 0:
                changed = value != 0
                pct = None
            else:
                pct = float(abs(value - before) / abs(before) * 100)
                changed = pct > threshold
            if changed:
                problems.append(
                    _("%(item)s: %(v)s differs from the last approved value (%(b)s in "
                      "%(p)s) by more than %(t)s%%; explain the change in a comment.")
                    % {"item": label(item), "v": fmt(value), "b": fmt(before),
                       "p": before_period, "t": f"{threshold:g}"})
                continue
        out[key] = Checked(value, comment, sex)
    if not problems:
        problems += cross_problems(items, out)
    return out, problems


def cross_problems(items: list[ItemInfo], values: dict[str, Checked]) -> list[str]:
    by_indicator: dict[str, list[tuple[ItemInfo, Decimal]]] = {}
    for i in items:
        c = values.get(i.key)
        if c is not None and c.value is not None:
            by_indicator.setdefault(i.indicator_id, []).append((i, c.value))
    problems = []
    for rule in CROSS_RULES:
        for small, sv in by_indicator.get(rule.smaller, []):
            for large, lv in by_indicator.get(rule.larger, []):
                if sv > lv:
                    problems.append(
                        _("%(a)s is %(av)s, more than %(b)s, %(bv)s: %(why)s.")
                        % {"a": label(small), "av": fmt(sv), "b": label(large), "bv": fmt(lv),
                           "why": rule.why})
    return problems
