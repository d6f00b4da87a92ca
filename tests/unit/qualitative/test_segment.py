"""Coding units: sentences, bullets and transcript turns with offsets into the note; and the
language of a note, from function words or its script."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tiplab.qualitative.segment import MODEL_LANGUAGES, detect_language, sentences


def units(text: str) -> list[str]:
    return [s.text for s in sentences(text)]


@pytest.mark.parametrize(("text", "expected"), [
    # abbreviations and numbers stay inside their sentence
    ("Mr. Smith met Dr. Jones on Monday. They paid £3.50 each. It was e.g. a hotel.",
     ["Mr. Smith met Dr. Jones on Monday.", "They paid £3.50 each.", "It was e.g. a hotel."]),
    ("He lived at No. 5 for a year. Then he left.",
     ["He lived at No. 5 for a year.", "Then he left."]),
    ("J. K. Rowling wrote it. It was 5 p.m. and dark.",
     ["J. K. Rowling wrote it.", "It was 5 p.m. and dark."]),
    # quotations: "?"/"!" inside a quote followed by a lower-case word does not end it
    ('He said "Go away!" and left. "Where are you going?" he asked. Then silence.',
     ['He said "Go away!" and left.', '"Where are you going?" he asked.', "Then silence."]),
    # informal lower-case notes still split
    ("i came in march. he took my passport. we slept on the floor",
     ["i came in march.", "he took my passport.", "we slept on the floor"]),
    ("and then... he left. Wait... Then it was over.",
     ["and then... he left.", "Wait...", "Then it was over."]),
    # transcript turns are units; the speaker label stays with its words
    ("Q: Where did you work?\nA: In a factory. They took my passport.\n"
     "Interviewer: And then?\nRespondent: I ran",
     ["Q: Where did you work?", "A: In a factory.", "They took my passport.",
      "Interviewer: And then?", "Respondent: I ran"]),
    ("Q: How old were you? A: Fifteen.", ["Q: How old were you?", "A: Fifteen."]),
    # bullets and headings; bullet markers are not part of the unit
    ("Notes:\n- passport taken\n- no pay for 3 months\n• locked in\n1. first item\n2) second",
     ["Notes:", "passport taken", "no pay for 3 months", "locked in", "first item",
      "second"]),
    ("Background\nShe came from a village near the coast.",
     ["Background", "She came from a village near the coast."]),
    # hard-wrapped lines of one paragraph are joined; a blank line separates paragraphs
    ("This is a long hard-wrapped line of a paragraph that goes on for a while and\n"
     "continues on the next line.\n\nA new paragraph without a full stop\n\nAnother",
     ["This is a long hard-wrapped line of a paragraph that goes on for a while and\n"
      "continues on the next line.", "A new paragraph without a full stop", "Another"]),
    # Spanish and French punctuation
    ("¿Dónde estabas? ¡Ven aquí! Me dijo que no.",
     ["¿Dónde estabas?", "¡Ven aquí!", "Me dijo que no."]),
    ("Il m'a dit « viens ! » et je suis partie. Où es-tu ? Je suis là.",
     ["Il m'a dit « viens ! » et je suis partie.", "Où es-tu ?", "Je suis là."]),
    ("see www.jobs-abroad.co.uk for details. ok", ["see www.jobs-abroad.co.uk for details.",
                                                   "ok"]),
    ("", []), ("   \n\n  ---  \n", []),
])
def test_units(text, expected):
    assert units(text) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab Q:A.?!\n-•\"«» ¿¡3")), max_size=80))
def test_offsets_point_into_the_text_in_order(text):
    spans = sentences(text)
    for s in spans:
        assert text[s.start:s.end] == s.text
        assert s.text == s.text.strip()
        assert any(ch.isalnum() for ch in s.text)
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))


@pytest.mark.parametrize(("text", "code"), [
    ("He took my passport and I was not paid for three months.", "en"),
    ("Il a pris mon passeport et je n'ai pas été payée pendant trois mois.", "fr"),
    ("Me quitó el pasaporte y no me pagaron durante tres meses.", "es"),
    ("Ele tirou o meu passaporte e não me pagaram durante três meses.", "pt"),
    ("Er hat meinen Pass genommen und ich wurde drei Monate nicht bezahlt.", "de"),
    ("Mi ha preso il passaporto e non sono stata pagata per tre mesi.", "it"),
    ("Hij nam mijn paspoort af en ik werd drie maanden niet betaald.", "nl"),
    ("Он забрал мой паспорт и три месяца мне не платили.", "ru"),
    ("Він забрав мій паспорт і три місяці мені не платили.", "uk"),
    ("أخذ جواز سفري ولم يدفعوا لي لمدة ثلاثة أشهر", "ar"),
    ("他拿走了我的护照，三个月没有付钱给我。", "zh"),
    ("彼は私のパスポートを取り上げました。", "ja"),
    ("그는 내 여권을 가져갔고 석 달 동안 돈을 주지 않았다.", "ko"),
])
def test_languages(text, code):
    guess = detect_language(text)
    assert guess.code == code
    assert guess.confidence >= 0.5
    assert guess.supported == (code in MODEL_LANGUAGES)


@pytest.mark.parametrize("text", [
    "", "hello", "ok thanks", "Amina, Lagos, 2019",   # too short
    "Ana are mere si pere multe in gradina mare.",   # Romanian: not a profiled language
    "12345 67890 !!! ???",
])
def test_unsure_or_too_short_gives_none(text):
    guess = detect_language(text)
    assert guess.code is None
    assert not guess.supported
    assert guess.confidence < 0.5


def test_only_english_is_supported_by_the_model():
    assert MODEL_LANGUAGES == ("en",)
    long_en = ("The recruiter promised her a job in a hotel. When she arrived they took "
               "her passport and told her she owed them for the flight.")
    assert detect_language(long_en).supported
