"""Words for the codes the data carry: one place for every page.

* HTCDS 2.0 / CTDC codes (``ForcedLabour``, ``Feminine``...) get the codebook's label
  (``tiplab.records.codes``);
* ISO 3166-1 alpha-3 countries (``MAR``) and ISO 3166-2 subdivisions (``RO-CJ``) get their
  names from pycountry, in the language of the request where pycountry has a translation
  (its gettext catalogues: ``Maroc``, ``Marruecos``);
* the simulated demo country (``XTL``) and its regions (``XT-02``) get the names the
  simulator gave them (``Tiplandia``, ``Velora``).

A value that is not a known code is shown as it is; a missing one as "not recorded".
Exports keep the code in its own column (the label goes beside it, never instead).
"""

from __future__ import annotations

import gettext
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from tiplab.records import codes

#: field name -> code -> label
FIELD_CODES: dict[str, Any] = {
    "sex": codes.GENDER,
    "majority_status": codes.MAJORITY_STATUS,
    "exploitation_forms": codes.EXPLOITATION_FORMS,
    "exploitation_form": codes.EXPLOITATION_FORMS,
    "labour_sectors": codes.LABOUR_SECTORS,
    "sexual_exploitation_types": codes.SEXUAL_EXPLOITATION_TYPES,
    "means_of_control": codes.MEANS_OF_CONTROL,
    "recruiter_relation": codes.RECRUITER_RELATION,
    "trafficking_status": codes.TRAFFICKING_STATUS,
    "case_status": codes.CASE_STATUS,
}
COUNTRY_FIELDS = frozenset({"citizenship", "country_of_exploitation", "origin_country",
                            "country", "transit_countries", "origin", "destination"})
REGION_FIELDS = frozenset({"region_of_exploitation", "origin_region", "region"})


def not_recorded() -> str:
    return _("not recorded")


@lru_cache(maxsize=8)
def _catalogue(domain: str, language: str) -> gettext.NullTranslations:
    import pycountry

    return gettext.translation(domain, pycountry.LOCALES_DIR, languages=[language],
                               fallback=True)


def _translated(domain: str, name: str) -> str:
    language = (get_language() or "en").split("-")[0]
    return name if language == "en" else _catalogue(domain, language).gettext(name)


def _simulated() -> dict[str, str]:
    """The demo country's code and its regions' codes -> names (empty without the demo)."""
    from django.conf import settings

    regions = Path(settings.DATA_DIR) / "demo" / "country" / "regions.geojson"
    if not regions.exists():
        return {}
    return _simulated_of(str(regions), regions.stat().st_mtime)


@lru_cache(maxsize=2)
def _simulated_of(path: str, mtime: float) -> dict[str, str]:
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    out = {f["properties"]["code"]: f["properties"].get("name") or f["properties"]["code"]
           for f in doc.get("features", []) if f.get("properties", {}).get("code")}
    params = Path(path).parents[1] / "truth" / "parameters.json"
    if params.exists():
        chosen = json.loads(params.read_text(encoding="utf-8")).get("settings", {})
        if chosen.get("country_code"):
            out[chosen["country_code"]] = chosen.get("country_name") or chosen["country_code"]
    return out


def country(code: str) -> str:
    import pycountry

    simulated = _simulated()
    if code in simulated:
        return simulated[code]
    found = pycountry.countries.get(alpha_3=code.upper()) if len(code) == 3 else None
    if found is None:
        return code
    return _translated("iso3166-1", getattr(found, "common_name", None) or found.name)


def region(code: str) -> str:
    import pycountry

    simulated = _simulated()
    if code in simulated:
        return simulated[code]
    found = pycountry.subdivisions.get(code=code.upper()) if "-" in code else None
    return _translated("iso3166-2", found.name) if found is not None else code


def label(value: Any, field: str) -> str:
    """``value`` of ``field`` in words; lists are joined."""
    if value is None or value == "" or value == []:
        return not_recorded()
    if isinstance(value, list | tuple):
        return ", ".join(label(v, field) for v in value)
    text = str(value)
    if field in FIELD_CODES:
        return str(FIELD_CODES[field].get(text, text))
    if field in COUNTRY_FIELDS:
        return country(text)
    if field in REGION_FIELDS:
        return region(text)
    return text
