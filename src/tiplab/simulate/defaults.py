"""Default distributions of victim attributes, with the source of every number.

Shares that real public data can give are derived from it; :func:`load_shares` recomputes
them at run time from the files in ``shared/data`` when they are present, and the built-in
values below are what those functions return on the files as shipped (a unit test checks
that they agree). Every other number is an *assumption* of this simulator and says so.

Sources
-------
GLOTIP
    UNODC Global Report on Trafficking in Persons, data-portal export of 14 Apr 2025
    (``shared/data/unodc_glotip/data_glotip.csv``), indicator "Detected trafficking victims".
CTDC
    Counter Trafficking Data Collaborative, K-anon release of 15 Jul 2021, aggregates
    computed by ``Leonw98/ctdc_analysis`` (``shared/data/ctdc/kanon_2021_aggregates/``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from tiplab.records.countries import normalise

log = logging.getLogger("tiplab.simulate")

#: Destination countries whose "by citizenship" breakdown stands in for the fictional
#: country's inflows (Western European destinations with many distinct citizenships).
GLOTIP_DESTINATIONS: tuple[str, ...] = ("NLD", "DEU", "BEL", "FRA", "ITA", "ESP", "AUT")
GLOTIP_SUBREGIONS: tuple[str, ...] = ("Western Europe", "Northern Europe", "Southern Europe")
GLOTIP_YEARS: tuple[int, int] = (2015, 2022)

DOMESTIC = "DOMESTIC"

#: Citizenships the simulator can name (it has name lists for their languages), with the
#: GLOTIP category spellings that denote them: demonyms and the Spanish/Italian country names
#: some destinations report (English ISO names are matched through pycountry).
DEMONYMS: dict[str, tuple[str, ...]] = {
    "ROU": ("romanian", "romanians", "rumania"),
    "BGR": ("bulgarian", "bulgarians"),
    "ALB": ("albanian", "albanians"),
    "UKR": ("ukrainian", "ukrainians", "ukraineans", "ucrania"),
    "MDA": ("moldavian", "moldavians", "moldovan", "moldovans", "moldova", "moldavia"),
    "NGA": ("nigerian", "nigerians"),
    "VNM": ("vietnamese",),
    "CHN": ("chinese",),
    "MAR": ("moroccan", "moroccans", "marocco", "marruecos"),
    "EGY": ("egyptian", "egyptians", "egitto"),
    "SYR": ("syrian", "syrians"),
    "ERI": ("eritrean", "eritreans"),
    "PHL": ("filipino", "filipinos", "filippino", "filippinos", "filippine"),
    "BRA": ("brazilian", "brazilians", "brasil"),
    "IND": ("indian", "indians"),
}
#: Own-nationals labels of the destinations ("Nationals" means domestic trafficking).
DOMESTIC_LABELS: tuple[str, ...] = (
    "nationals",
    "french",
    "italian",
    "italians",
    "germans",
    "german",
    "dutch",
    "austrians",
    "austrian",
    "spanish",
    "belgian",
    "belgians",
    "netherlands own country",
)

#: Floor on each nameable citizenship's share among foreign victims (an assumption), so
#: every name language appears even where GLOTIP reports almost none (e.g. Eritrea).
CITIZENSHIP_FLOOR = 0.005

# --- Shares derived from GLOTIP (built-in copies; see load_shares) -------------------------

#: Detected victims by sex and age group: GLOTIP, Dimension "Total", sub-regions Western,
#: Northern and Southern Europe, 2015-2022, sum of reported counts ("<5" cells left out).
#: "Other" sex (134 adults; minors are "<5" cells) is coded NonConforming.
SEX_AGE: dict[tuple[str, str], float] = {
    ("Feminine", "minor"): 12319,
    ("Feminine", "adult"): 32215,
    ("Masculine", "minor"): 17825,
    ("Masculine", "adult"): 27365,
    ("NonConforming", "adult"): 134,
}

#: Detected victims by form x sex x age: GLOTIP, Dimension "by form of exploitation", same
#: sub-regions and years. Keys: (sex, age group) -> {GLOTIP category: count}.
FORM_BY_SEX_AGE: dict[tuple[str, str], dict[str, float]] = {
    ("Feminine", "minor"): {
        "Sexual exploitation": 5067,
        "Forced labour": 548,
        "Other forms of exploitation": 2097,
    },
    ("Feminine", "adult"): {
        "Sexual exploitation": 18038,
        "Forced labour": 4175,
        "Other forms of exploitation": 3297,
    },
    ("Masculine", "minor"): {
        "Sexual exploitation": 1309,
        "Forced labour": 3935,
        "Other forms of exploitation": 10132,
    },
    ("Masculine", "adult"): {
        "Sexual exploitation": 1431,
        "Forced labour": 16064,
        "Other forms of exploitation": 8664,
    },
    ("NonConforming", "adult"): {
        "Sexual exploitation": 194,
        "Forced labour": 8,
        "Other forms of exploitation": 6,
    },
}

#: Citizenship of detected victims: GLOTIP "by citizenship", destinations
#: :data:`GLOTIP_DESTINATIONS`, 2015-2022, Sex and Age "Total"; categories mapped through
#: :data:`DEMONYMS` and country names; DOMESTIC = nationals of the destination. Other
#: citizenships are left out (no name lists), so these are shares among what is kept.
CITIZENSHIP: dict[str, float] = {
    "DOMESTIC": 9693,
    "ROU": 2990,
    "NGA": 2247,
    "BGR": 1244,
    "CHN": 811,
    "MAR": 597,
    "UKR": 489,
    "BRA": 355,
    "MDA": 272,
    "VNM": 225,
    "PHL": 215,
    "ALB": 207,
    "IND": 152,
    "SYR": 69,
    "EGY": 66,
    "ERI": 27,
}

# --- Assumptions (no public victim-level source) ---------------------------------------------

#: How GLOTIP's "Other forms of exploitation" splits into HTCDS forms. Assumption, loosely
#: following the Global Report's narrative (forced criminality the largest "other" form).
OTHER_FORMS: dict[str, float] = {
    "ForcedCriminality": 0.50,
    "ForcedBegging": 0.15,
    "Servitude": 0.20,
    "ForcedMarriage": 0.10,
    "Other": 0.05,
}

#: Labour sector (ISIC section, HTCDS code) given the form. Assumption.
SECTOR_BY_FORM: dict[str, dict[str, float]] = {
    "ForcedLabour": {
        "A_AgricultureForestryAndFishing": 0.24,
        "F_Construction": 0.20,
        "C_Manufacturing": 0.14,
        "I_AccommodationAndFoodServiceActivities": 0.16,
        "T_ActivitiesOfHouseholdsAsEmployers": 0.10,
        "G_WholesaleAndRetailTradeRepairOfMotorVehicles": 0.06,
        "H_TransportationAndStorage": 0.05,
        "S_OtherServiceActivities": 0.05,
    },
    "Servitude": {"T_ActivitiesOfHouseholdsAsEmployers": 1.0},
    "ForcedCriminality": {
        "G_WholesaleAndRetailTradeRepairOfMotorVehicles": 0.3,
        "S_OtherServiceActivities": 0.7,
    },
}

#: Probability that each means of control is present, given the form. Assumption (ILO
#: indicators of forced labour; CTDC's most frequent means are false promises, restriction of
#: movement, psychological abuse and taking earnings).
MEANS_BY_FORM: dict[str, dict[str, float]] = {
    "SexualExploitation": {
        "FalsePromises": 0.45,
        "PsychologicalAbuse": 0.50,
        "PhysicalThreats": 0.35,
        "PhysicalAbuse": 0.30,
        "SexualAbuse": 0.30,
        "TakesEarnings": 0.40,
        "RestrictsMovement": 0.35,
        "DebtBondage": 0.25,
        "PsychoactiveSubstance": 0.12,
        "WithholdsDocuments": 0.15,
        "ThreatensChildrenFamily": 0.10,
    },
    "ForcedLabour": {
        "FalsePromises": 0.55,
        "ExcessiveWorkingHours": 0.50,
        "TakesEarnings": 0.45,
        "WithholdsDocuments": 0.40,
        "DebtBondage": 0.35,
        "RestrictsMovement": 0.30,
        "ThreatsLawEnforcement": 0.20,
        "PhysicalThreats": 0.20,
        "WithholdsNecessities": 0.15,
    },
    "_other": {
        "FalsePromises": 0.35,
        "PsychologicalAbuse": 0.35,
        "PhysicalThreats": 0.30,
        "RestrictsMovement": 0.30,
        "TakesEarnings": 0.25,
        "DebtBondage": 0.20,
        "ThreatensChildrenFamily": 0.10,
    },
}

#: Recruiter relation given the form. Assumption (CTDC reports intimate partners mostly in
#: sexual exploitation, family members in child and begging cases).
RECRUITER_BY_FORM: dict[str, dict[str, float]] = {
    "SexualExploitation": {
        "IntimatePartner": 0.30,
        "Familial": 0.10,
        "Acquainted": 0.30,
        "Unacquainted": 0.20,
        "Unknown": 0.10,
    },
    "ForcedLabour": {
        "IntimatePartner": 0.02,
        "Familial": 0.08,
        "Acquainted": 0.30,
        "Unacquainted": 0.50,
        "Unknown": 0.10,
    },
    "_other": {
        "IntimatePartner": 0.05,
        "Familial": 0.30,
        "Acquainted": 0.25,
        "Unacquainted": 0.30,
        "Unknown": 0.10,
    },
}

#: Transit routes by citizenship (ISO alpha-3, in travel order) with weights; an empty route
#: means direct travel. Assumption, after the main routes the Global Report describes.
TRANSIT_ROUTES: dict[str, tuple[tuple[tuple[str, ...], float], ...]] = {
    "NGA": ((("NER", "LBY", "ITA"), 0.55), (("NER", "DZA", "MAR", "ESP"), 0.25), ((), 0.20)),
    "ERI": ((("SDN", "LBY", "ITA"), 0.7), (("ETH", "SDN", "EGY"), 0.2), ((), 0.1)),
    "SYR": ((("TUR", "GRC"), 0.6), (("TUR", "BGR", "SRB"), 0.25), ((), 0.15)),
    "EGY": ((("LBY", "ITA"), 0.4), ((), 0.6)),
    "MAR": ((("ESP",), 0.5), ((), 0.5)),
    "ALB": ((("MNE", "HRV"), 0.2), (("GRC",), 0.2), ((), 0.6)),
    "VNM": (
        (("RUS", "POL"), 0.35),
        (("CHN", "RUS", "BLR", "POL"), 0.25),
        (("FRA",), 0.15),
        ((), 0.25),
    ),
    "CHN": ((("RUS",), 0.15), (("ARE",), 0.15), ((), 0.7)),
    "UKR": ((("POL",), 0.5), (("HUN",), 0.15), ((), 0.35)),
    "MDA": ((("ROU",), 0.5), (("UKR", "POL"), 0.1), ((), 0.4)),
    "ROU": ((("HUN",), 0.3), ((), 0.7)),
    "BGR": ((("SRB", "HUN"), 0.2), ((), 0.8)),
    "PHL": ((("ARE",), 0.3), (("QAT",), 0.1), ((), 0.6)),
    "IND": ((("ARE",), 0.3), (("RUS", "BLR", "POL"), 0.1), ((), 0.6)),
    "BRA": ((("PRT",), 0.45), (("ESP",), 0.15), ((), 0.4)),
}

#: Minors' ages and adults' age distribution. Assumption: CTDC ageBroad bands show most
#: detected minors aged 9-17 and adults concentrated at 18-38 with a long tail.
MINOR_AGE_WEIGHTS: dict[int, float] = {
    a: (0.3 if a < 9 else 0.6 + 0.25 * (a - 9)) for a in range(1, 18)
}
ADULT_AGE_GAMMA: tuple[float, float] = (1.6, 8.0)  # age = 18 + Gamma(shape, scale)
ADULT_AGE_MAX = 75

#: Yearly trend (log growth per year) and month-of-identification seasonality. Assumption:
#: detections in Europe rose over 2015-2019 (GLOTIP), dipped in 2020; summer peaks in
#: agricultural and tourism work.
TREND_PER_YEAR = 0.04
DIP_YEAR, DIP_FACTOR = 2020, 0.8
SEASON_AMPLITUDE, SEASON_PEAK_MONTH = 0.25, 7

# --- Completeness derived from CTDC ----------------------------------------------------------

#: Share of records missing a field: CTDC K-anon 2021 ``missing_summary.csv`` (percent of the
#: 97,750 records). Applied as is to the hotline (CTDC's largest source is hotlines) and
#: halved for case-management agencies (an assumption).
CTDC_MISSING: dict[str, float] = {
    "gender": 0.0833,
    "ageBroad": 0.4786,
    "citizenship": 0.4548,
    "typeOfExploitConcatenated": 0.3219,
    "meansOfControlConcatenated": 0.4034,
    "RecruiterRelationship": 0.3945,
}


@dataclass
class Shares:
    """The shares a run uses, and where each came from."""

    sex_age: dict[tuple[str, str], float] = field(default_factory=lambda: dict(SEX_AGE))
    form_by_sex_age: dict[tuple[str, str], dict[str, float]] = field(
        default_factory=lambda: {k: dict(v) for k, v in FORM_BY_SEX_AGE.items()}
    )
    citizenship: dict[str, float] = field(default_factory=lambda: dict(CITIZENSHIP))
    missing: dict[str, float] = field(default_factory=lambda: dict(CTDC_MISSING))
    sources: dict[str, str] = field(
        default_factory=lambda: {
            "sex_age": "built-in (GLOTIP 2015-2022, W/N/S Europe)",
            "form_by_sex_age": "built-in (GLOTIP 2015-2022, W/N/S Europe)",
            "citizenship": "built-in (GLOTIP 2015-2022, NLD DEU BEL FRA ITA ESP AUT)",
            "missing": "built-in (CTDC K-anon 2021 missing_summary.csv)",
        }
    )

    def to_json(self) -> dict[str, object]:
        return {
            "sex_age": {f"{s}|{a}": v for (s, a), v in self.sex_age.items()},
            "form_by_sex_age": {f"{s}|{a}": v for (s, a), v in self.form_by_sex_age.items()},
            "citizenship": self.citizenship,
            "missing": self.missing,
            "sources": self.sources,
        }


@lru_cache(maxsize=64)
def _iso_names(alpha3: str) -> frozenset[str]:
    import pycountry

    c = pycountry.countries.get(alpha_3=alpha3)
    names = {alpha3.casefold()}
    if c is not None:
        names |= {
            normalise(str(getattr(c, a)))
            for a in ("name", "official_name", "common_name")
            if hasattr(c, a)
        }
    return frozenset(names)


def _citizenship_key(label: str, destination: str) -> str | None:
    """GLOTIP category -> citizenship key (DOMESTIC, a nameable alpha-3) or None."""
    key = normalise(label)
    if key in DOMESTIC_LABELS or key in _iso_names(destination):
        return DOMESTIC
    for a3, names in DEMONYMS.items():
        if key in names or key in _iso_names(a3):
            return a3
    return None


def glotip_shares(
    path: Path,
) -> tuple[dict[tuple[str, str], float], dict[tuple[str, str], dict[str, float]], dict[str, float]]:
    """Recompute :data:`SEX_AGE`, :data:`FORM_BY_SEX_AGE` and :data:`CITIZENSHIP` from GLOTIP."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute(
            "CREATE TEMP TABLE g AS SELECT *, TRY_CAST(replace(txtVALUE, ',', '') AS BIGINT) "
            "AS v, TRY_CAST(Year AS INTEGER) AS y FROM read_csv(?, all_varchar=true, "
            "header=true)",
            [str(path)],
        )
        lo, hi = GLOTIP_YEARS
        sub = ", ".join(f"'{s}'" for s in GLOTIP_SUBREGIONS)
        base = (
            f"Indicator = 'Detected trafficking victims' AND y BETWEEN {lo} AND {hi} "
            f"AND v IS NOT NULL"
        )
        sexes = {"Female": "Feminine", "Male": "Masculine", "Other": "NonConforming"}
        ages = {"0 to 17 years": "minor", "18 years or over": "adult"}
        sex_age: dict[tuple[str, str], float] = {}
        for s, a, n in con.execute(
            f"SELECT Sex, Age, sum(v) FROM g WHERE {base} AND Subregion IN ({sub}) AND "
            f"Dimension = 'Total' GROUP BY ALL ORDER BY ALL"
        ).fetchall():
            if s in sexes and a in ages:
                sex_age[(sexes[s], ages[a])] = float(n)
        form: dict[tuple[str, str], dict[str, float]] = {}
        for c, s, a, n in con.execute(
            f"SELECT Category, Sex, Age, sum(v) FROM g WHERE {base} AND Subregion IN "
            f"({sub}) AND Dimension = 'by form of exploitation' GROUP BY ALL "
            f"ORDER BY ALL"
        ).fetchall():
            if s in sexes and a in ages:
                form.setdefault((sexes[s], ages[a]), {})[str(c)] = float(n)
        dests = ", ".join(f"'{d}'" for d in GLOTIP_DESTINATIONS)
        cit: dict[str, float] = dict.fromkeys([DOMESTIC, *DEMONYMS], 0.0)
        for d, c, n in con.execute(
            f"SELECT Iso3_code, Category, sum(v) FROM g WHERE {base} AND Iso3_code IN "
            f"({dests}) AND Dimension = 'by citizenship' AND Sex = 'Total' AND "
            f"Age = 'Total' GROUP BY ALL ORDER BY ALL"
        ).fetchall():
            key = _citizenship_key(str(c), str(d))
            if key is not None:
                cit[key] += float(n)
    finally:
        con.close()
    return sex_age, form, cit


def ctdc_missing(path: Path) -> dict[str, float]:
    """Recompute :data:`CTDC_MISSING` from CTDC's ``missing_summary.csv`` (percent -> share)."""
    import pyarrow.csv as pacsv

    table = pacsv.read_csv(path).to_pydict()
    names = table[next(iter(table))]  # the first (unnamed) column holds the variable
    pct = dict(zip(names, table["missing_pct"], strict=True))
    return {k: round(float(pct[k]) / 100, 6) for k in CTDC_MISSING if k in pct}


def load_shares(glotip_path: str | None, ctdc_missing_path: str | None = None) -> Shares:
    """The shares for a run: recomputed from GLOTIP and CTDC when the files are there, else
    the built-in copies."""
    shares = Shares()
    if ctdc_missing_path and Path(ctdc_missing_path).is_file():
        shares.missing.update(ctdc_missing(Path(ctdc_missing_path)))
        shares.sources["missing"] = f"{ctdc_missing_path} (read at run time)"
    if glotip_path and Path(glotip_path).is_file():
        sex_age, form, cit = glotip_shares(Path(glotip_path))
        # Keep only cells the model uses; a missing cell keeps its built-in value.
        shares.sex_age.update({k: v for k, v in sex_age.items() if k in SEX_AGE})
        for k, v in form.items():
            if k in shares.form_by_sex_age:
                shares.form_by_sex_age[k].update(
                    {c: n for c, n in v.items() if c in shares.form_by_sex_age[k]}
                )
        shares.citizenship = cit
        for key in ("sex_age", "form_by_sex_age", "citizenship"):
            shares.sources[key] = f"{glotip_path} (read at run time)"
    else:
        log.info("GLOTIP file %s not found; using the built-in shares derived from it", glotip_path)
    return shares
