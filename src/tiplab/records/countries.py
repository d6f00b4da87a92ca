"""Country and subdivision code lookups: ISO 3166-1 and ISO 3166-2 via pycountry.

Agencies write countries every way there is: ``RO``, ``ROU``, ``642``, ``Romania``,
``Roumanie``, ``Rumänien``, ``Румыния``. :func:`country_lookup_table` builds one table of
normalised spellings -> alpha-3 from pycountry's codes, names, official and common names and
its gettext translations in the languages listed in :data:`NAME_LANGUAGES`, so the importer
resolves every value in one vectorised join. Ambiguous spellings (the same text naming two
countries in different languages) are dropped rather than guessed.
"""

from __future__ import annotations

import gettext
import unicodedata
from functools import lru_cache

import pyarrow as pa
import pycountry

#: Languages whose country names are recognised (UN official languages plus the main
#: languages of origin and destination countries in trafficking flows).
NAME_LANGUAGES: tuple[str, ...] = (
    "en", "fr", "es", "ar", "ru", "zh_CN", "pt", "de", "it", "nl", "ro", "bg", "uk", "pl",
    "cs", "sk", "hu", "el", "tr", "sq", "sr", "hr", "sl", "lt", "lv", "et", "fi", "sv", "da",
    "nb", "vi", "th", "id", "ms", "tl", "hi", "bn", "ur", "fa", "sw", "am", "ha", "yo", "ne",
)

#: Common English spellings that pycountry does not carry.
EXTRA_NAMES: dict[str, str] = {
    "uk": "GBR", "great britain": "GBR", "england": "GBR", "scotland": "GBR", "wales": "GBR",
    "northern ireland": "GBR", "britain": "GBR", "usa": "USA", "us": "USA",
    "united states of america": "USA", "america": "USA", "russia": "RUS",
    "south korea": "KOR", "north korea": "PRK", "vietnam": "VNM", "laos": "LAO",
    "syria": "SYR", "iran": "IRN", "moldova": "MDA", "tanzania": "TZA", "bolivia": "BOL",
    "venezuela": "VEN", "czech republic": "CZE", "ivory coast": "CIV", "cote d'ivoire": "CIV",
    "burma": "MMR", "macedonia": "MKD", "swaziland": "SWZ", "cape verde": "CPV",
    "drc": "COD", "dr congo": "COD", "democratic republic of the congo": "COD",
    "republic of the congo": "COG", "congo": "COG", "kosovo": "XKX", "taiwan": "TWN",
    "palestine": "PSE", "turkey": "TUR", "turkiye": "TUR", "holland": "NLD",
    "brunei": "BRN", "micronesia": "FSM", "vatican": "VAT", "east timor": "TLS",
    "the gambia": "GMB", "gambia": "GMB", "the bahamas": "BHS", "bahamas": "BHS",
    "kyrgyzstan": "KGZ", "slovakia": "SVK", "china, hong kong sar": "HKG", "hong kong": "HKG",
    "macau": "MAC", "macao": "MAC", "bosnia": "BIH", "st lucia": "LCA", "st kitts and nevis": "KNA",
}

#: Codes that are not in ISO 3166-1 but are in common use (user-assigned range).
EXTRA_CODES: dict[str, str] = {"XKX": "Kosovo", "XK": "Kosovo"}

#: Values that mean "unknown country" in the standards (CTDC writes 00).
UNKNOWN_COUNTRY_VALUES: frozenset[str] = frozenset({"00", "zz", "zzz", "xxx", "unknown"})


def normalise(text: str) -> str:
    """Fold case, accents, punctuation and spacing so spellings compare equal."""
    for quote in ("\u2019", "\u2018", "`", "\u00b4"):
        text = text.replace(quote, "'")
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    kept = kept.casefold().replace("&", " and ")
    out = []
    for ch in kept:
        out.append(ch if (ch.isalnum() or ch == "'") else " ")
    return " ".join("".join(out).split())


@lru_cache(maxsize=1)
def country_names() -> dict[str, str]:
    """Every recognised spelling (normalised) -> ISO 3166-1 alpha-3."""
    candidates: dict[str, set[str]] = {}

    def add(spelling: str | None, alpha3: str) -> None:
        if spelling:
            candidates.setdefault(normalise(spelling), set()).add(alpha3)

    translations = []
    for lang in NAME_LANGUAGES:
        try:
            translations.append(gettext.translation("iso3166-1", pycountry.LOCALES_DIR,
                                                    languages=[lang]))
        except OSError:
            continue
    for c in pycountry.countries:
        a3 = c.alpha_3
        for attr in ("name", "official_name", "common_name"):
            value = getattr(c, attr, None)
            add(value, a3)
            if value:
                for t in translations:
                    add(t.gettext(value), a3)
    # Translations give priority over nothing; codes and curated extras override all.
    out = {k: next(iter(v)) for k, v in candidates.items() if len(v) == 1}
    for c in pycountry.countries:
        out[c.alpha_2.casefold()] = c.alpha_3
        out[c.alpha_3.casefold()] = c.alpha_3
        out[str(int(c.numeric))] = c.alpha_3
        out[c.numeric] = c.alpha_3
    for spelling, a3 in EXTRA_NAMES.items():
        out[normalise(spelling)] = a3
    out["xk"] = "XKX"
    out["xkx"] = "XKX"
    return out


def resolve_country(value: str) -> str | None:
    """Return the alpha-3 code for one spelling, or None when it is not recognised."""
    return country_names().get(normalise(value))


def is_country_code(alpha3: str) -> bool:
    return pycountry.countries.get(alpha_3=alpha3) is not None or alpha3 in EXTRA_CODES


def country_name(alpha3: str) -> str:
    c = pycountry.countries.get(alpha_3=alpha3)
    if c is not None:
        return str(getattr(c, "common_name", None) or c.name)
    return EXTRA_CODES.get(alpha3, alpha3)


def country_lookup_table() -> pa.Table:
    """The spelling -> alpha-3 table the importer joins against."""
    names = country_names()
    return pa.table({"key": list(names.keys()), "alpha3": list(names.values())})


@lru_cache(maxsize=1)
def subdivision_codes() -> dict[str, str]:
    """ISO 3166-2 subdivision code -> alpha-3 of its country."""
    out: dict[str, str] = {}
    for s in pycountry.subdivisions:
        country = pycountry.countries.get(alpha_2=s.country_code)
        if country is not None:
            out[s.code] = country.alpha_3
    return out
