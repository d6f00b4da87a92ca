"""A seeded, vectorised generator of a police-style case export for the import benchmark.

Valid records with a small share of the defects the validator must catch (invalid dates,
unknown codes, out-of-range ages). Used by bench_import.py; no Python loop per record.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

PROFILE = """\
profile: bench_police
kind: case
schema_version: "1.0"
source_agency: Police
read: {format: csv, delimiter: ";", encoding: utf-8}
fields:
  record_id: Case No
  registration_date: {column: Registered, date_formats: ["%d.%m.%Y"]}
  given_name: First name
  family_name: Surname
  birth_date: {column: DOB, date_formats: ["%d.%m.%Y"]}
  document_number: Passport
  phone: Phone
  sex: {column: Sex, codes: {M: Masculine, F: Feminine, X: NonSpecifiedUnknown}}
  age: Age
  citizenship: Nationality
  region_of_exploitation: Region
  exploitation_forms:
    column: Exploitation
    split: ","
    codes: {sexual: SexualExploitation, labour: ForcedLabour, begging: ForcedBegging,
            criminality: ForcedCriminality, domestic: Servitude}
  trafficking_status: {column: Status, codes: {confirmed: Actual, presumed: Possible}}
  country_of_exploitation: {value: GBR}
"""

GIVEN = ["Ana", "Maria", "Ion", "Oleksandr", "Chidi", "Ngozi", "Thi", "Minh", "Ahmed", "Fatima",
         "Elena", "Andrei", "Blessing", "John", "Li", "Wei", "Ali", "Aisha", "Dritan", "Arben"]
FAMILY = ["Popescu", "Ionescu", "Shevchenko", "Okafor", "Nguyen", "Tran", "Hassan", "Ali",
          "Hoxha", "Smith", "Wang", "Li", "Kowalski", "Bondarenko", "Adeyemi", "Mensah"]
NATION = ["Romania", "Roumanie", "ROU", "Albania", "Nigeria", "Viet Nam", "Vietnam", "Ukraine",
          "China", "United Kingdom", "GBR", "Eritrea", "Sudan", "Poland", "India", "Brazil"]
FORMS = ["sexual", "labour", "labour,sexual", "begging", "criminality", "domestic"]
REGIONS = ["GB-ENG", "GB-SCT", "GB-WLS", "GB-NIR"]


def generate(n: int, seed: int = 1, defect_rate: float = 0.01) -> pa.Table:
    rng = np.random.default_rng(seed)

    def pick(values: list[str], weights: np.ndarray | None = None) -> pa.Array:
        idx = rng.choice(len(values), size=n, p=weights)
        return pc.take(pa.array(values), pa.array(idx))

    reg_days = rng.integers(0, 3650, n)
    reg = pa.array(np.datetime64("2014-01-01") + reg_days.astype("timedelta64[D]"))
    age = rng.integers(8, 60, n)
    dob = pa.array(np.datetime64("2014-01-01") + (reg_days - age * 365 - rng.integers(0, 300, n))
                   .astype("timedelta64[D]"))
    fmt = "%d.%m.%Y"
    reg_s = pc.strftime(pc.cast(reg, pa.timestamp("s")), format=fmt)
    dob_s = pc.strftime(pc.cast(dob, pa.timestamp("s")), format=fmt)
    ids = pc.binary_join_element_wise(pa.array(["P"] * n),
                                      pc.cast(pa.array(np.arange(n)), pa.string()), "-")
    sex = pick(["F", "M", "X"], np.array([0.7, 0.29, 0.01]))
    age_s = pc.cast(pa.array(age), pa.string())
    # Defects, each on about defect_rate/3 of rows.
    bad = rng.random(n)
    r = defect_rate / 3
    reg_s = pc.if_else(pa.array(bad < r), pa.scalar("31.13.2020"), reg_s)
    sex = pc.if_else(pa.array((bad >= r) & (bad < 2 * r)), pa.scalar("Q"), sex)
    age_s = pc.if_else(pa.array((bad >= 2 * r) & (bad < 3 * r)), pa.scalar("150"), age_s)
    phones = pc.cast(pa.array(rng.integers(7_000_000_000, 7_999_999_999, n)), pa.string())
    passports = pc.cast(pa.array(rng.integers(10_000_000, 99_999_999, n)), pa.string())
    return pa.table({
        "Case No": ids, "Registered": reg_s, "First name": pick(GIVEN), "Surname": pick(FAMILY),
        "DOB": dob_s, "Passport": passports, "Phone": phones, "Sex": sex, "Age": age_s,
        "Nationality": pick(NATION), "Region": pick(REGIONS), "Exploitation": pick(FORMS),
        "Status": pick(["confirmed", "presumed"]),
    })


def write(path: Path, n: int, seed: int = 1) -> Path:
    table = generate(n, seed)
    pacsv.write_csv(table, path, pacsv.WriteOptions(delimiter=";"))
    path.with_suffix(".profile.yaml").write_text(PROFILE, encoding="utf-8")
    return path
