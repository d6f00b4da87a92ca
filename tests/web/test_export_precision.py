"""Exports carry figures at the precision the pages show them with, not float noise."""

from __future__ import annotations

import csv
import io

import pyarrow as pa

from tiplab_web.insights.analyses import rounded, to_csv


def test_each_kind_of_figure_keeps_its_published_precision() -> None:
    assert rounded("value", 12.0) == 12  # a count stays whole
    assert rounded("ci_low", 9.587213456) == 9.6  # the page shows one decimal
    assert rounded("rate", 3.14159) == 3.14
    assert rounded("change", 1.0833333333) == 1.083
    assert rounded("gi_q", 0.000012345678) == 0.00001235  # four significant digits, not 0.0
    assert rounded("population", 1234.6) == 1235
    assert rounded("anything_else", 0.123456) == 0.123
    assert rounded("region", "RO-B") == "RO-B"
    assert rounded("ci_high", float("nan")) != rounded("ci_high", float("nan"))  # left as is


def test_the_csv_has_no_float_noise_and_no_none() -> None:
    table = pa.table({"year": [2020, 2021], "value": [3.0, None],
                      "ci_low": [0.6186725, None], "rate": [1 / 3, float("nan")]})
    rows = list(csv.DictReader(io.StringIO(to_csv(table, "dv-x"))))
    assert rows[0] == {"year": "2020", "value": "3", "ci_low": "0.6", "rate": "0.33",
                       "data_version": "dv-x"}
    assert rows[1]["value"] == rows[1]["ci_low"] == rows[1]["rate"] == ""
