"""Every command fails cleanly: malformed inputs (generated) give exit code 2 with a message
naming the file, and with ``--json`` exactly one JSON error object - never a traceback.

Each command gets the same families of bad files - empty, header only, binary, wrong
encodings, wrong types, missing columns, huge values, degenerate tables - drawn by
hypothesis, in the argument where the command reads a file. A command may also succeed on
an input that happens to be valid (exit 0); what it may never do is crash.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tiplab.cli import app

HEADERS = ["A,B,C,count", "record_id,first_name,last_name,birth_date", "Iso3_code,Year,Value",
           "person_id,sources", "Case No,Registered,Sex"]
CELLS = st.one_of(st.just(""), st.just("abc"), st.just("1e308"), st.just("-5"),
                  st.just(str(10**30)), st.just("NaN"), st.just("0"), st.just("1"),
                  st.text(alphabet="01,;\"'x ", max_size=6))


@st.composite
def bad_files(draw: st.DrawFn) -> tuple[str, bytes]:
    """(file name, content) of one family of malformed input."""
    kind = draw(st.sampled_from(["empty", "header", "binary", "latin1", "utf16", "rows",
                                 "ragged", "disjoint"]))
    header = draw(st.sampled_from(HEADERS))
    width = header.count(",") + 1
    if kind == "empty":
        return "empty.csv", b""
    if kind == "header":
        return "header.csv", (header + "\n").encode()
    if kind == "binary":
        return "binary.csv", bytes(draw(st.lists(st.integers(0, 255), min_size=1,
                                                 max_size=300)))
    if kind in ("latin1", "utf16"):
        text = header + "\nÁngela,Müller,1,2\n"
        return f"{kind}.csv", text.encode("latin-1" if kind == "latin1" else "utf-16")
    if kind == "disjoint":  # lists that share no case
        return "disjoint.csv", b"A,B,C,count\n1,0,0,5\n0,1,0,7\n0,0,1,3\n"
    rows = draw(st.lists(st.lists(CELLS, min_size=width, max_size=width), min_size=1,
                         max_size=5))
    if kind == "ragged":
        rows = [r[: max(1, len(r) - 1)] for r in rows]
    body = "\n".join(",".join(r) for r in rows)
    return "rows.csv", (header + "\n" + body + "\n").encode()


#: command line per command, ``{file}`` where the bad file goes, ``{dir}`` a scratch folder
COMMANDS = {
    "estimate": ["estimate", "{file}", "--nboot", "0"],
    "estimate-sensitivity": ["estimate", "{file}", "--nboot", "0", "--sensitivity"],
    "link": ["link", "{file}", "{file2}", "--roles", "{roles}", "--out", "{dir}/out"],
    "trends": ["trends", "--file", "{file}", "--profile", "glotip"],
    "profiles": ["profiles", "--file", "{file}", "--profile", "{profile}"],
    "routes": ["routes", "--file", "{file}", "--profile", "{profile}"],
    "profile infer": ["profile", "infer", "{file}"],
    "profile check": ["profile", "check", "{file}"],
}

#: a case profile for the files above (columns Case No, Registered, Sex)
CASE_PROFILE = """\
profile: fuzz
kind: case
schema_version: '1.0'
source_agency: police
read: {format: csv, encoding: utf-8, delimiter: ','}
fields:
  record_id: Case No
  registration_date: {column: Registered, date_formats: ['%d.%m.%Y']}
  sex: {column: Sex, codes: {F: Feminine, M: Masculine}}
  majority_status: {value: Unknown}
  country_of_exploitation: {value: ROU}
"""

ROLES = """\
inputs:
  a:
    file: {file}
    record_id: record_id
    roles: {{first_name: first_name, last_name: last_name, birth_date: birth_date}}
  b:
    file: {file2}
    record_id: record_id
    roles: {{first_name: first_name, last_name: last_name, birth_date: birth_date}}
"""


#: commands without a --json option (they print YAML or text)
NO_JSON = {"profile infer"}


def _run(command: list[str], name: str, content: bytes, as_json: bool) -> tuple[int, str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        f = d / name
        f.write_bytes(content)
        f2 = d / f"second-{name}"
        f2.write_bytes(content)
        roles = d / "roles.yaml"
        roles.write_text(ROLES.format(file=f, file2=f2), encoding="utf-8")
        profile = d / "fuzz.yaml"
        profile.write_text(CASE_PROFILE, encoding="utf-8")
        args = [a.format(file=f, file2=f2, dir=d, roles=roles, profile=profile)
                for a in command]
        res = CliRunner().invoke(app, [*args, *(["--json"] if as_json else [])])
        return res.exit_code, res.stdout, res.exception


def _clean(code: int, out: str, exc: BaseException | None, as_json: bool, name: str) -> None:
    assert exc is None or isinstance(exc, SystemExit), f"crashed: {exc!r}"
    assert "Traceback" not in out
    assert code in (0, 2), f"exit {code}: {out[-500:]}"
    if code == 2 and as_json:
        lines = [ln for ln in out.splitlines() if ln.strip()]
        assert len(lines) == 1, out
        error = json.loads(lines[0])["error"]
        assert error["message"].strip()
        assert "Traceback" not in error["message"]
        assert name in error["message"] or "roles.yaml" in error["message"], error


@pytest.mark.parametrize("command", sorted(COMMANDS))
@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(bad=bad_files(), as_json=st.booleans())
def test_bad_input_fails_cleanly(command: str, bad: tuple[str, bytes], as_json: bool) -> None:
    name, content = bad
    as_json = as_json and command not in NO_JSON
    code, out, exc = _run(COMMANDS[command], name, content, as_json)
    _clean(code, out, exc, as_json, name)


@pytest.mark.django_db
@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(bad=bad_files(), as_json=st.booleans())
def test_bad_import_fails_cleanly(bad: tuple[str, bytes], as_json: bool) -> None:
    """The import reads the system of record (the database) before it validates."""
    name, content = bad
    code, out, exc = _run(["import", "{file}", "--profile", "glotip", "--dry-run",
                           "--data-dir", "{dir}"], name, content, as_json)
    _clean(code, out, exc, as_json, name)


def test_link_with_header_only_files_names_the_problem() -> None:
    """Was ZeroDivisionError: float division by zero."""
    code, out, exc = _run(COMMANDS["link"], "h.csv",
                          b"record_id,first_name,last_name,birth_date\n", True)
    assert code == 2, (out, exc)
    assert "no records to link" in json.loads(out)["error"]["message"]


def test_estimate_on_lists_that_share_no_case_says_why() -> None:
    """Was OverflowError: math range error (from the log-normal interval)."""
    code, out, exc = _run(COMMANDS["estimate"], "t.csv",
                          b"A,B,C,count\n1,0,0,5\n0,1,0,7\n", True)
    assert code == 2, (out, exc)
    message = json.loads(out)["error"]["message"]
    assert "no case is on more than one of the lists" in message


@pytest.mark.django_db
def test_trends_uses_the_only_source_present_and_says_so(tmp_path, shared_data) -> None:
    """`tiplab import ... --profile glotip --source unodc` then `tiplab trends --dataset
    glotip` found no 'UNODC GLOTIP' cells; now it uses the only source and notes it."""
    runner = CliRunner()
    glotip = shared_data / "unodc_glotip" / "data_glotip.csv"
    extract = tmp_path / "gbr.csv"
    lines = glotip.read_text(encoding="utf-8").splitlines()
    extract.write_text("\n".join([lines[0], *[ln for ln in lines[1:]
                                               if ln.startswith("GBR,")]]) + "\n",
                       encoding="utf-8")
    data = tmp_path / "data"
    done = runner.invoke(app, ["import", str(extract), "--profile", "glotip", "--source",
                               "unodc", "--data-dir", str(data)])
    assert done.exit_code == 0, done.stdout
    res = runner.invoke(app, ["trends", "--dataset", "glotip", "--country", "GBR",
                              "--data-dir", str(data), "--json"])
    assert res.exit_code == 0, res.stdout
    body = json.loads(res.stdout)
    assert any("'unodc'" in n for n in body["notes"])
    bad = runner.invoke(app, ["trends", "--dataset", "glotip", "--country", "GBR",
                              "--source-agency", "police", "--data-dir", str(data), "--json"])
    assert bad.exit_code == 2
    assert "the sources present are 'unodc'" in json.loads(bad.stdout)["error"]["message"]
