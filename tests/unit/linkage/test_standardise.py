import pyarrow as pa
import pytest

from tiplab.linkage import LinkInput, RolesError
from tiplab.linkage.standardise import clean_text, phonetic_key, split_full_name, standardise


@pytest.mark.parametrize(
    ("variants"),
    [
        ["Mohammed", "Muhammad", "Mohamed", "محمد"],
        ["Олександр", "Oleksandr", "Aleksandr", "Александр", "Sasha"],
        ["Yusuf", "Youssef", "Iusuf"],
        ["Ioana", "Yoana"],
    ],
)
def test_transliteration_variants_share_a_phonetic_key(variants: list[str]) -> None:
    keys = {phonetic_key(clean_text(v)) for v in variants}
    assert len(keys) == 1, keys


def test_different_names_get_different_keys() -> None:
    assert phonetic_key("petrenko") != phonetic_key("popescu")


@pytest.mark.parametrize(
    ("full", "given", "family"),
    [
        ("PETRENKO, Olena", "olena", "petrenko"),
        ("Anna PETRENKO", "anna", "petrenko"),
        ("PETRENKO Anna Maria", "anna maria", "petrenko"),
        ("Mohammed Al Hassan", "mohammed", "al hassan"),
        ("Thi Lan Nguyen", "thi lan", "nguyen"),
        ("Okafor", None, "okafor"),
    ],
)
def test_split_full_name(full: str, given: str | None, family: str) -> None:
    assert split_full_name(full) == (given, family)


def _std(**cols: list[str | None]) -> dict[str, list[object]]:
    n = len(next(iter(cols.values())))
    t = pa.table({"id": [str(i) for i in range(n)], **cols})
    roles = {"birth_date": "dob"} if "dob" in cols else {}
    for role, col in (
        ("sex", "sex"),
        ("citizenship", "nat"),
        ("phone", "tel"),
        ("document_number", "doc"),
    ):
        if col in cols:
            roles[role] = col
    out = standardise(LinkInput("s", t, "id", roles, ["%d.%m.%Y"]))
    return out.to_pydict()


def test_birth_dates_full_partial_and_swapped() -> None:
    d = _std(
        dob=[
            "05.03.1990",
            "1990-03-05",
            "1988",
            "1988-07",
            "07/1988",
            "31/12/2001",
            "garbage",
            None,
        ]
    )
    assert d["dob"] == ["1990-03-05", "1990-03-05", None, None, None, "2001-12-31", None, None]
    assert d["dob_swap"][:2] == ["1990-05-03", "1990-05-03"]
    assert d["dob_swap"][5] is None  # day 31 cannot be a month
    assert d["dob_ym"] == ["1990-03", "1990-03", None, "1988-07", "1988-07", "2001-12", None, None]
    assert d["dob_year"] == [1990, 1990, 1988, 1988, 1988, 2001, None, None]


def test_sex_citizenship_phone_document() -> None:
    d = _std(
        sex=["Homme", "female", "W", "жен", "x"],
        nat=["Україна", "Syria", "VNM", "Roumanie", "Atlantis"],
        tel=["+380 67 123 4567", "067-123-4567", "12", None, "(0)800 1234 5678"],
        doc=["ab 123456", "AB-123456", "x1", None, "P 0099"],
    )
    assert d["sex"] == ["M", "F", "F", "F", None]
    assert d["citizenship"] == ["UKR", "SYR", "VNM", "ROU", None]
    assert d["phone8"] == ["71234567", "71234567", None, None, "12345678"]
    assert d["doc"] == ["AB123456", "AB123456", None, None, "P0099"]


def test_missing_column_is_named_with_a_fix() -> None:
    t = pa.table({"id": ["1"], "name": ["x"]})
    with pytest.raises(RolesError, match=r"role first_name -> 'fname'.*Fix the roles"):
        standardise(LinkInput("police", t, "id", {"first_name": "fname"}))


def test_empty_record_id_is_rejected() -> None:
    t = pa.table({"id": ["1", None], "name": ["x", "y"]})
    with pytest.raises(RolesError, match="record-id column 'id' has empty values"):
        standardise(LinkInput("police", t, "id", {"first_name": "name"}))


def test_registration_date_age_and_region_gazetteer() -> None:
    inp = LinkInput(
        "hotline",
        pa.table(
            {
                "id": ["h1", "h2", "h3"],
                "called": ["03/01/2020", "12/31/2021", None],
                "age": ["30", "17", "25"],
                "dob": [None, "2004-06-01", None],
                "loc": ["Velora", "XT-02", "  velora "],
            }
        ),
        "id",
        {"registration_date": "called", "age": "age", "birth_date": "dob", "region": "loc"},
        registration_date_formats=["%m/%d/%Y"],
        codes={"region": {"Velora": "XT-01", "Morholm": "XT-02"}},
    )
    t = standardise(inp).to_pylist()
    # 2020-03-01 is day 18322 since 1970-01-01 (month first, as declared)
    assert [r["reg_day"] for r in t] == [18322, 18992, None]
    # an age of 30 on 2020-03-01: born in 1989 or 1990; a birth date wins over an age;
    # no registration date, no birth year from the age
    assert [(r["by_lo"], r["by_hi"]) for r in t] == [(1989, 1990), (2004, 2004), (None, None)]
    # the region's name and code compare equal after the gazetteer
    assert [r["region"] for r in t] == ["xt 01", "xt 02", "xt 01"]


def test_year_attribute_from_a_registration_date() -> None:
    inp = LinkInput(
        "police",
        pa.table({"id": ["p1", "p2"], "reg": ["31.12.2019", "2021"]}),
        "id",
        {},
        attributes={"year": "reg"},
        registration_date_formats=["%d.%m.%Y"],
    )
    assert standardise(inp).column("attr_year").to_pylist() == [2019, 2021]


def test_case_characteristics_map_to_codes_across_vocabularies() -> None:
    """Two agencies' labels for one form compare equal after the roles file's codes; several
    forms become a sorted set; "unknown" says nothing."""
    police = LinkInput(
        "police",
        pa.table(
            {
                "id": ["p1", "p2", "p3", "p4"],
                "offence": ["Sex trafficking", "Labor trafficking | Sex trafficking", None, "x"],
                "rec": ["Family", "Unknown", "Intimate Partner", "  family "],
            }
        ),
        "id",
        {"exploitation_form": "offence", "recruiter_relation": "rec"},
        codes={
            "exploitation_form": {
                "Sex trafficking": "SexualExploitation",
                "Labor trafficking": "ForcedLabour",
            },
            "recruiter_relation": {
                "Family": "Familial",
                "Intimate Partner": "IntimatePartner",
                "Unknown": "Unknown",
            },
        },
    )
    ngo = LinkInput(
        "ngo",
        pa.table({"id": ["n1"], "forme": ["Exploitation sexuelle"], "rel": ["Famille"]}),
        "id",
        {"exploitation_form": "forme", "recruiter_relation": "rel"},
        codes={
            "exploitation_form": {"Exploitation sexuelle": "SexualExploitation"},
            "recruiter_relation": {"Famille": "Familial"},
        },
    )
    p = standardise(police).to_pylist()
    n = standardise(ngo).to_pylist()
    assert [r["form"] for r in p] == [
        "sexualexploitation",
        "forcedlabour|sexualexploitation",
        None,
        "x",
    ]
    assert [r["recruiter"] for r in p] == ["familial", None, "intimatepartner", "familial"]
    assert (n[0]["form"], n[0]["recruiter"]) == (p[0]["form"], p[0]["recruiter"])


def test_case_characteristics_are_optional() -> None:
    t = standardise(LinkInput("a", pa.table({"id": ["1"]}), "id", {})).to_pylist()
    assert (t[0]["form"], t[0]["recruiter"]) == (None, None)


def test_means_of_control_from_a_list_or_from_flag_columns() -> None:
    """One agency writes the means as a list, another as one 0/1 column per means: both give
    the same set of codes; a row with every flag empty is missing, all zeros is none."""
    listed = LinkInput(
        "ngo",
        pa.table({"id": ["n1", "n2"], "moyens": ["Menaces | Servitude pour dettes", None]}),
        "id",
        {"means_of_control": "moyens"},
        codes={"means_of_control": {"Menaces": "PhysicalThreats",
                                    "Servitude pour dettes": "DebtBondage"}},
    )
    flagged = LinkInput(
        "hotline",
        pa.table(
            {
                "id": ["h1", "h2", "h3"],
                "debt": [1, None, 0],
                "threats": [1, None, 0],
                "drugs": [0, None, 0],
            }
        ),
        "id",
        {},
        flags={
            "means_of_control": {
                "debt": "DebtBondage",
                "threats": "PhysicalThreats",
                "drugs": "PsychoactiveSubstance",
            }
        },
    )
    n = [r["means"] for r in standardise(listed).to_pylist()]
    h = [r["means"] for r in standardise(flagged).to_pylist()]
    assert n == ["debtbondage|physicalthreats", None]
    assert h == ["debtbondage|physicalthreats", None, None]


def test_a_missing_flag_column_is_named() -> None:
    inp = LinkInput("hotline", pa.table({"id": ["1"]}), "id", {},
                    flags={"means_of_control": {"debt": "DebtBondage"}})
    with pytest.raises(RolesError, match="flag means_of_control -> 'debt'"):
        standardise(inp)
