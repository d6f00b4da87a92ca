"""Write the National Action Plan indicator library shipped with tiplab from the reference.

Reads ``../shared/reference/nap_indicators.yaml`` (57 indicators grouped by pillar, with
definition, unit, direction, disaggregation, data source, frequency, legal basis and source)
and writes ``src/tiplab/policy/indicators/nap_indicators.yaml`` with the fields tiplab uses and
the reference's provenance kept. Run it again when the reference changes::

    .venv/bin/python scripts/indicators_from_reference.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "reference" / "nap_indicators.yaml"
TARGET = ROOT / "src" / "tiplab" / "policy" / "indicators" / "nap_indicators.yaml"
FIELDS = ("id", "pillar", "name", "definition", "unit", "direction", "disaggregation",
          "data_source", "frequency", "basis", "source")


def main() -> int:
    ref = yaml.safe_load(SOURCE.read_text(encoding="utf-8"))
    indicators = [{k: item[k] for k in FIELDS if k in item} for item in ref["indicators"]]
    four_p = ref["paradigm"]["four_p"]
    doc = {
        "meta": {
            "id": "nap_indicators",
            "version": ref["meta"]["version"],
            "written_from": "shared/reference/nap_indicators.yaml by "
                            "scripts/indicators_from_reference.py",
            "disaggregation_standard": ref["meta"]["disaggregation_standard"],
            "data_caveat": ref["meta"]["data_caveat"].strip(),
        },
        "pillars": [{"id": p["id"], "aim": p["aim"], "source": p["source"]}
                    for p in four_p["pillars"]],
        "variants": [{"id": v["id"], "label": v["label"], "pillars": v["pillars"],
                      "source": v["source"]} for v in ref["paradigm"]["variants"]],
        "indicators": indicators,
    }
    TARGET.write_text("# Written by scripts/indicators_from_reference.py; do not edit by hand.\n"
                      + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100),
                      encoding="utf-8")
    print(f"{TARGET.relative_to(ROOT)}: {len(indicators)} indicators")
    return 0


if __name__ == "__main__":
    sys.exit(main())
