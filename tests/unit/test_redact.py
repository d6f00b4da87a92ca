"""tiplab.privacy.redact: detection per kind and language, merging, offsets, idempotence,
the masked text never shows a gold span, and recall on the labelled set
(tests/results/redaction: the figures and how they were measured are in its README)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tiplab.cli import app
from tiplab.privacy.redact import (
    KINDS,
    Finding,
    Redaction,
    RedactionError,
    _merge,
    find,
    redact,
)

RESULTS = Path(__file__).resolve().parents[1] / "results" / "redaction"


def _measure_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("redaction_measure", RESULTS / "measure.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _labelled() -> list[dict[str, object]]:
    lines = (RESULTS / "labelled.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line]


def kinds_of(text: str, **kw: object) -> set[tuple[str, str]]:
    return {(f.kind, f.text) for f in find(text, **kw)}  # type: ignore[arg-type]


# --------------------------------------------------------------------------- per kind

@pytest.mark.parametrize(("text", "kind", "span"), [
    # phones: international, local, WhatsApp, several countries
    ("call me on +44 7700 900123 after 6pm", "phone", "+44 7700 900123"),
    ("my sister: 07700-900-456", "phone", "07700-900-456"),
    ("mon numéro c'est le 06 12 34 56 78", "phone", "06 12 34 56 78"),
    ("mi número es +34 612 345 678", "phone", "+34 612 345 678"),
    ("whatsapp +234 803 555 0192 only", "phone", "+234 803 555 0192"),
    ("tel. 0033 6 39 98 77 66", "phone", "0033 6 39 98 77 66"),
    ("phone 555-1234", "phone", "555-1234"),
    ("my mobile: +33 (0)6 39 98 11 22", "phone", "+33 (0)6 39 98 11 22"),
    # e-mail, URL, handle
    ("write to grace.okafor88@gmail.com today", "email", "grace.okafor88@gmail.com"),
    ("see https://bit.ly/3xYzAbC now", "url", "https://bit.ly/3xYzAbC"),
    ("the site www.jobs-abroad-now.co.uk said", "url", "www.jobs-abroad-now.co.uk"),
    ("profil facebook.com/jobs.uk.romania ici", "url", "facebook.com/jobs.uk.romania"),
    ("she posts as @lily_rose_22 there", "handle", "@lily_rose_22"),
    ("insta: maria.lopez.97", "handle", "maria.lopez.97"),
    # accounts
    ("IBAN GB29 NWBK 6016 1331 9268 19 weekly", "account", "GB29 NWBK 6016 1331 9268 19"),
    ("la cuenta ES91 2100 0418 4502 0005 1332", "account", "ES91 2100 0418 4502 0005 1332"),
    ("card 4539 1488 0343 6467 kept", "account", "4539 1488 0343 6467"),
    # documents, with a cue or of a document's shape
    ("he took my passport, the number was A05123987", "document", "A05123987"),
    ("passeport n° 19AB12345 confisqué", "document", "19AB12345"),
    ("mi DNI es 12345678Z", "document", "12345678Z"),
    ("NIE X1234567L, caducado", "document", "X1234567L"),
    ("ID card RO 4587123 still there", "document", "RO 4587123"),
    ("titre de séjour 9876543210 expiré", "document", "9876543210"),
    ("my nin is QQ123456C", "document", "QQ123456C"),
    # dates
    ("born 12/03/1998 in town", "date", "12/03/1998"),
    ("my date of birth is 3 March 1998", "date", "3 March 1998"),
    ("née le 12 mars 1998 à Abidjan", "date", "12 mars 1998"),
    ("nací el 3 de marzo de 1998", "date", "3 de marzo de 1998"),
    ("she was born on March 3rd, 1998", "date", "March 3rd, 1998"),
    ("born on 12 March, i think", "date", "12 March"),
    # addresses
    ("we lived at 14 Carlton Road with others", "address", "14 Carlton Road"),
    ("a house on 221B Baker Street for weeks", "address", "221B Baker Street"),
    ("j'habitais au 14 rue de la Paix à Paris", "address", "14 rue de la Paix"),
    ("vivíamos en la Calle Mayor 5, Madrid", "address", "Calle Mayor 5"),
    ("en c/ San Bernardo 12 vivíamos", "address", "c/ San Bernardo 12"),
    ("postcode B12 9QR", "address", "B12 9QR"),
    # names: cues, titles, gazetteer
    ("my name is amina and i am 19", "name", "amina"),
    ("je m'appelle Aïcha", "name", "Aïcha"),
    ("il s'appelle Moussa, c'est lui", "name", "Moussa"),
    ("me llamo Lucía y soy de aquí", "name", "Lucía"),
    ("se llama Wilmer, él cobraba", "name", "Wilmer"),
    ("Mrs Okonkwo from the church helped", "name", "Okonkwo"),
    ("la Sra. Fernández nos ayudó", "name", "Fernández"),
    ("M. Kouassi nous faisait travailler", "name", "Kouassi"),
    ("the boss was a man called Viorel, everyone feared him", "name", "Viorel"),
    ("case note: client Elena Ionescu, referred", "name", "Elena Ionescu"),
    ("le patron jean-pierre criait", "name", "jean-pierre"),
    ("my friend Tabitha still works there", "name", "Tabitha"),
    # places: gazetteer (countries, subdivisions, cities, in three languages) and cues
    ("i came from lagos in 2019", "place", "lagos"),
    ("we crossed Libya and then Italy", "place", "Libya"),
    ("on est passé par la Libye", "place", "Libye"),
    ("pasamos por Marruecos", "place", "Marruecos"),
    ("nací en Santa Cruz de la Sierra", "place", "Santa Cruz de la Sierra"),
    ("we landed in Lampedusa in september", "place", "Lampedusa"),
    ("from Edo State like me", "place", "Edo State"),
    ("a village called Ugbowo near the river", "place", "Ugbowo"),
    ("tenía un bazar en Usera", "place", "Usera"),
])
def test_finds_each_kind(text: str, kind: str, span: str) -> None:
    found = find(text)
    assert any(f.kind == kind and f.text == span for f in found), found


@pytest.mark.parametrize("text", [
    "we had 3 days off in 6 months",
    "they took £400 every week for rent",
    "i was 17 when it started, now i am 22",
    "i paid 3,500 euros for the journey",
    "it happened between 2017 and 2019",
    "i came in march and left in june",
    "In May we moved to a bigger house",
    "Will they deport me if I talk to you?",
    "mark the box if you need a lawyer",
    "grace and mercy of god kept me alive",
    "we started at 7:30 and finished after midnight",
    "I called 999 but nobody came",
    "le voyage a coûté 4 000 euros",
    "on était 4 filles dans 2 chambres",
    "la paz es lo que más quiero ahora",
    "el viaje costó 5.000 euros",
    "3 people on the road at night",
    "i worked 14 hours a day, 7 days a week",
])
def test_hard_negatives_find_nothing(text: str) -> None:
    assert find(text) == []


def test_everyday_word_names_need_evidence() -> None:
    assert find("will you help me? i can work may to september") == []
    assert ("name", "Grace") in kinds_of("ma fille Grace est restée au pays")
    assert ("name", "Grace Okafor") in kinds_of("we met Grace Okafor there")
    # a capitalised everyday word opening a sentence is not a name without a cue
    assert find("Hope is all we had") == []


def test_language_decides_which_words_are_everyday_words() -> None:
    text = "pregunta a rosa mañana"
    assert ("name", "rosa") in kinds_of(text, language="en")
    assert not any(k == "name" for k, _ in kinds_of(text, language="es"))


def test_place_after_a_preposition_is_a_place_not_a_surname() -> None:
    assert ("place", "Paris") in kinds_of("j'habitais à Paris avec lui")


def test_extra_names_and_places_match_whatever_their_case() -> None:
    text = "we met zarina near the old mill in the hamlet of greystone"
    plain = kinds_of(text)
    assert ("name", "zarina") not in plain
    extra = kinds_of(text, names=["Zarina"], places=["Greystone"])
    assert ("name", "zarina") in extra
    assert ("place", "greystone") in extra


def test_kinds_filter() -> None:
    text = "my name is Amina, call +44 7700 900123"
    assert {f.kind for f in find(text, kinds={"phone"})} == {"phone"}
    assert {f.kind for f in find(text, kinds=["name"])} == {"name"}


@pytest.mark.parametrize(("kw", "message"), [
    ({"kinds": {"phone", "shoe size"}}, "unknown kind"),
    ({"language": "de"}, "unknown language"),
    ({"names": "Amina"}, "list of strings"),
])
def test_bad_arguments_say_what_is_wrong(kw: dict[str, object], message: str) -> None:
    with pytest.raises(RedactionError, match=message):
        find("text", **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- merging, offsets

def test_mask_and_counts() -> None:
    r = redact("Call +44 7700 900123, ask for Mrs Okonkwo in Leicester.")
    assert r.text == "Call [PHONE], ask for Mrs [NAME] in [PLACE]."
    assert r.counts() == {"phone": 1, "name": 1, "place": 1}


def test_overlapping_findings_merge_longest_wins() -> None:
    text = "xx 221B Baker Street yy"
    # "Baker" is a surname and an extra name here, inside a longer address
    r = redact(text, names=["Baker"])
    assert r.text == "xx [ADDRESS] yy"
    assert [f.kind for f in r.findings] == ["address"]
    fs = [Finding(0, 5, "place", "", "gazetteer"), Finding(3, 12, "name", "", "cue"),
          Finding(20, 24, "phone", "", "pattern"), Finding(20, 24, "date", "", "pattern")]
    merged = _merge("a" * 30, fs)
    assert [(f.start, f.end, f.kind) for f in merged] == [(0, 12, "name"), (20, 24, "phone")]


def test_offsets_point_into_the_original_text() -> None:
    for row in _labelled():
        text = str(row["text"])
        r = redact(text)
        for f in r.findings:
            assert text[f.start:f.end] == f.text
        starts = [f.start for f in r.findings]
        assert starts == sorted(starts)
        assert all(a.end <= b.start for a, b in zip(r.findings, r.findings[1:], strict=False))


def test_redacting_a_redacted_text_finds_nothing_new() -> None:
    for row in _labelled():
        once = redact(str(row["text"]))
        assert find(once.text) == [], (row["id"], once.text)


_ALPHABET = st.characters(categories=("Lu", "Ll", "Nd", "Po", "Zs", "Pd"),
                          max_codepoint=0x24F)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=_ALPHABET, max_size=120))
def test_any_text_offsets_and_idempotence(text: str) -> None:
    r = redact(text)
    for f in r.findings:
        assert text[f.start:f.end] == f.text
        assert f.kind in KINDS
    assert find(r.text) == []


# --------------------------------------------------------------------------- the property

_GIVEN = st.sampled_from(["Amina", "Moussa", "Lucía", "Oksana", "Chidinma", "Wilmer", "Dritan",
                          "Nguyen", "Fatoumata", "Ioana", "Precious", "Yesenia"])
_FAMILY = st.sampled_from(["Okafor", "Diallo", "Ramírez", "Popescu", "Kovalenko", "Traoré",
                           "Hoxha", "Mensah", "Ortega"])
_PLACE = st.sampled_from(["Lagos", "Bamako", "Asunción", "Tripoli", "Marseille", "Bogotá",
                          "Kharkiv", "Benin City", "Romania", "Eritrea", "Marruecos"])


@st.composite
def _phone(draw: st.DrawFn) -> str:
    style = draw(st.sampled_from(["uk", "fr", "es", "intl"]))
    d = draw(st.lists(st.integers(0, 9), min_size=10, max_size=10))
    s = "".join(map(str, d))
    if style == "uk":
        return f"07{s[:3]} {s[3:9]}"
    if style == "fr":
        return f"06 {s[0:2]} {s[2:4]} {s[4:6]} {s[6:8]}"
    if style == "es":
        return f"+34 6{s[0:2]} {s[2:5]} {s[5:8]}"
    return f"+{draw(st.sampled_from(['44', '33', '234', '57']))} {s[:3]} {s[3:6]} {s[6:10]}"


@st.composite
def _email(draw: st.DrawFn) -> str:
    user = draw(st.from_regex(r"[a-z]{2,8}[._]?[a-z0-9]{0,6}", fullmatch=True))
    host = draw(st.sampled_from(["gmail.com", "yahoo.fr", "hotmail.es", "mail.co.uk"]))
    return f"{user}@{host}"


@st.composite
def _document(draw: st.DrawFn) -> tuple[str, str]:
    cue = draw(st.sampled_from(["passport", "passeport n°", "pasaporte", "DNI", "ID card",
                                "residence permit", "titre de séjour"]))
    code = draw(st.from_regex(r"[A-Z]{1,2}[0-9]{6,8}", fullmatch=True))
    return cue, code


@st.composite
def _texts(draw: st.DrawFn) -> tuple[str, list[str]]:
    given_, family, place = draw(_GIVEN), draw(_FAMILY), draw(_PLACE)
    phone, email = draw(_phone()), draw(_email())
    cue, code = draw(_document())
    day, year = draw(st.integers(1, 28)), draw(st.integers(1970, 2010))
    month = draw(st.sampled_from(["March", "mars", "marzo", "June", "juin", "junio"]))
    template = draw(st.sampled_from([
        ("my name is {g} {f}, i came from {p}. call {ph} or {em}. {cue} {code}, "
         "born {d} {m} {y}"),
        ("je m'appelle {g} {f}, je viens de {p}. appelez le {ph}, {em}. {cue} {code}, "
         "née le {d} {m} {y}"),
        ("me llamo {g} {f}, soy de {p}. llámame al {ph} o {em}. {cue} {code}, "
         "nací el {d} de {m} de {y}"),
        "case note: {g} {f} ({p}), {ph}, {em}; {cue} {code}; dob {d}/{mm}/{y}",
    ]))
    text = template.format(g=given_, f=family, p=place, ph=phone, em=email, cue=cue,
                           code=code, d=day, m=month, y=year, mm=f"{draw(st.integers(1, 12)):02d}")
    return text, [given_, family, place, phone, email, code]


@settings(max_examples=300, deadline=None)
@given(_texts())
def test_masked_text_never_contains_a_gold_span(case: tuple[str, list[str]]) -> None:
    text, gold = case
    masked = redact(text).text
    for span in gold:
        assert span not in masked, (span, masked)


# --------------------------------------------------------------------------- labelled set

#: Recall measured on the labelled set (tests/results/redaction/README.md: 1.000 overall
#: and for every kind after tuning) minus the margin stated there (0.03), and a floor of
#: 0.95 for every kind; precision overall at least 0.95.
OVERALL_RECALL_FLOOR = 0.97
KIND_RECALL_FLOOR = 0.95


def test_recall_on_the_labelled_set() -> None:
    m = _measure_module()
    report = m.measure(m.load())
    kinds = report["kinds"]
    assert kinds["overall"]["recall_masked"] >= OVERALL_RECALL_FLOOR, report["misses"]
    for kind in KINDS:
        assert kinds[kind]["gold"] > 0
        assert kinds[kind]["recall_masked"] >= KIND_RECALL_FLOOR, (kind, report["misses"])
    assert kinds["overall"]["precision_masked"] >= 0.95, report["stray"]
    assert len(report["negatives_with_findings"]) <= 3


def test_labelled_set_is_well_formed() -> None:
    rows = _labelled()
    assert len(rows) >= 200
    assert {r["language"] for r in rows} == {"en", "fr", "es"}
    for row in rows:
        for span in row["spans"]:  # type: ignore[attr-defined]
            assert str(row["text"])[span["start"]:span["end"]] == span["text"]
            assert span["kind"] in KINDS


# --------------------------------------------------------------------------- CLI

runner = CliRunner()


def test_cli_reads_stdin_and_prints_masked_text() -> None:
    res = runner.invoke(app, ["redact", "-"], input="call me on +44 7700 900123, i am Amina")
    assert res.exit_code == 0, res.output
    assert res.output == "call me on [PHONE], i am [NAME]\n"


def test_cli_json_and_extra_entries(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_text("met zarina in greystone", encoding="utf-8")
    res = runner.invoke(app, ["redact", str(path), "--json", "--names", "Zarina",
                              "--places", "Greystone, Elsewhere"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["text"] == "met [NAME] in [PLACE]"
    assert out["counts"] == {"name": 1, "place": 1}
    assert out["findings"][0] == {"start": 4, "end": 10, "kind": "name", "text": "zarina",
                                  "source": "gazetteer"}


@pytest.mark.parametrize(("args", "message"), [
    (["redact", "/no/such/file.txt", "--json"], "no such file"),
    (["redact", "-", "--kinds", "shoe", "--json"], "unknown kind"),
    (["redact", "-", "--language", "xx", "--json"], "unknown language"),
])
def test_cli_errors_are_one_json_object(args: list[str], message: str) -> None:
    res = runner.invoke(app, args, input="hello")
    assert res.exit_code == 2
    err = json.loads(res.output)["error"]
    assert message in err["message"]


def test_redaction_is_frozen() -> None:
    r = Redaction(text="x", findings=())
    with pytest.raises(AttributeError):
        r.text = "y"  # type: ignore[misc]
