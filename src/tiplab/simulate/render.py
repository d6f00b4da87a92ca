"""Render one agency's records as its export columns, with identifier noise and defects.

Noise is realistic variation the importer must accept (spelling variants, typos, swapped name
order, day/month swaps that still form a date, missing values, changed phone numbers).
Defects are errors it must reject; each defect row gets exactly one defect, named by the
importer's reason code, and is listed in ``truth/defects.csv``.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pycountry

from tiplab.records.countries import UNKNOWN_COUNTRY_VALUES, normalise, resolve_country
from tiplab.simulate import dates as D
from tiplab.simulate.agencies import ExportSpec
from tiplab.simulate.country import Country
from tiplab.simulate.names import NameTable, choose_slots
from tiplab.simulate.population import Population, new_phones
from tiplab.simulate.settings import NoiseSettings

FUTURE_YEAR = 2091  # far enough ahead to stay a future date for decades


@dataclass
class Rendered:
    """One agency's export as text columns, and what the truth files need to know."""

    spec: ExportSpec
    table: pa.Table  # export columns (strings; flags int8 for NDJSON)
    record_id: pa.Array
    victim: np.ndarray
    registered: np.ndarray
    duplicate_intake: np.ndarray
    referred: np.ndarray
    defect_rows: np.ndarray  # 0-based row indices
    defect_codes: list[str]
    defect_columns: list[str]


def recorded_as(
    rng: np.random.Generator, truth: np.ndarray, rate: float, weights: np.ndarray
) -> np.ndarray:
    """The category each record carries: the true one, or with probability ``rate`` another
    level drawn in proportion to ``weights`` (the population's shares), as when two agencies
    classify the same case differently. ``rng`` is the case-characteristics stream alone, so
    the rate changes no other field of the export."""
    out = truth.copy()
    hit = np.flatnonzero(rng.random(len(truth)) < rate)
    w = np.asarray(weights, dtype=float)
    for t in np.unique(truth[hit]):
        idx = hit[truth[hit] == t]
        p = w.copy()
        p[t] = 0.0
        if p.sum() <= 0:
            continue
        out[idx] = rng.choice(len(p), size=len(idx), p=p / p.sum())
    return out


@lru_cache(maxsize=8)
def _translator(lang: str) -> gettext.NullTranslations:
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])


def country_label(alpha3: str, style: str, country: Country) -> str:
    """How an agency writes a country; checked to resolve back to ``alpha3``."""
    if alpha3 == country.code:
        return {
            "en": country.name,
            "fr": country.name.removesuffix("a") + "e",
            "de": country.name.removesuffix("a") + "en",
            "alpha2": country.code[:2],
            "alpha3": country.code,
        }[style]
    c = pycountry.countries.get(alpha_3=alpha3)
    if c is None:
        return alpha3
    if style == "alpha2":
        label = str(c.alpha_2)
    elif style == "alpha3":
        label = alpha3
    elif style == "en":
        label = str(getattr(c, "common_name", None) or c.name)
    else:
        label = _translator(style).gettext(c.name)
    return label if resolve_country(label) == alpha3 else alpha3


def domestic_labels(country: Country) -> list[str]:
    """Every spelling of the fictional country an export may hold (for the profiles)."""
    return sorted(
        {country_label(country.code, s, country) for s in ("en", "fr", "de", "alpha2", "alpha3")}
    )


def _take(
    labels: list[str] | np.ndarray, codes: np.ndarray, null: np.ndarray | None = None
) -> pa.Array:
    arr = pa.array(np.asarray(codes, dtype=np.int64), mask=null)
    return pc.take(pa.array(list(labels), pa.string()), arr)


def _blank(values: pa.Array, mask: np.ndarray) -> pa.Array:
    if not mask.any():
        return values
    return pc.if_else(pa.array(mask), pa.nulls(len(values), values.type), values)


def _set(values: pa.Array, mask: np.ndarray, new: pa.Array | str) -> pa.Array:
    """Replace ``values`` where ``mask`` with ``new`` (an array aligned to all rows, or text)."""
    if not mask.any():
        return values
    repl = pa.array([new] * len(values), pa.string()) if isinstance(new, str) else new
    return pc.if_else(pa.array(mask), repl, values)


def _list_join(matrix: np.ndarray, labels: list[str], sep: str) -> pa.Array:
    _, cols = np.nonzero(matrix)
    offsets = np.concatenate([[0], np.cumsum(matrix.sum(axis=1))]).astype(np.int32)
    values = pc.take(pa.array(labels, pa.string()), pa.array(cols.astype(np.int64)))
    joined = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), values), sep)
    return pc.if_else(pc.equal(joined, ""), pa.nulls(len(joined), pa.string()), joined)


def _map_list(lists: pa.Array, mapping: dict[str, str], sep: str) -> pa.Array:
    flat = pc.list_flatten(lists)
    keys = pa.array(list(mapping), pa.string())
    mapped = pc.take(pa.array(list(mapping.values()), pa.string()), pc.index_in(flat, keys))
    rebuilt = pa.ListArray.from_arrays(lists.offsets, mapped)
    joined = pc.binary_join(rebuilt, sep)
    return pc.if_else(pc.equal(joined, ""), pa.nulls(len(joined), pa.string()), joined)


class Renderer:
    """Renders exports for one run (shared name tables, population and country)."""

    def __init__(
        self,
        pop: Population,
        country: Country,
        given: NameTable,
        family: NameTable,
        noise: NoiseSettings,
        defect_rate: float,
        defect_codes: tuple[str, ...],
    ) -> None:
        self.pop = pop
        self.country = country
        self.given = given
        self.family = family
        self.noise = noise
        self.defect_rate = defect_rate
        self.defect_codes = defect_codes
        self.form_weights = np.bincount(pop.form, minlength=len(pop.form_levels))
        self.recruiter_weights = np.bincount(
            pop.recruiter, minlength=len(pop.recruiter_levels)
        )

    # -- helpers ------------------------------------------------------------------------

    def _record_ids(self, spec: ExportSpec, registered: np.ndarray) -> pa.Array:
        years = D.split(registered)[0]
        n = len(registered)
        if "{year}" in spec.record_id:
            starts = np.searchsorted(years, years, side="left")  # rows are in date order
            seq = np.arange(n) - starts + 1
        else:
            seq = np.arange(1, n + 1)
        prefix, _, rest = spec.record_id.partition("{")
        parts: list[pa.Array | str] = [prefix]
        template = "{" + rest
        # Supported templates: literal text around {year} and {seq:0Nd}.
        for token in template.replace("}", "}\x00").split("\x00"):
            if not token:
                continue
            lit, _, name = token.partition("{")
            if lit:
                parts.append(lit)
            if name.startswith("year"):
                parts.append(pc.cast(pa.array(years), pa.string()))
            elif name.startswith("seq"):
                width = int(name.split(":")[1].rstrip("d}").lstrip("0") or 1)
                parts.append(pc.utf8_lpad(pc.cast(pa.array(seq), pa.string()), width, "0"))
        return pc.binary_join_element_wise(*parts, "")

    def _phone(self, rng: np.random.Generator, victims: np.ndarray, style: str) -> pa.Array:
        n = len(victims)
        phone = pc.take(self.pop.phone, pa.array(victims))
        changed = rng.random(n) < self.noise.phone_changed
        phone = _set(phone, changed, new_phones(rng, n))
        if style == "intl00":
            phone = pc.replace_substring_regex(phone, r"^\+", "00")
        elif style == "spaced":
            phone = pc.binary_join_element_wise(
                pc.utf8_slice_codeunits(phone, 0, 4),
                pc.utf8_slice_codeunits(phone, 4, 8),
                pc.utf8_slice_codeunits(phone, 8, 100),
                " ",
            )
        return _blank(phone, rng.random(n) < self.noise.phone_missing)

    def _extra(self, rng: np.random.Generator, n: int, kind: str) -> pa.Array:
        pools = {
            "officer": [f"PC {i:04d}" for i in rng.choice(9999, 40, replace=False)],
            "workplace": [
                "Farm",
                "Building site",
                "Restaurant",
                "Factory",
                "Car wash",
                "Nail bar",
                "Warehouse",
                "Private household",
                "Hotel",
                "Fishing boat",
            ],
            "shelter": [
                f"Foyer {n}"
                for n in (
                    "Horizon",
                    "L'Escale",
                    "Marianne",
                    "Le Phare",
                    "Saint-Exupéry",
                    "Les Tilleuls",
                )
            ],
            "handler": [f"op{i:02d}" for i in range(1, 25)],
            "clerk": ["Müller", "Schmidt", "Weiß", "Schäfer", "Krüger", "Jäger", "Groß"],
            "ward": ["A&E", "Maternity", "Ward 3", "Ward 7", "Outpatients", "Paediatrics"],
        }[kind]
        return _take(pools, rng.integers(0, len(pools), n))

    # -- the export ---------------------------------------------------------------------

    def render(
        self,
        spec: ExportSpec,
        victims: np.ndarray,
        registered: np.ndarray,
        duplicate: np.ndarray,
        referred: np.ndarray,
        rng: np.random.Generator,
        case_rng: np.random.Generator | None = None,
    ) -> Rendered:
        """One agency's export. ``case_rng`` draws the recording disagreement on case
        characteristics (``noise.form_recoded``, ``noise.recruiter_recoded``,
        ``noise.means_recorded``, ``noise.means_spurious``); without it every record carries
        the victim's true form, recruiter relationship and means of control."""
        pop, noise, n = self.pop, self.noise, len(victims)
        form = pop.form[victims]
        recruiter = pop.recruiter[victims]
        means = pop.means[victims]
        if case_rng is not None:
            form = recorded_as(case_rng, form, noise.form_recoded, self.form_weights)
            recruiter = recorded_as(
                case_rng, recruiter, noise.recruiter_recoded, self.recruiter_weights
            )
            kept = case_rng.random(means.shape) < noise.means_recorded
            added = case_rng.random(means.shape) < noise.means_spurious
            means = np.where(means, kept, added)
        cols: dict[str, pa.Array] = {}
        miss = {f: rng.random(n) < rate for f, rate in spec.missing.items()}
        record_id = self._record_ids(spec, registered)
        reg_y, reg_m, reg_d = D.split(registered)
        reg_text = D.format_parts(reg_y, reg_m, reg_d, spec.date_format)
        # Names (spelling variants per record, then optional name-order swap).
        latin1 = not spec.unicode_names
        g = self.given.render(
            pop.given[victims], choose_slots(rng, n, noise, spec.unicode_names, True), latin1
        )
        f = self.family.render(
            pop.family[victims], choose_slots(rng, n, noise, spec.unicode_names, False), latin1
        )
        swap = rng.random(n) < noise.name_order_swap
        g, f = _set(g, swap, f), _set(f, swap, g)
        # Birth date: missing, or day and month exchanged when both are <= 12.
        birth = pop.birth[victims]
        by, bm, bd = D.split(birth)
        swap_dm = (rng.random(n) < noise.day_month_swap) & (bd <= 12) & (bd != bm)
        by2, bm2, bd2 = by, np.where(swap_dm, bd, bm), np.where(swap_dm, bm, bd)
        birth_missing = miss.get("birth_date", np.zeros(n, dtype=bool))
        age = D.whole_years(birth, registered)
        age_missing = miss.get("age", np.zeros(n, dtype=bool))
        age_text = _blank(pc.cast(pa.array(age), pa.string()), age_missing)
        birth_text = _blank(D.format_parts(by2, bm2, bd2, spec.birth_date_format), birth_missing)
        majority_minor = age < 18
        sex_codes = [spec.sex.get(s, "") for s in pop.sex_levels]
        form_labels = [spec.forms.get(fm, fm) for fm in pop.form_levels]

        defects = self._choose_defects(spec, rng, n)
        rows_by_code = {
            code: np.flatnonzero(defects == i) for i, code in enumerate(self.defect_codes)
        }
        defect_rows: list[np.ndarray] = []
        defect_code_list: list[str] = []
        defect_cols: list[str] = []

        def note(rows: np.ndarray, code: str, column: str) -> None:
            defect_rows.append(rows)
            defect_code_list.extend([code] * len(rows))
            defect_cols.extend([column] * len(rows))

        def mask(rows: np.ndarray) -> np.ndarray:
            m = np.zeros(n, dtype=bool)
            m[rows] = True
            return m

        # -- defects that change the registration date, age, birth date ---------------
        rc = spec.column_for("registration_date")
        assert rc is not None
        rows = rows_by_code.get("E_DATE_INVALID", np.empty(0, np.int64))
        on_birth = (
            rows[(rng.random(len(rows)) < 0.5) & spec.has("birth_date") & ~birth_missing[rows]]
            if len(rows)
            else rows
        )
        on_reg = np.setdiff1d(rows, on_birth)
        invalid_day = np.where(reg_y % 2 == 0, 30, 31)
        reg_text = _set(
            reg_text,
            mask(on_reg),
            D.format_parts(reg_y, np.full(n, 2), invalid_day, spec.date_format),
        )
        note(on_reg, "E_DATE_INVALID", rc.name)
        if len(on_birth):
            bc = spec.column_for("birth_date")
            assert bc is not None
            birth_text = _set(
                birth_text,
                mask(on_birth),
                D.format_parts(by, np.full(n, 2), invalid_day, spec.birth_date_format),
            )
            note(on_birth, "E_DATE_INVALID", bc.name)
        rows = rows_by_code.get("E_DATE_FUTURE", np.empty(0, np.int64))
        fy, fm_, fd = D.split(D.build(FUTURE_YEAR + reg_y % 7, reg_m, reg_d))
        reg_text = _set(reg_text, mask(rows), D.format_parts(fy, fm_, fd, spec.date_format))
        note(rows, "E_DATE_FUTURE", rc.name)
        rows = rows_by_code.get("E_MISSING_REQUIRED", np.empty(0, np.int64))
        reg_text = _blank(reg_text, mask(rows))
        note(rows, "E_MISSING_REQUIRED", rc.name)
        ac = spec.column_for("age")
        rows = rows_by_code.get("E_AGE_RANGE", np.empty(0, np.int64))
        if ac is not None and len(rows):
            age_text = _set(
                age_text,
                mask(rows),
                pc.cast(pa.array(np.where(majority_minor, -2, 142)), pa.string()),
            )
            note(rows, "E_AGE_RANGE", ac.name)
        rows = rows_by_code.get("E_INTEGER_INVALID", np.empty(0, np.int64))
        if ac is not None and len(rows):
            word = {"ngo_shelters": "environ ", "immigration": "ca. "}.get(spec.agency, "about ")
            age_text = _set(
                age_text,
                mask(rows),
                pc.binary_join_element_wise(word, pc.cast(pa.array(age), pa.string()), ""),
            )
            note(rows, "E_INTEGER_INVALID", ac.name)

        for col in spec.columns:
            fld = col.field
            if fld == "record_id":
                cols[col.name] = record_id
            elif fld == "registration_date":
                cols[col.name] = reg_text
            elif fld == "given_name":
                cols[col.name] = g
            elif fld == "family_name":
                cols[col.name] = f
            elif fld == "full_name":
                if col.style == "family_comma":
                    cols[col.name] = pc.binary_join_element_wise(pc.utf8_upper(f), g, ", ")
                else:
                    cols[col.name] = pc.binary_join_element_wise(g, f, " ")
            elif fld == "birth_date":
                cols[col.name] = birth_text
            elif fld == "age":
                cols[col.name] = age_text
            elif fld == "majority_status":
                cols[col.name] = _take(
                    [spec.majority["Adult"], spec.majority["Minor"]],
                    majority_minor.astype(np.int64),
                )
            elif fld == "sex":
                cols[col.name] = _blank(
                    _take(sex_codes, pop.sex[victims]), miss.get("sex", np.zeros(n, dtype=bool))
                )
            elif fld in ("citizenship", "origin_country"):
                labels = [country_label(c, col.style, self.country) for c in pop.citizenship_levels]
                values = _take(labels, pop.citizenship[victims])
                if fld == "citizenship":
                    values = _blank(values, miss.get("citizenship", np.zeros(n, dtype=bool)))
                cols[col.name] = values
            elif fld == "transit_countries":
                lists = pc.take(pop.transit, pa.array(victims))
                codes = sorted({str(v) for v in pc.unique(pc.list_flatten(lists)).to_pylist()})
                mapping = {c: country_label(c, col.style, self.country) for c in codes}
                cols[col.name] = _map_list(lists, mapping, spec.split)
            elif fld == "region":
                labels = self.country.codes if col.style == "code" else self.country.names
                cols[col.name] = _take(labels, pop.region[victims])
            elif fld == "exploitation_forms":
                cols[col.name] = _blank(
                    _take(form_labels, form),
                    miss.get("exploitation_forms", np.zeros(n, dtype=bool)),
                )
            elif fld == "labour_sectors":
                sec = pop.sector[victims]
                labels = [spec.sectors.get(s, s) for s in pop.sector_levels]
                cols[col.name] = _take(labels, np.maximum(sec, 0), sec < 0)
            elif fld == "means_of_control":
                labels = [spec.means.get(m, m) for m in pop.means_levels]
                cols[col.name] = _blank(
                    _list_join(
                        means, labels, spec.split + (" " if spec.split == "," else "")
                    ),
                    miss.get("means_of_control", np.zeros(n, dtype=bool)),
                )
            elif fld == "means_of_control_flags":
                m = means
                m_missing = miss.get("means_of_control", np.zeros(n, dtype=bool))
                for j, code in enumerate(pop.means_levels):
                    if code in spec.means:
                        cols[spec.means[code]] = pa.array(m[:, j].astype(np.int8), mask=m_missing)
            elif fld == "recruiter_relation":
                cols[col.name] = _blank(
                    _take(
                        [spec.recruiter[r] for r in pop.recruiter_levels], recruiter
                    ),
                    miss.get("recruiter_relation", np.zeros(n, dtype=bool)),
                )
            elif fld == "phone":
                cols[col.name] = self._phone(rng, victims, col.style)
            elif fld == "document_number":
                cols[col.name] = _blank(
                    pc.take(pop.document, pa.array(victims)), rng.random(n) < noise.document_missing
                )
            elif fld == "extra":
                cols[col.name] = self._extra(rng, n, col.style)

        # -- defects on codes, countries, majority, flags, record ids ------------------
        rows = rows_by_code.get("E_CODE_UNKNOWN", np.empty(0, np.int64))
        if len(rows):
            targets = [
                c for c in spec.columns if c.field in ("sex", "exploitation_forms", "region")
            ]
            pick = rng.integers(0, len(targets), len(rows))
            for t, col in enumerate(targets):
                sub = rows[pick == t]
                cols[col.name] = _set(cols[col.name], mask(sub), unknown_value(spec, col))
                note(sub, "E_CODE_UNKNOWN", col.name)
        rows = rows_by_code.get("E_COUNTRY_UNKNOWN", np.empty(0, np.int64))
        cc = spec.column_for("citizenship")
        if cc is not None and len(rows):
            cols[cc.name] = _set(cols[cc.name], mask(rows), "Atlantis")
            note(rows, "E_COUNTRY_UNKNOWN", cc.name)
        rows = rows_by_code.get("E_AGE_CONTRADICTION", np.empty(0, np.int64))
        mc = spec.column_for("majority_status")
        if mc is not None and len(rows):
            flipped = _take(
                [spec.majority["Minor"], spec.majority["Adult"]], majority_minor.astype(np.int64)
            )
            cols[mc.name] = _set(cols[mc.name], mask(rows), flipped)
            note(rows, "E_AGE_CONTRADICTION", mc.name)
        rows = rows_by_code.get("E_FLAG_INVALID", np.empty(0, np.int64))
        if spec.has("means_of_control_flags") and len(rows):
            flag_cols = [spec.means[c] for c in pop.means_levels if c in spec.means]
            pick = rng.integers(0, len(flag_cols), len(rows))
            for t, name in enumerate(flag_cols):
                sub = rows[pick == t]
                if len(sub):
                    cols[name] = pc.if_else(
                        pa.array(mask(sub)), pa.array(np.full(n, 2, np.int8)), cols[name]
                    )
                    note(sub, "E_FLAG_INVALID", name)
        rows = rows_by_code.get("E_DUPLICATE_RECORD_ID", np.empty(0, np.int64))
        if len(rows):
            idcol = spec.columns[0].name
            prev = rows - 1
            ids = cols[idcol]
            cols[idcol] = pc.take(
                ids, pa.array(np.where(mask(rows), np.arange(n) - 1, np.arange(n)))
            )
            note(rows, "E_DUPLICATE_RECORD_ID", idcol)
            note(prev, "E_DUPLICATE_RECORD_ID", idcol)
            record_id = cols[idcol]

        all_rows = np.concatenate(defect_rows) if defect_rows else np.empty(0, np.int64)
        return Rendered(
            spec=spec,
            table=pa.table(cols),
            record_id=record_id,
            victim=victims,
            registered=registered,
            duplicate_intake=duplicate,
            referred=referred,
            defect_rows=all_rows,
            defect_codes=defect_code_list,
            defect_columns=defect_cols,
        )

    def _choose_defects(self, spec: ExportSpec, rng: np.random.Generator, n: int) -> np.ndarray:
        """Index into ``defect_codes`` per row, -1 for clean rows."""
        applicable = np.array([applies(spec, code) for code in self.defect_codes])
        out = np.full(n, -1, dtype=np.int64)
        if not applicable.any() or n == 0:
            return out
        hit = rng.random(n) < self.defect_rate
        choices = np.flatnonzero(applicable)
        out[hit] = choices[rng.integers(0, len(choices), int(hit.sum()))]
        # A duplicated id copies the previous row's id: that row must be clean, and the
        # first row has no previous row.
        dup = (
            self.defect_codes.index("E_DUPLICATE_RECORD_ID")
            if "E_DUPLICATE_RECORD_ID" in self.defect_codes
            else -2
        )
        is_dup = out == dup
        prev_dirty = np.concatenate([[True], out[:-1] >= 0])
        out[is_dup & prev_dirty] = -1
        return out


def applies(spec: ExportSpec, code: str) -> bool:
    """Whether an agency's format can carry a defect (it needs the field)."""
    if code in ("E_DATE_INVALID", "E_DATE_FUTURE", "E_MISSING_REQUIRED", "E_DUPLICATE_RECORD_ID"):
        return True
    if code == "E_CODE_UNKNOWN":
        return any(spec.has(f) for f in ("sex", "exploitation_forms", "region"))
    if code == "E_COUNTRY_UNKNOWN":
        return spec.has("citizenship")
    if code == "E_AGE_RANGE":
        return spec.has("age")
    if code == "E_INTEGER_INVALID":
        # With a majority-status column an unreadable age would let the (noisy) birth date
        # decide the age, which could add a second, unplanned reason.
        return spec.has("age") and not spec.has("majority_status")
    if code == "E_AGE_CONTRADICTION":
        return spec.has("majority_status") and spec.has("age")
    if code == "E_FLAG_INVALID":
        return spec.has("means_of_control_flags")
    return False


def unknown_value(spec: ExportSpec, col: object) -> str:
    """A value the agency's profile does not know for that column (checked, not assumed)."""
    from tiplab.records.codes import EXPLOITATION_FORMS, GENDER

    fld = getattr(col, "field", "")
    style = getattr(col, "style", "")
    if fld == "sex":
        known = {normalise(v) for v in (*spec.sex.values(), *GENDER, *GENDER.values())}
        candidates = ["U", "N/K", "unk", "?"]
    elif fld == "exploitation_forms":
        known = {
            normalise(v)
            for v in (*spec.forms.values(), *EXPLOITATION_FORMS, *EXPLOITATION_FORMS.values())
        }
        candidates = ["Trafficking (type not recorded)", "TBC"]
    else:
        known = set()
        candidates = ["XT-99"] if style == "code" else ["Outer District"]
    for c in candidates:
        if normalise(c) not in known and normalise(c) not in UNKNOWN_COUNTRY_VALUES:
            return c
    raise AssertionError(f"no unknown value for {fld}")  # pragma: no cover
