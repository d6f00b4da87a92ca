"""Profiles: shipped ones load; mistakes name the line and the field; YAML 1.1 traps."""

from __future__ import annotations

from pathlib import Path

import pytest

from tiplab.errors import ProfileError
from tiplab.ingest import builtin_profiles, infer_profile, load_profile, parse_profile

BASE = "profile: p\nkind: case\nfields:\n  record_id: id\n  registration_date: date\n"


def test_every_shipped_profile_is_valid() -> None:
    shipped = builtin_profiles()
    assert "glotip" in shipped
    for name in shipped:
        assert load_profile(name).profile == name


@pytest.mark.parametrize(
    ("extra", "line", "field", "message"),
    [
        ("  sexx: s\n", 6, "sexx", "not a field of the case schema"),
        ("  sex: {column: s, codes: {M: Male}}\n", 6, "sex", "'Male' is not a code"),
        ("  age: {column: a, split: ';'}\n", 6, "age", "'split' fits only multi-value"),
        ("  sex: {column: a, value: b}\n", 6, "sex", "give exactly one of"),
        ("  registration_date: {column: d, date_formats: [dd.mm.yyyy]}\n", 6,
         "registration_date", "has no % directive"),
    ],
)
def test_profile_errors_name_line_and_field(extra: str, line: int, field: str,
                                            message: str) -> None:
    with pytest.raises(ProfileError) as err:
        parse_profile(BASE + extra, path="p.yaml")
    e = err.value
    assert e.line == line
    assert e.field == field
    assert message in str(e)
    assert str(e).startswith(f"p.yaml, line {line}, field '{field}'")


def test_missing_required_field_and_bad_yaml() -> None:
    with pytest.raises(ProfileError, match="required fields not mapped: registration_date"):
        parse_profile("profile: p\nfields:\n  record_id: id\n")
    with pytest.raises(ProfileError, match=r"line \d") as err:
        parse_profile("profile: p\nfields: [x\n")
    assert "not valid YAML" in str(err.value)


def test_yaml_norway_problem_is_avoided() -> None:
    p = parse_profile(BASE + "  citizenship: {column: c, codes: {NO: NOR, Y: YEM}}\n"
                             "  sex: {column: s, codes: {Y: Feminine, 010: Masculine}}\n")
    assert p.fields["citizenship"].codes == {"NO": "NOR", "Y": "YEM"}
    assert p.fields["sex"].codes == {"Y": "Feminine", "010": "Masculine"}


def test_unknown_profile_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ProfileError, match=r"shipped profiles: .*glotip"):
        load_profile("nope")


def test_infer_drafts_a_profile_that_parses(tmp_path: Path) -> None:
    path = tmp_path / "ngo.csv"
    path.write_text("N° dossier,Date enregistrement,Sexe,Nationalité,Exploitation\n"
                    "A1,31/12/2023,Femme,Roumanie,sexuelle\nA2,15/01/2024,Homme,Nigéria,\n",
                    encoding="utf-8")
    text = infer_profile(path, "ngo")
    assert "registration_date:" in text
    assert '"%d/%m/%Y"' in text
    assert '"Femme": Feminine' in text
    assert '"Homme": Masculine' in text
    assert "citizenship:" in text
    assert 'column: "N° dossier"' in text  # "n° dossier" is a French synonym of record id
    assert "# not mapped yet (add to codes): sexuelle" in text
    p = parse_profile(text)
    assert p.fields["sex"].codes["Femme"] == "Feminine"
    assert p.fields["record_id"].column == "N° dossier"


def test_infer_says_what_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("foo,bar\n1,2\n", encoding="utf-8")
    text = infer_profile(path)
    assert "REQUIRED: map record_id" in text
    assert "REQUIRED: map registration_date" in text
    assert "# Columns not used: foo, bar" in text
