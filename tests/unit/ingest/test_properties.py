"""Property tests: random malformed input never crashes the importer and never loses a row."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tiplab.ingest import prepare_import

from .factories import HEADER, police_profile

# Values an agency export really contains, plus arbitrary text (controls, quotes, separators,
# other scripts, the replacement character).
cell = st.one_of(
    st.sampled_from(["", " ", "NA", "-", "31.12.2023", "31.13.2023", "2023-12-31", "F", "M",
                     "x", "Roumanie", "Atlantis", "17", "35", "-4", "1e3", "12.5", "yes",
                     "no", "sexual", "sexual,labour", "sexual,organs", "P-1", "\ufffd",
                     "01.01.2099", "Ştefan", "Олександр", "محمد"]),
    st.text(max_size=12),
)
record = st.lists(cell, min_size=len(HEADER), max_size=len(HEADER))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(rows=st.lists(record, min_size=1, max_size=25))
def test_random_rows_are_all_accounted_for(rows: list[list[str]]) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "f.csv"
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=";")
        w.writerow(HEADER)
        w.writerows(rows)
        path.write_text(buf.getvalue(), encoding="utf-8")
        p = prepare_import(path, police_profile(), "Police")
        r = p.result
        assert r.accepted.num_rows + r.rejected.num_rows == r.rows_read
        accepted = set(r.accepted.column("_row").to_pylist())
        rejected = set(r.rejected.column("row").to_pylist())
        assert not accepted & rejected
        # Every rejected row carries at least one error with a message naming its row.
        for rej in r.rejected.to_pylist():
            assert any(x["code"].startswith("E_") for x in rej["reasons"])
            assert all(x["message"].startswith(f"row {rej['row']}") for x in rej["reasons"])


@settings(max_examples=30, deadline=None)
@given(body=st.binary(max_size=400))
def test_arbitrary_bytes_never_crash(body: bytes) -> None:
    """Garbage either reads (and every row is accounted for) or fails with a ReadError."""
    from tiplab.errors import TiplabError

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "f.csv"
        path.write_bytes(";".join(HEADER).encode() + b"\n" + body)
        try:
            p = prepare_import(path, police_profile(), "Police")
        except TiplabError:
            return
        r = p.result
        assert r.accepted.num_rows + r.rejected.num_rows == r.rows_read
