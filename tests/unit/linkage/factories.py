"""Seeded generator of noisy person records across agencies (tests and benchmarks).

Names come from several languages and scripts with their transliteration variants
(Mohammed/Muhammad/محمد, Олександр/Oleksandr/Aleksandr, ...), plus syllable-built names for
a realistic number of distinct people. Each record gets agency-style noise: another
spelling or script, a typo, a nickname, swapped name order, day/month swaps, partial or
missing birth dates, changed phones. Six agencies export in six column layouts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml

GIVEN_VARIANTS: list[list[str]] = [
    ["Mohammed", "Muhammad", "Mohamed", "محمد", "Mohamad"],
    ["Oleksandr", "Aleksandr", "Олександр", "Александр", "Sasha"],
    ["Ioana", "Yoana", "Joana"],
    ["Yusuf", "Youssef", "Iusuf", "يوسف"],
    ["Ahmed", "Ahmad", "Achmed", "أحمد"],
    ["Mariya", "Maria", "Марія", "Mariia"],
    ["Fatima", "Fatma", "فاطمة", "Fatimah"],
    ["Elena", "Olena", "Олена", "Lena"],
    ["Nikolay", "Mykola", "Николай", "Nikolai"],
    ["Georgios", "Giorgos", "Γεώργιος"],
    ["Natalia", "Nataliya", "Наталія", "Natasha"],
    ["Ekaterina", "Kateryna", "Катерина"],
    ["Dmitry", "Dmytro", "Дмитро", "Dmitri"],
    ["Olga", "Olha", "Ольга"],
    ["Ngozi"],
    ["Chidinma"],
    ["Thi Lan"],
    ["Thu Trang"],
    ["Blessing"],
    ["Precious"],
    ["Ana", "Anna"],
    ["Ibrahim", "Ebrahim", "إبراهيم"],
    ["Amina", "Aminah", "أمينة"],
    ["Svetlana", "Світлана", "Svitlana"],
    ["Irina", "Iryna", "Ірина"],
]
FAMILY_VARIANTS: list[list[str]] = [
    ["Petrenko", "Петренко"],
    ["Nguyen", "Nguyễn"],
    ["Al Hassan", "Alhassan", "الحسن"],
    ["Popescu"],
    ["Okafor"],
    ["Kowalski", "Kovalski"],
    ["Ivanova", "Иванова", "Ivanova"],
    ["Papadopoulos", "Παπαδόπουλος"],
    ["Hussein", "Husain", "Hussain", "حسين"],
    ["Shevchenko", "Шевченко", "Chevtchenko"],
    ["Tran", "Trần"],
    ["Okonkwo"],
    ["Abdullah", "Abdallah", "عبدالله"],
    ["Kovalenko", "Коваленко"],
    ["Mensah"],
    ["Bondarenko", "Бондаренко"],
    ["Rahman", "Rehman", "رحمن"],
    ["Le", "Lê"],
]
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "na",
    "ra",
    "te",
    "vu",
    "so",
    "bi",
    "da",
    "fe",
    "go",
    "ha",
    "ji",
    "ku",
    "le",
    "mo",
    "ne",
    "pa",
    "ri",
    "sa",
    "ti",
    "zo",
    "ve",
    "lu",
    "an",
    "el",
    "or",
    "is",
    "un",
    "ar",
    "en",
]
COUNTRIES = [
    ("UKR", "Ukraine", "Ukraine"),
    ("SYR", "Syria", "Syrie"),
    ("VNM", "Viet Nam", "Viêt Nam"),
    ("NGA", "Nigeria", "Nigéria"),
    ("ROU", "Romania", "Roumanie"),
    ("MDA", "Moldova", "Moldavie"),
    ("ALB", "Albania", "Albanie"),
    ("EGY", "Egypt", "Égypte"),
]
A2 = {
    "UKR": "UA",
    "SYR": "SY",
    "VNM": "VN",
    "NGA": "NG",
    "ROU": "RO",
    "MDA": "MD",
    "ALB": "AL",
    "EGY": "EG",
}
CITIES = [
    "Kyiv",
    "Odesa",
    "Aleppo",
    "Hanoi",
    "Lagos",
    "Iasi",
    "Chisinau",
    "Tirana",
    "Cairo",
    "Benin City",
    "Lviv",
    "Homs",
    "Hai Phong",
    "Constanta",
    "Durres",
    "Alexandria",
]
REGIONS = ["North", "South", "East", "West", "Capital"]
FORMS = ["sexual", "labour", "criminal activities", "begging", "domestic servitude"]
SOURCES = ["police", "ngo", "hotline", "labour", "health", "shelter"]


def _gen_names(rng: np.random.Generator, n: int, min_syl: int, max_syl: int) -> list[str]:
    out = set()
    while len(out) < n:
        k = int(rng.integers(min_syl, max_syl + 1))
        out.add("".join(rng.choice(SYLLABLES, size=k)).capitalize())
    return sorted(out)


def _typo(rng: np.random.Generator, s: str) -> str:
    if len(s) < 4:
        return s
    i = int(rng.integers(1, len(s) - 1))
    op = int(rng.integers(0, 3))
    if op == 0:
        return s[:i] + s[i + 1 :]
    if op == 1:
        return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    return s[:i] + str(rng.choice(list("aeiourntls"))) + s[i + 1 :]


@dataclass
class Dataset:
    tables: dict[str, pa.Table]
    roles: dict[str, dict[str, object]]
    truth: pa.Table

    def write(self, out: Path, fmt: str = "csv") -> Path:
        """Write one file per source, linkage_roles.yaml and truth/records.csv."""
        out.mkdir(parents=True, exist_ok=True)
        inputs = {}
        for s, t in self.tables.items():
            ext = "parquet" if (fmt == "parquet" or s == "labour") else "csv"
            name = f"{s}.{ext}"
            if ext == "csv":
                pacsv.write_csv(t, out / name)
            else:
                pq.write_table(t, out / name)
            inputs[s] = {"file": name, **self.roles[s]}
        (out / "linkage_roles.yaml").write_text(
            yaml.safe_dump({"inputs": inputs}, allow_unicode=True)
        )
        (out / "truth").mkdir(exist_ok=True)
        pacsv.write_csv(self.truth, out / "truth" / "records.csv")
        return out / "linkage_roles.yaml"


def make_dataset(
    n_persons: int = 2000,
    seed: int = 1,
    n_sources: int = 6,
    noise: float = 1.0,
    n_generated_given: int = 400,
    n_generated_family: int = 3000,
) -> Dataset:
    """Persons seen by 1..n_sources agencies; ``noise`` scales every noise probability."""
    rng = np.random.default_rng(seed)
    given_pool = GIVEN_VARIANTS + [[g] for g in _gen_names(rng, n_generated_given, 2, 3)]
    family_pool = FAMILY_VARIANTS + [[f] for f in _gen_names(rng, n_generated_family, 2, 4)]
    zg = 1.0 / np.arange(1, len(given_pool) + 1) ** 0.7
    zf = 1.0 / np.arange(1, len(family_pool) + 1) ** 0.6
    p_given = rng.choice(len(given_pool), n_persons, p=zg / zg.sum())
    p_family = rng.choice(len(family_pool), n_persons, p=zf / zf.sum())
    start = dt.date(1965, 1, 1).toordinal()
    p_dob = rng.integers(start, dt.date(2008, 12, 31).toordinal(), n_persons)
    p_sex = rng.choice(["F", "M"], n_persons, p=[0.7, 0.3])
    p_cit = rng.integers(0, len(COUNTRIES), n_persons)
    p_phone = rng.integers(10**9, 10**10 - 1, n_persons)
    p_doc = rng.integers(10**6, 10**7, n_persons)
    p_place = rng.integers(0, len(CITIES), n_persons)
    p_region = rng.integers(0, len(REGIONS), n_persons)
    p_form = rng.integers(0, len(FORMS), n_persons)
    p_year = rng.integers(2015, 2025, n_persons)
    sources = SOURCES[:n_sources]
    # how many agencies see each person: 1 (55%), 2 (25%), 3+ (20%)
    k = np.minimum(rng.choice([1, 1, 1, 1, 1, 2, 2, 2, 3, 4, 5], n_persons), n_sources)
    rows: dict[str, list[dict[str, object]]] = {s: [] for s in sources}
    truth: list[tuple[str, str, str]] = []
    pn = noise

    for i in range(n_persons):
        seen = rng.choice(len(sources), int(k[i]), replace=False)
        if rng.random() < 0.05 * pn:  # a within-agency duplicate
            seen = np.append(seen, seen[0])
        for si in seen:
            s = sources[int(si)]
            gv, fv = given_pool[p_given[i]], family_pool[p_family[i]]
            g = gv[0] if rng.random() < 0.5 else str(rng.choice(gv))
            f = fv[0] if rng.random() < 0.6 else str(rng.choice(fv))
            if rng.random() < 0.12 * pn:
                g = _typo(rng, g)
            if rng.random() < 0.12 * pn:
                f = _typo(rng, f)
            swap = rng.random() < 0.05 * pn
            if swap:
                g, f = f, g
            d = dt.date.fromordinal(int(p_dob[i]))
            r = rng.random()
            dob: str | None
            if r < 0.10 * pn:
                dob = None
            elif r < 0.16 * pn:
                dob = f"{d.year}"
            elif r < 0.20 * pn and d.day <= 12:
                dob = dt.date(d.year, d.day, d.month).isoformat()
            elif r < 0.23 * pn:
                dob = dt.date.fromordinal(d.toordinal() + int(rng.integers(1, 3))).isoformat()
            else:
                dob = d.isoformat()
            phone = str(p_phone[i])
            pr = rng.random()
            if pr < 0.2 * pn:
                phone = str(rng.integers(10**9, 10**10 - 1))
            phone_v: str | None = phone if rng.random() > 0.4 else None
            doc_v: str | None = f"AB{p_doc[i]}" if rng.random() > 0.6 else None
            cit = COUNTRIES[p_cit[i]]
            rid = f"{s[:2].upper()}{len(rows[s]) + 1:07d}"
            truth.append((s, rid, f"T{i:07d}"))
            rows[s].append(
                {
                    "rid": rid,
                    "given": g,
                    "family": f,
                    "dob": dob,
                    "sex": p_sex[i] if rng.random() > 0.08 * pn else None,
                    "cit": cit,
                    "phone": phone_v,
                    "doc": doc_v,
                    "place": CITIES[p_place[i]] if rng.random() > 0.3 else None,
                    "region": REGIONS[p_region[i]],
                    "form": FORMS[p_form[i]],
                    "year": int(p_year[i]) + int(rng.integers(0, 2)),
                }
            )
    tables, roles = {}, {}
    for s in sources:
        tables[s], roles[s] = _layout(s, rows[s])
    tt = pa.table(
        {
            "source": [t[0] for t in truth],
            "record_id": [t[1] for t in truth],
            "true_id": [t[2] for t in truth],
        }
    )
    return Dataset(tables, roles, tt)


def _fmt_date(iso: str | None, fmt: str) -> str | None:
    if iso is None or len(iso) != 10:
        return iso
    return dt.date.fromisoformat(iso).strftime(fmt)


def _layout(s: str, rows: list[dict[str, object]]) -> tuple[pa.Table, dict[str, object]]:
    def col(key: str) -> list[object]:
        return [r[key] for r in rows]

    attrs = {"year": "reg_year", "region_of_exploitation": "region", "exploitation_form": "form"}
    common = {
        "reg_year": [str(y) for y in col("year")],
        "region": col("region"),
        "form": col("form"),
    }
    sex_words = {"F": "female", "M": "male"}
    if s == "police":
        t = pa.table(
            {
                "case_no": col("rid"),
                "fname": col("given"),
                "surname": col("family"),
                "dob": [_fmt_date(d, "%d.%m.%Y") for d in col("dob")],  # type: ignore[arg-type]
                "gender": [sex_words.get(x) for x in col("sex")],  # type: ignore[call-overload]
                "nationality": [c[1] for c in col("cit")],  # type: ignore[index]
                "tel": col("phone"),
                "passport": col("doc"),
                "city": col("place"),
                **common,
            }
        )
        return t, {
            "record_id": "case_no",
            "date_format": "%d.%m.%Y",
            "roles": {
                "first_name": "fname",
                "last_name": "surname",
                "birth_date": "dob",
                "sex": "gender",
                "citizenship": "nationality",
                "phone": "tel",
                "document_number": "passport",
                "place": "city",
            },
            "attributes": attrs,
        }
    if s == "ngo":
        full = [f"{f.upper()}, {g}" for g, f in zip(col("given"), col("family"), strict=True)]  # type: ignore[union-attr]
        t = pa.table(
            {
                "id": col("rid"),
                "full_name": full,
                "birth": col("dob"),
                "sex": col("sex"),
                "citizenship": [c[0] for c in col("cit")],  # type: ignore[index]
                "mobile": [f"+{p[:3]} {p[3:]}" if p else None for p in col("phone")],  # type: ignore[index]
                "town": col("place"),
                **common,
            }
        )
        return t, {
            "record_id": "id",
            "roles": {
                "full_name": "full_name",
                "birth_date": "birth",
                "sex": "sex",
                "citizenship": "citizenship",
                "phone": "mobile",
                "place": "town",
            },
            "attributes": attrs,
        }
    if s == "hotline":
        full = [f"{g} {f}" for g, f in zip(col("given"), col("family"), strict=True)]
        yob = [d[:4] if d and len(d) == 10 and int(d[8:]) % 3 == 0 else d for d in col("dob")]  # type: ignore[index]
        t = pa.table(
            {
                "call_id": col("rid"),
                "caller_name": full,
                "birth": yob,
                "genre": [{"F": "femme", "M": "homme"}.get(x) for x in col("sex")],  # type: ignore[call-overload]
                "pays": [c[2] for c in col("cit")],
                "phone": col("phone"),
                **common,
            }
        )  # type: ignore[index]
        return t, {
            "record_id": "call_id",
            "roles": {
                "full_name": "caller_name",
                "birth_date": "birth",
                "sex": "genre",
                "citizenship": "pays",
                "phone": "phone",
            },
            "attributes": attrs,
        }
    if s == "labour":
        t = pa.table(
            {
                "inspection_ref": col("rid"),
                "family_name": col("family"),
                "given_names": col("given"),
                "date_of_birth": col("dob"),
                "sex": col("sex"),
                "nat": [A2[c[0]] for c in col("cit")],  # type: ignore[index]
                "doc_no": [d.lower() if d else None for d in col("doc")],  # type: ignore[attr-defined]
                "worksite": col("place"),
                **common,
            }
        )
        return t, {
            "record_id": "inspection_ref",
            "roles": {
                "first_name": "given_names",
                "last_name": "family_name",
                "birth_date": "date_of_birth",
                "sex": "sex",
                "citizenship": "nat",
                "document_number": "doc_no",
                "place": "worksite",
            },
            "attributes": attrs,
        }
    if s == "health":
        t = pa.table(
            {
                "patient": col("rid"),
                "first": col("given"),
                "last": col("family"),
                "dob": [_fmt_date(d, "%d/%m/%Y") for d in col("dob")],  # type: ignore[arg-type]
                "sex": [x.lower() if x else None for x in col("sex")],  # type: ignore[attr-defined]
                "country": [c[1] for c in col("cit")],  # type: ignore[index]
                "phone": col("phone"),
                **common,
            }
        )
        return t, {
            "record_id": "patient",
            "date_format": ["%d/%m/%Y"],
            "roles": {
                "first_name": "first",
                "last_name": "last",
                "birth_date": "dob",
                "sex": "sex",
                "citizenship": "country",
                "phone": "phone",
            },
            "attributes": attrs,
        }
    full = [f"{g} {f.upper()}" for g, f in zip(col("given"), col("family"), strict=True)]  # type: ignore[union-attr]
    t = pa.table(
        {
            "resident_id": col("rid"),
            "name": full,
            "born": col("dob"),
            "sex": col("sex"),
            "origin": [c[0] for c in col("cit")],  # type: ignore[index]
            "contact": col("phone"),
            "passport": col("doc"),
            **common,
        }
    )
    return t, {
        "record_id": "resident_id",
        "roles": {
            "full_name": "name",
            "birth_date": "born",
            "sex": "sex",
            "citizenship": "origin",
            "phone": "contact",
            "document_number": "passport",
        },
        "attributes": attrs,
    }


def link_inputs(ds: Dataset) -> list[object]:
    from tiplab.linkage import LinkInput
    from tiplab.linkage.roles import InputRoles

    out = []
    for s, t in ds.tables.items():
        spec = InputRoles.model_validate(ds.roles[s])
        out.append(LinkInput.from_roles(s, spec, t))
    return out
