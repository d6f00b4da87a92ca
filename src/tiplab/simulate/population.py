"""The hidden population: every victim, seen by an agency or not, with all attributes.

Draw order (each step conditional on the ones before; all vectorised):
sex x age group (GLOTIP) -> form given sex and age group (GLOTIP; "other" split by
assumption) -> age in years -> citizenship (GLOTIP citizenship of victims detected in
Western Europe, plus nationals) -> region of exploitation (true prevalence model) ->
identification month (trend x seasonality) and day -> date of birth -> labour sector, means
of control, recruiter relation given the form -> transit route given citizenship -> names,
phone and document given citizenship and sex -> latent visibility.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tiplab.records.codes import MEANS_OF_CONTROL
from tiplab.simulate import dates as D
from tiplab.simulate.country import Country
from tiplab.simulate.defaults import (
    ADULT_AGE_GAMMA,
    ADULT_AGE_MAX,
    CITIZENSHIP_FLOOR,
    DIP_FACTOR,
    DIP_YEAR,
    DOMESTIC,
    MEANS_BY_FORM,
    MINOR_AGE_WEIGHTS,
    OTHER_FORMS,
    RECRUITER_BY_FORM,
    SEASON_AMPLITUDE,
    SEASON_PEAK_MONTH,
    SECTOR_BY_FORM,
    TRANSIT_ROUTES,
    TREND_PER_YEAR,
    Shares,
)
from tiplab.simulate.namelists import LANGUAGE_OF
from tiplab.simulate.names import NameTable, draw
from tiplab.simulate.rng import stream

GLOTIP_FORMS = {"Sexual exploitation": "SexualExploitation", "Forced labour": "ForcedLabour"}
CALLING_CODES: dict[str, str] = {
    "ROU": "40",
    "MDA": "373",
    "BGR": "359",
    "ALB": "355",
    "UKR": "380",
    "NGA": "234",
    "VNM": "84",
    "CHN": "86",
    "MAR": "212",
    "EGY": "20",
    "SYR": "963",
    "ERI": "291",
    "PHL": "63",
    "BRA": "55",
    "IND": "91",
}
#: Calling code of the fictional country (999 is reserved by the ITU, so never real).
DOMESTIC_CALLING_CODE = "999"


@dataclass
class Population:
    """Victims as NumPy arrays (categoricals as codes into the ``*_levels`` lists)."""

    n: int
    sex: np.ndarray
    sex_levels: list[str]
    minor: np.ndarray
    age: np.ndarray  # at identification
    form: np.ndarray
    form_levels: list[str]
    form_group: np.ndarray  # 0 sexual, 1 labour, 2 other
    citizenship: np.ndarray
    citizenship_levels: list[str]  # alpha-3; the country's own code for nationals
    foreign: np.ndarray
    region: np.ndarray
    identified: np.ndarray  # datetime64[D]
    birth: np.ndarray  # datetime64[D]
    sector: np.ndarray  # -1 = none
    sector_levels: list[str]
    means: np.ndarray  # bool matrix n x len(means_levels)
    means_levels: list[str]
    recruiter: np.ndarray
    recruiter_levels: list[str]
    transit: pa.Array  # list<string>
    origin_region: np.ndarray  # region index for nationals, -1 otherwise
    given: np.ndarray
    family: np.ndarray
    phone: pa.Array
    document: pa.Array
    visibility: np.ndarray

    def table(self, country: Country) -> pa.Table:
        """The whole hidden population as an Arrow table (truth/victims.parquet)."""

        def cat(codes: np.ndarray, levels: list[str]) -> pa.Array:
            return pc.take(pa.array(levels, pa.string()), pa.array(codes))

        codes = country.codes
        means_list = _list_from_matrix(self.means, self.means_levels)
        sector = pc.take(
            pa.array(self.sector_levels, pa.string()),
            pa.array(np.where(self.sector < 0, 0, self.sector), mask=self.sector < 0),
        )
        origin_region = pc.take(
            pa.array(codes),
            pa.array(
                np.where(self.origin_region < 0, 0, self.origin_region), mask=self.origin_region < 0
            ),
        )
        cit = cat(self.citizenship, self.citizenship_levels)
        return pa.table(
            {
                "true_id": pa.array(np.arange(1, self.n + 1, dtype=np.int64)),
                "sex": cat(self.sex, self.sex_levels),
                "age_at_identification": pa.array(self.age.astype(np.int64)),
                "minor": pa.array(self.minor),
                "birth_date": pa.array(self.birth.astype("datetime64[D]")),
                "identification_date": pa.array(self.identified.astype("datetime64[D]")),
                "year": pa.array(D.split(self.identified)[0]),
                "citizenship": cit,
                "origin_country": cit,
                "origin_region": origin_region,
                "transit_countries": self.transit,
                "region_of_exploitation": cat(self.region, codes),
                "exploitation_form": cat(self.form, self.form_levels),
                "labour_sector": sector,
                "means_of_control": means_list,
                "recruiter_relation": cat(self.recruiter, self.recruiter_levels),
                "visibility": pa.array(np.round(self.visibility, 6)),
            }
        )


def _list_from_matrix(matrix: np.ndarray, levels: list[str]) -> pa.Array:
    _, cols = np.nonzero(matrix)
    offsets = np.concatenate([[0], np.cumsum(matrix.sum(axis=1))]).astype(np.int32)
    values = pc.take(pa.array(levels, pa.string()), pa.array(cols.astype(np.int64)))
    return pa.ListArray.from_arrays(pa.array(offsets), values)


def _categorical(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    p = p / p.sum()
    return np.asarray(np.searchsorted(np.cumsum(p), rng.random(n) * (1 - 1e-12), "right"))


def time_weights(years: tuple[int, ...]) -> np.ndarray:
    """Relative number of identifications per (year, month): trend, dip and seasonality."""
    y = np.array(years, dtype=float)[:, None]
    m = np.arange(1, 13, dtype=float)[None, :]
    w = np.exp(TREND_PER_YEAR * (y - y[0, 0])) * (
        1 + SEASON_AMPLITUDE * np.cos(2 * math.pi * (m - SEASON_PEAK_MONTH) / 12)
    )
    w = np.where(y == DIP_YEAR, w * DIP_FACTOR, w)
    return np.asarray(w / w.sum())


def citizenship_weights(shares: Shares) -> tuple[list[str], np.ndarray]:
    """Citizenship levels and weights, with the floor for nameable foreign citizenships."""
    levels = sorted(shares.citizenship, key=lambda k: (k != DOMESTIC, k))
    w = np.array([shares.citizenship[k] for k in levels], dtype=float)
    foreign = np.array([k != DOMESTIC for k in levels])
    floor = CITIZENSHIP_FLOOR * w[foreign].sum()
    w[foreign] = np.maximum(w[foreign], floor)
    return levels, w / w.sum()


def generate(
    n: int,
    years: tuple[int, ...],
    country: Country,
    shares: Shares,
    given_table: NameTable,
    family_table: NameTable,
    seed: int,
) -> Population:
    rng = stream(seed, "population")
    # Sex and age group, then form given both.
    sa_keys = list(shares.sex_age)
    sa = _categorical(rng, np.array([shares.sex_age[k] for k in sa_keys]), n)
    sex_levels = sorted({k[0] for k in sa_keys})
    sex = np.array([sex_levels.index(k[0]) for k in sa_keys])[sa]
    minor = np.array([k[1] == "minor" for k in sa_keys])[sa]
    other_levels = list(OTHER_FORMS)
    form_levels = ["SexualExploitation", "ForcedLabour", *other_levels]
    form = np.zeros(n, dtype=np.int64)
    for g, key in enumerate(sa_keys):
        idx = np.flatnonzero(sa == g)
        cells = shares.form_by_sex_age[key]
        labels = list(cells)
        pick = _categorical(rng, np.array([cells[c] for c in labels]), len(idx))
        chosen = np.array(
            [form_levels.index(GLOTIP_FORMS[c]) if c in GLOTIP_FORMS else -1 for c in labels]
        )[pick]
        other = chosen < 0
        chosen[other] = 2 + _categorical(
            rng, np.array(list(OTHER_FORMS.values())), int(other.sum())
        )
        form[idx] = chosen
    form_group = np.minimum(form, 2)
    # Age in whole years at identification.
    minor_ages = np.array(list(MINOR_AGE_WEIGHTS))
    age = np.where(
        minor,
        minor_ages[_categorical(rng, np.array(list(MINOR_AGE_WEIGHTS.values())), n)],
        np.minimum(18 + np.floor(rng.gamma(*ADULT_AGE_GAMMA, n)), ADULT_AGE_MAX),
    ).astype(np.int64)
    # Citizenship and region of exploitation.
    cit_keys, cit_w = citizenship_weights(shares)
    citizenship = _categorical(rng, cit_w, n)
    cit_levels = [country.code if k == DOMESTIC else k for k in cit_keys]
    foreign = np.array([k != DOMESTIC for k in cit_keys])[citizenship]
    region = _categorical(rng, country.probabilities, n)
    # Identification date: (year, month) from the trend/seasonality weights, day uniform.
    tw = time_weights(years)
    ym = _categorical(rng, tw.ravel(), n)
    y = np.array(years)[ym // 12]
    m = ym % 12 + 1
    d = 1 + np.floor(rng.random(n) * D.days_in_month(y, m)).astype(np.int64)
    identified = D.build(y, m, d)
    # Date of birth: uniformly within the year of life that gives `age` at identification.
    upper = D.shift_years(identified, -age)
    lower = D.shift_years(identified, -(age + 1))
    span = (upper - lower).astype(np.int64)
    birth = lower + (1 + np.floor(rng.random(n) * span).astype(np.int64)).astype("timedelta64[D]")
    # Sector, means of control and recruiter relation given the form.
    sector_levels = sorted({s for v in SECTOR_BY_FORM.values() for s in v})
    sector = np.full(n, -1, dtype=np.int64)
    recruiter_levels = list(RECRUITER_BY_FORM["_other"])
    recruiter = np.zeros(n, dtype=np.int64)
    means_levels = [c for c in MEANS_OF_CONTROL if c != "Other"]
    means = np.zeros((n, len(means_levels)), dtype=bool)
    for f, name in enumerate(form_levels):
        idx = np.flatnonzero(form == f)
        if name in SECTOR_BY_FORM:
            dist = SECTOR_BY_FORM[name]
            pick = _categorical(rng, np.array(list(dist.values())), len(idx))
            sector[idx] = np.array([sector_levels.index(s) for s in dist])[pick]
        rdist = RECRUITER_BY_FORM.get(name, RECRUITER_BY_FORM["_other"])
        recruiter[idx] = _categorical(rng, np.array([rdist[k] for k in recruiter_levels]), len(idx))
        mdist = MEANS_BY_FORM.get(name, MEANS_BY_FORM["_other"])
        probs = np.array([mdist.get(c, 0.02) for c in means_levels])
        means[idx] = rng.random((len(idx), len(means_levels))) < probs
    # Transit route given citizenship.
    routes: list[list[str]] = [[]]
    route = np.zeros(n, dtype=np.int64)
    for c, cit in enumerate(cit_keys):
        options = TRANSIT_ROUTES.get(cit)
        if not options:
            continue
        idx = np.flatnonzero(citizenship == c)
        ids = []
        for path, _ in options:
            ids.append(len(routes))
            routes.append(list(path))
        pick = _categorical(rng, np.array([w for _, w in options]), len(idx))
        route[idx] = np.array(ids)[pick]
    transit = pc.take(pa.array(routes, pa.list_(pa.string())), pa.array(route))
    origin_region = np.where(foreign, -1, _categorical(rng, country.probabilities, n))
    # Names, phone and document.
    lang_keys = [LANGUAGE_OF[k] for k in cit_keys]
    sexes_for_names = np.array(
        ["female" if s == "Feminine" else "male" if s == "Masculine" else "x" for s in sex_levels]
    )
    name_sex = sexes_for_names[sex]
    coin = rng.random(n) < 0.5
    name_sex = np.where(name_sex == "x", np.where(coin, "female", "male"), name_sex)
    keys = [(lang, s) for lang in dict.fromkeys(lang_keys) for s in ("female", "male")]
    group = np.array([keys.index((lang_keys[c], "female")) for c in range(len(cit_keys))])
    given = draw(given_table, group[citizenship] + (name_sex == "male"), keys, rng)
    fam_keys = [(lang, "family") for lang in dict.fromkeys(lang_keys)]
    fgroup = np.array([fam_keys.index((lang_keys[c], "family")) for c in range(len(cit_keys))])
    family = draw(family_table, fgroup[citizenship], fam_keys, rng)
    phone = phone_numbers(rng, citizenship, cit_keys, foreign)
    document = document_numbers(rng, foreign)
    visibility = rng.normal(size=n)
    return Population(
        n=n,
        sex=sex,
        sex_levels=sex_levels,
        minor=minor,
        age=age,
        form=form,
        form_levels=form_levels,
        form_group=form_group,
        citizenship=citizenship,
        citizenship_levels=cit_levels,
        foreign=foreign,
        region=region,
        identified=identified,
        birth=birth,
        sector=sector,
        sector_levels=sector_levels,
        means=means,
        means_levels=means_levels,
        recruiter=recruiter,
        recruiter_levels=recruiter_levels,
        transit=transit,
        origin_region=origin_region,
        given=given,
        family=family,
        phone=phone,
        document=document,
        visibility=visibility,
    )


def digits(rng: np.random.Generator, n: int, k: int, alphabet: bytes = b"0123456789") -> pa.Array:
    """n random strings of k characters from ``alphabet`` (no Python loop)."""
    table = np.frombuffer(alphabet, dtype=np.uint8)
    chars = table[rng.integers(0, len(table), size=(n, k))]
    return pc.cast(
        pa.array(np.ascontiguousarray(chars).view(f"S{k}").ravel(), pa.binary()), pa.string()
    )


def phone_numbers(
    rng: np.random.Generator, citizenship: np.ndarray, cit_keys: list[str], foreign: np.ndarray
) -> pa.Array:
    """E.164 numbers: a local mobile, or (for 40% of foreign victims) a home-country one."""
    n = len(citizenship)
    home = foreign & (rng.random(n) < 0.4)
    codes = np.array([CALLING_CODES.get(k, DOMESTIC_CALLING_CODE) for k in cit_keys])
    prefix = np.where(home, np.char.add("+", codes[citizenship]), "+" + DOMESTIC_CALLING_CODE + "7")
    return pc.binary_join_element_wise(pa.array(prefix), digits(rng, n, 8), "")


def document_numbers(rng: np.random.Generator, foreign: np.ndarray) -> pa.Array:
    """Passport numbers (2 letters + 7 digits) for foreigners, ID cards (T + 8) for nationals."""
    n = len(foreign)
    letters = digits(rng, n, 2, b"ABCDEFGHJKLMNPRSTUVWXYZ")
    passport = pc.binary_join_element_wise(letters, digits(rng, n, 7), "")
    card = pc.binary_join_element_wise("T", digits(rng, n, 8), "")
    return pc.if_else(pa.array(foreign), passport, card)


def new_phones(rng: np.random.Generator, n: int) -> pa.Array:
    """Fresh local numbers (a victim's changed phone)."""
    return pc.binary_join_element_wise("+" + DOMESTIC_CALLING_CODE + "7", digits(rng, n, 8), "")
