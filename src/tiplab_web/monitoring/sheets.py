"""The entry template of an agency's form, as CSV or XLSX, and reading it back.

One row per indicator the agency owes. The columns ``round``, ``period`` and ``organisation``
tie the file to its form: a template downloaded for another round (or another agency) is
refused, so last year's file cannot land in this year's round. Fill in ``value`` (and, where
the indicator is broken down by sex, ``female``/``male``/``other``) and ``comment``; leave a
value empty to clear it. Upload checks every row (round, period, organisation, known
indicator, then every validation rule) and saves all or nothing, as a draft.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from django.utils.text import slugify
from django.utils.translation import gettext as _

from .models import AgencyForm
from .services import Entry, MonitoringError, item_rows

COLUMNS = ("round", "period", "organisation", "measure", "indicator", "indicator_name", "unit",
           "value", "female", "male", "other", "comment")
REQUIRED = ("round", "period", "measure", "indicator", "value")
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000


def filename(form: AgencyForm, fmt: str) -> str:
    return (f"round-{form.round_id}-{form.round.period}-"
            f"{slugify(form.organisation.name) or 'agency'}.{fmt}")


def rows(form: AgencyForm) -> list[list[Any]]:
    out = []
    for r in item_rows(form):
        sex = r.value.sex if r.value is not None else {}
        out.append([form.round_id, form.round.period, form.organisation.name, r.item.measure_id,
                    r.item.indicator_id, r.item.name, r.item.unit, r.shown,
                    sex.get("female", ""), sex.get("male", ""), sex.get("other", ""),
                    r.value.comment if r.value is not None else ""])
    return out


def write_csv(form: AgencyForm) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    w.writerows(rows(form))
    return buf.getvalue()


def write_xlsx(form: AgencyForm) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "values"
    ws.append(list(COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows(form):
        ws.append([_number_or_text(v) for v in row])
    for col, width in zip("ABCDEFGHIJKL", (7, 9, 28, 9, 11, 44, 18, 12, 9, 9, 9, 40),
                          strict=True):
        ws.column_dimensions[col].width = width
    about = wb.create_sheet("about")
    for line in (_("Indicator values of %(org)s for %(p)s (round %(r)s).")
                 % {"org": form.organisation.name, "p": form.round.period, "r": form.round_id},
                 _("Fill in the column 'value' (and female/male/other where the indicator is "
                   "broken down by sex) and 'comment'. Do not change the columns round, "
                   "period, organisation, measure and indicator."),
                 _("Percentages: 0 to 100. Counts: whole numbers. Yes/no: 1 or 0.")):
        about.append([line])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _number_or_text(v: Any) -> Any:
    if isinstance(v, str) and re.fullmatch(r"-?\d+(\.\d+)?", v):
        return int(v) if "." not in v else float(v)
    return v


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _table(name: str, data: bytes) -> list[list[str]]:
    lower = name.lower()
    if lower.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as e:  # openpyxl raises many kinds on a damaged file
            raise MonitoringError(_("%(f)s is not a readable XLSX file.") % {"f": name}) from e
        ws = wb["values"] if "values" in wb.sheetnames else wb.worksheets[0]
        table = [[_cell(v) for v in row] for row in ws.iter_rows(values_only=True)]
        wb.close()
        return table
    if lower.endswith(".csv"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise MonitoringError(_("%(f)s is not UTF-8 text: save it as CSV (UTF-8).")
                                  % {"f": name}) from e
        first = text.split("\n", 1)[0]
        delimiter = ";" if first.count(";") > first.count(",") else ","
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text),
                                                               delimiter=delimiter)]
    raise MonitoringError(_("Upload the form's template as .csv or .xlsx (%(f)s is neither).")
                          % {"f": name})


def read(form: AgencyForm, name: str, data: bytes) -> list[Entry]:
    """The entries of an uploaded template, after checking that it is this form's: every
    problem of the file itself (round, period, organisation, unknown indicators, duplicate
    rows) is listed with its row number. The values are checked when saved."""
    if len(data) > MAX_BYTES:
        raise MonitoringError(_("%(f)s is larger than 2 MB; a form's template is far smaller.")
                              % {"f": name})
    table = [r for r in _table(name, data) if any(c for c in r)]
    if not table:
        raise MonitoringError(_("%(f)s is empty.") % {"f": name})
    header = [c.strip().lower() for c in table[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise MonitoringError(_("%(f)s lacks the column(s) %(cols)s: download the form's "
                                "template and fill it in.") % {"f": name,
                                                               "cols": ", ".join(missing)})
    if len(table) - 1 > MAX_ROWS:
        raise MonitoringError(_("%(f)s has more than %(n)d rows.") % {"f": name, "n": MAX_ROWS})
    col = {c: header.index(c) for c in COLUMNS if c in header}

    def get(row: list[str], c: str) -> str:
        i = col.get(c)
        return row[i] if i is not None and i < len(row) else ""

    rnd = form.round
    known = {(i.measure_id, i.indicator_id) for i in form.items.all()}
    problems: list[str] = []
    entries: list[Entry] = []
    seen: set[tuple[str, str]] = set()
    for n, row in enumerate(table[1:], start=2):
        where = _("Row %(n)d") % {"n": n}
        round_id = get(row, "round")
        if round_id != str(rnd.pk):
            problems.append(_("%(w)s: this template is for round %(got)s, not round %(r)s (%(p)s). "
                              "Download this round's template and enter the values there.")
                            % {"w": where, "got": round_id or "?", "r": rnd.pk,
                               "p": rnd.period})
            break
        if get(row, "period").upper() != rnd.period:
            problems.append(_("%(w)s: period %(got)s, but this round is for %(p)s.")
                            % {"w": where, "got": get(row, "period") or "?", "p": rnd.period})
            continue
        org = get(row, "organisation")
        if org and org.lower() != form.organisation.name.lower():
            problems.append(_("%(w)s: this row is %(got)s's, but the form is %(org)s's.")
                            % {"w": where, "got": org, "org": form.organisation.name})
            continue
        key = (get(row, "measure"), get(row, "indicator"))
        if key not in known:
            problems.append(_("%(w)s: indicator %(i)s of measure %(m)s is not on this form.")
                            % {"w": where, "i": key[1] or "?", "m": key[0] or "?"})
            continue
        if key in seen:
            problems.append(_("%(w)s: indicator %(i)s of measure %(m)s appears a second time.")
                            % {"w": where, "i": key[1], "m": key[0]})
            continue
        seen.add(key)
        sex = {s: get(row, s) for s in ("female", "male", "other") if get(row, s)}
        entries.append(Entry(key[0], key[1], get(row, "value"), get(row, "comment"), sex))
    if problems:
        raise MonitoringError(problems)
    if not entries:
        raise MonitoringError(_("%(f)s has no indicator rows.") % {"f": name})
    return entries


def upload(request: Any, form: AgencyForm, name: str, data: bytes, *, via: str = "upload"
           ) -> int:
    """Read a filled-in template and save its values as a draft (all or nothing)."""
    from . import services

    services._require_enter(services._user(request), form)
    entries = read(form, name, data)
    return services.save_values(request, form, entries, via=via)
