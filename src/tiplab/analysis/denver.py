"""The University of Denver coding of US TIP-report route statements (2008-2016).

Source: ``shared/data/du_tip_directionality/Human_Traffic_data.csv`` (22,246 statements, one
per row; see that folder's README and codebook). Each row names two or three points of a
route: origin (``Origin_Country``, or ``Origin Country/Region`` in some year sheets - the two
are coalesced), an optional transit country and a destination. Labels are country names in
World Bank style ("Congo, Democratic Republic of") or regions ("Europe", "Gulf States");
``Flagged = X`` marks a region. Names resolve to ISO alpha-3 where possible; the others keep
their label (trimmed) and are marked ``*_is_country = false``. Counts from this source are
numbers of coded **statements** (report-year mentions), not victims.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tiplab.analysis.errors import InputDataError

#: Spellings of the DU coding that the general country resolver does not know.
DENVER_ALIASES: dict[str, str] = {
    "Congo, Democratic Republic of": "COD", "Congo, Democratic Republic of ": "COD",
    "Egypt, Arab Republic of": "EGY", "Yemen, Republic of": "YEM", "Taiwan, China": "TWN",
    "Gambia, The": "GMB", "Congo, Republic of": "COG", "Republic of Congo": "COG",
    "Laos, People's Democratic Republic": "LAO", "UAE": "ARE", "U.A.E.": "ARE",
    "U.A.E": "ARE", "Macedonia, Former Yugoslav Republic of": "MKD", "Bahamas, The": "BHS",
    "The Bahamas, The": "BHS", "The Netherlands": "NLD", "DPRK": "PRK", "D.P.R.K": "PRK",
    "D.R.C": "COD", "D.R.C.": "COD", "Congo (DRC)": "COD", "CAR": "CAF",
    "St. Maarten": "SXM", "Sovakia": "SVK", "St. Vincent and the Grenadines": "VCT",
    "Jaimaica": "JAM", "Phillipines": "PHL", "Korea, Republic of": "KOR",
    "Korea, Democratic People's Republic of": "PRK", "Iran, Islamic Republic of": "IRN",
}


def _resolve(labels: pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
    """(code or trimmed label, is_country) for a column of labels, one lookup per distinct."""
    from tiplab.records.countries import resolve_country

    trimmed = pc.utf8_trim_whitespace(labels).combine_chunks()
    enc = trimmed.dictionary_encode()
    dist = enc.dictionary.to_pylist()
    codes = []
    for lab in dist:  # distinct labels (a few hundred), not records
        code = DENVER_ALIASES.get(lab) or resolve_country(lab)
        codes.append(code)
    is_c = np.array([c is not None for c in codes] + [False])
    out = np.array([c or lab for c, lab in zip(codes, dist, strict=True)] + [None],
                   dtype=object)
    idx = enc.indices.fill_null(len(dist)).to_numpy(zero_copy_only=False)
    vals = out[idx]
    return pa.array(vals, pa.string()), pa.array(is_c[idx] & (vals != None))  # noqa: E711


def load_denver(path: str | Path, *, countries_only: bool = False) -> pa.Table:
    """The route statements as a table the route analysis takes.

    Columns: ``year``, ``origin_country``, ``transit_countries`` (list of 0 or 1),
    ``country_of_exploitation``, ``origin_label``, ``destination_label``,
    ``origin_is_country``, ``destination_is_country``, ``transit_is_country``, ``flagged``,
    ``victim_profile``, ``type_of_trafficking``, ``means``, ``trafficker``, ``sector`` (codes
    as text, see the README). ``countries_only`` drops statements whose points are regions.
    """
    p = Path(path)
    if not p.exists():
        raise InputDataError(f"{p}: Denver route coding not found")
    con = duckdb.connect()
    try:
        t = con.sql(f"""
            SELECT CAST(CAST(Years AS DOUBLE) AS BIGINT) AS year,
                   coalesce(Origin_Country, "Origin Country/Region") AS origin_label,
                   Transit_Country AS transit_label,
                   Destination_Country AS destination_label,
                   Flagged = 'X' AS flagged,
                   Victim_Profile AS victim_profile,
                   coalesce("Type of Trafficking", Type_Of_Trafficking) AS type_of_trafficking,
                   Means AS means,
                   coalesce(Trafficker, trafficker_1) AS trafficker,
                   Sector AS sector
            FROM read_csv('{p.as_posix()}', all_varchar = true, header = true)
        """).to_arrow_table()
    except duckdb.Error as exc:
        raise InputDataError(f"{p}: not the DU Human_Traffic_data.csv layout: {exc}") from exc
    finally:
        con.close()
    origin, o_is = _resolve(t.column("origin_label"))
    dest, d_is = _resolve(t.column("destination_label"))
    transit, t_is = _resolve(t.column("transit_label"))
    has_t = pc.is_valid(transit).to_numpy(zero_copy_only=False)
    offsets = np.concatenate([[0], np.cumsum(has_t)]).astype(np.int32)
    tlist = pa.ListArray.from_arrays(pa.array(offsets), transit.filter(pc.is_valid(transit)))
    out = pa.table({
        "year": t.column("year"),
        "origin_country": origin, "transit_countries": tlist,
        "country_of_exploitation": dest,
        "origin_label": t.column("origin_label"), "destination_label":
            t.column("destination_label"),
        "origin_is_country": o_is, "destination_is_country": d_is,
        "transit_is_country": t_is,
        "flagged": pc.fill_null(t.column("flagged"), False),
        "victim_profile": t.column("victim_profile"),
        "type_of_trafficking": t.column("type_of_trafficking"),
        "means": t.column("means"), "trafficker": t.column("trafficker"),
        "sector": t.column("sector"),
    })
    if countries_only:
        keep = pc.and_(pc.or_(o_is, pc.is_null(origin)), pc.or_(d_is, pc.is_null(dest)))
        keep = pc.and_(keep, pc.or_(t_is, pc.is_null(transit)))
        out = out.filter(keep)
    return out
