"""Privacy-preserving mode: no identifier leaves the agency; keys make encodings unlinkable."""

from __future__ import annotations

import string

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from factories import link_inputs
from test_link import _src, person_of

from conftest import HAND_PAIRS, KEY_A, KEY_B, hand_inputs
from tiplab.linkage import (
    EncodingError,
    EncodingSettings,
    LinkInput,
    LinkResult,
    encode,
    evaluate_clusters,
    link,
    load_key,
)
from tiplab.linkage.encode import qgrams, with_registration_windows, write_encoded
from tiplab.linkage.standardise import clean_text, standardise


def _dice(a: bytes | None, b: bytes | None) -> float:
    x = np.unpackbits(np.frombuffer(a or b"", np.uint8))
    y = np.unpackbits(np.frombuffer(b or b"", np.uint8))
    return 2 * float((x & y).sum()) / float(x.sum() + y.sum())


def test_encoded_output_reveals_no_clear_identifier(dataset, tmp_path) -> None:  # type: ignore[no-untyped-def]
    inp = link_inputs(dataset)[0]
    enc = encode(inp, KEY_A)  # type: ignore[arg-type]
    path = tmp_path / "enc.parquet"
    write_encoded(enc, path)
    raw = path.read_bytes()
    csv_path = tmp_path / "enc.csv"
    write_encoded(enc, csv_path)
    raw_csv = csv_path.read_bytes().lower()
    std = standardise(inp)  # type: ignore[arg-type]
    t = inp.arrow()  # type: ignore[attr-defined]
    clear_values: set[str] = set()
    for _role, col in inp.roles.items():  # type: ignore[attr-defined]
        clear_values |= {str(v) for v in t.column(col).to_pylist() if v}
    for c in ("given", "family", "dob", "phone8", "doc", "place"):
        clear_values |= {str(v) for v in std.column(c).to_pylist() if v}
    # values that could not occur by chance inside hex digests: 4+ chars, not all hex digits
    hexdigits = set("0123456789abcdefABCDEF")
    long_values = {v for v in clear_values if len(v) >= 4 and not set(v) <= hexdigits}
    assert len(long_values) > 1000
    for v in long_values:
        assert v.encode() not in raw, v
        if not set(v) <= set(string.ascii_letters + string.digits + "+/="):
            # base64 text can hold any short run of letters/digits by chance
            assert v.lower().encode() not in raw_csv, v
    # no string cell of the encoded table is a clear value or a name q-gram
    grams = {
        g
        for v in std.column("given").to_pylist() + std.column("family").to_pylist()
        if v
        for g in qgrams(v)
    }
    cells: set[str] = set()
    for name in enc.column_names:
        if pa.types.is_string(enc.schema.field(name).type) and not name.startswith("attr_"):
            cells |= {v for v in enc.column(name).to_pylist() if v}
    assert not cells & (clear_values | grams)
    # only the record id and declared non-identifying attributes travel in clear
    assert set(enc.column_names) - {
        c for c in enc.column_names if c.endswith("_bf") or c.startswith("attr_")
    } == {
        "record_id",
        "given_ph",
        "family_ph",
        "dob",
        "dob_swap",
        "dob_ym",
        "dob_year",
        "sex",
        "citizenship",
        "phone8",
        "doc",
        "region",
        "by_lo",
        "by_hi",
        "form",
        "recruiter",
        "means",
        *(f"reg_w{w}{g}" for w in (30, 180, 730) for g in "ab"),
    }
    assert pq.read_schema(path).metadata[b"tiplab.encoding"]


def test_same_name_same_filter_and_swap_key_sharing() -> None:
    t = pa.table(
        {
            "id": ["1", "2", "3"],
            "g": ["Олександр", "Oleksandr", "Petrenko"],
            "f": ["Petrenko", "Petrenko", "Oleksandr"],
        }
    )
    enc = encode(LinkInput("s", t, "id", {"first_name": "g", "last_name": "f"}), KEY_A)
    g = enc.column("given_bf").to_pylist()
    f = enc.column("family_bf").to_pylist()
    assert g[0] == g[1]  # transliterated before encoding
    assert g[0] == f[2]
    assert f[0] == g[2]
    assert enc.column("given_ph")[0] == enc.column("family_ph")[2]


def test_two_keys_give_unlinkable_encodings(dataset) -> None:  # type: ignore[no-untyped-def]
    inp = link_inputs(dataset)[0]
    a = encode(inp, KEY_A)  # type: ignore[arg-type]
    b = encode(inp, KEY_B)  # type: ignore[arg-type]
    ga, gb = a.column("family_bf").to_pylist(), b.column("family_bf").to_pylist()
    n = 300
    same_person = np.mean([_dice(ga[i], gb[i]) for i in range(n) if ga[i] and gb[i]])
    rng = np.random.default_rng(0)
    j = rng.permutation(n)
    random_pairs = np.mean([_dice(ga[i], gb[j[i]]) for i in range(n) if ga[i] and gb[j[i]]])
    same_key = np.mean([_dice(ga[i], ga[i]) for i in range(n) if ga[i]])
    assert same_key == 1.0
    assert abs(same_person - random_pairs) < 0.03, (same_person, random_pairs)
    for col in ("dob", "phone8", "given_ph", "sex"):
        assert not set(a.column(col).to_pylist()) - {None} & set(b.column(col).to_pylist())


def test_dice_orders_names_by_similarity() -> None:
    t = pa.table({"id": ["1", "2", "3"], "f": ["Petrenko", "Petrenco", "Okafor"]})
    bf = encode(LinkInput("s", t, "id", {"last_name": "f"}), KEY_A).column("family_bf").to_pylist()
    assert _dice(bf[0], bf[1]) > 0.7 > 0.4 > _dice(bf[0], bf[2])


def test_blip_and_fold_options() -> None:
    t = pa.table({"id": [str(i) for i in range(50)], "f": ["Petrenko"] * 50})
    inp = LinkInput("s", t, "id", {"last_name": "f"})
    folded = encode(inp, KEY_A, EncodingSettings(fold=True)).column("family_bf").to_pylist()
    assert len(folded[0]) == 64
    blip = (
        encode(inp, KEY_A, EncodingSettings(flip_probability=0.02), rng=np.random.default_rng(1))
        .column("family_bf")
        .to_pylist()
    )
    assert len(set(blip)) > 1  # flips are drawn per record
    assert min(_dice(blip[0], x) for x in blip[1:]) > 0.8


def test_key_file_checks(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "short").write_text("abcd")
    with pytest.raises(EncodingError, match="at least 32"):
        load_key(tmp_path / "short")
    (tmp_path / "hex").write_text("ab" * 32 + "\n")
    assert load_key(tmp_path / "hex") == bytes.fromhex("ab" * 32)


def test_inputs_under_different_keys_are_refused(dataset) -> None:  # type: ignore[no-untyped-def]
    h = hand_inputs()
    a = LinkInput("a", encode(h[0], KEY_A), encoded=True)
    b = LinkInput("b", encode(h[1], KEY_B), encoded=True)
    with pytest.raises(EncodingError, match="different key"):
        link([a, b])


@pytest.mark.parametrize(("left", "right", "same"), HAND_PAIRS)
def test_hand_built_cases_encoded(
    encoded_result: LinkResult, left: str, right: str, same: bool
) -> None:
    pid = person_of(encoded_result)
    assert (pid[(_src(left), left)] == pid[(_src(right), right)]) is same


def test_encoded_f1_within_003_of_clear(
    encoded_result: LinkResult, clear_result: LinkResult, dataset
) -> None:  # type: ignore[no-untyped-def]
    qe = evaluate_clusters(encoded_result.clusters, dataset.truth)
    qc = evaluate_clusters(clear_result.clusters, dataset.truth)
    assert qe.pairwise_f1 >= qc.pairwise_f1 - 0.03, (qe.to_text(), qc.to_text())
    assert encoded_result.mode == "encoded"


def test_clean_text_is_what_gets_encoded() -> None:
    assert clean_text("Nguyễn") == "nguyen"


def test_registration_windows_share_a_window_only_when_close() -> None:
    # two grids offset by half a window: dates <= W/2 apart always share a window of one
    # grid, dates more than W apart never share one
    days = list(range(0, 400))
    std = with_registration_windows(pa.table({"reg_day": pa.array(days, pa.int32())}))
    for w in (30, 180):
        a = std.column(f"reg_w{w}a").to_pylist()
        b = std.column(f"reg_w{w}b").to_pylist()
        for i in range(0, 400, 7):
            for j in range(i, 400, 5):
                shared = a[i] == a[j] or b[i] == b[j]
                if j - i <= w // 2:
                    assert shared, (w, i, j)
                if j - i > w:
                    assert not shared, (w, i, j)


def test_birth_years_and_windows_are_hashed_not_clear() -> None:
    inp = LinkInput(
        "hotline",
        pa.table(
            {
                "id": ["h1", "h2"],
                "name": ["Ana Pop", "Ion Rus"],
                "age": ["30", None],
                "called": ["2020-03-01", "2021-07-09"],
            }
        ),
        "id",
        {"full_name": "name", "age": "age", "registration_date": "called"},
    )
    enc = encode(inp, KEY_A)
    assert enc.column("by_lo").null_count == 1  # no age, no birth year
    values = {v for c in ("by_lo", "by_hi", "reg_w30a") for v in enc.column(c).to_pylist() if v}
    assert len(values) == 4
    assert all(len(v) == 32 for v in values)
    assert not values & {"1989", "1990", "2020-03-01"}
    # birth years share one key: the same year hashes alike as lo and as hi
    twin = encode(
        LinkInput("x", pa.table({"id": ["x"], "dob": ["1989-05-05"]}), "id", {"birth_date": "dob"}),
        KEY_A,
    )
    assert twin.column("by_lo")[0].as_py() == enc.column("by_lo")[0].as_py()
