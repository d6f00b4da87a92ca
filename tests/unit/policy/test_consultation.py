"""The consultation core: parts of a plan, amendment diffs, participation, the report."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tiplab.policy import consultation as core
from tiplab.policy import questionnaires as qs
from tiplab.policy.plan import demo_plan, plan_from_dict

PLAN = {
    "id": "nap", "title": "Plan", "country": "Utopia", "period": [2025, 2027],
    "narrative": "# Context\nTrafficking is rising.\n\nThe plan has four pillars.",
    "objectives": [{"id": "O1", "pillar": "protection", "title": "Support victims",
                    "description": "Every victim gets help.",
                    "measures": [{"id": "M1", "title": "Shelter places", "type": "protection",
                                  "description": "Open 200 shelter places."}]}],
}


def test_units_cover_narrative_objectives_and_measures_in_order():
    parts = core.units(plan_from_dict(PLAN))
    assert [u.key for u in parts] == ["narrative:1", "narrative:2", "objective:O1", "measure:M1"]
    assert parts[0].title == "Context"
    assert parts[3].text == "Open 200 shelter places."
    assert parts[3].objective == 'O1'
    assert parts[3].pillar == 'protection'


def test_units_of_the_demo_plan_have_unique_keys():
    parts = core.units(demo_plan())
    assert len(parts) == len({u.key for u in parts}) >= 20


def test_word_diff_marks_removed_and_added_words():
    d = core.word_diff("train 200 inspectors", "train 400 labour inspectors")
    assert d == [("same", "train "), ("del", "200"), ("ins", "400 labour"),
                 ("same", " inspectors")]
    assert core.diff_html("a <b>", "a <c>") == "a <del>&lt;b&gt;</del><ins>&lt;c&gt;</ins>"


words = st.lists(st.sampled_from(["a", "b", "shelter", "200", "\n", "é"]), max_size=12).map(
    " ".join)


@given(words, words)
def test_word_diff_rebuilds_both_texts(old, new):
    d = core.word_diff(old, new)
    assert "".join(t for op, t in d if op != "ins") == old
    assert "".join(t for op, t in d if op != "del") == new


def test_participation_names_who_was_not_heard():
    invited = [("Police", "law_enforcement"), ("Court", "judiciary"), ("NGO A", "ngo"),
               ("NGO B", "ngo"), ("", "survivor_board")]
    rows = [core.Participant("Police", "law_enforcement", "comment", "measure:M1"),
            core.Participant("Police", "law_enforcement", "amendment", "measure:M1"),
            core.Participant("NGO A", "ngo", "reply", "objective:O1"),
            core.Participant("NGO A", "ngo", "reaction"),
            core.Participant("", "survivor_board", "survivor", "measure:M1")]
    p = core.participation(invited, rows, ["objective:O1", "measure:M1", "narrative:1"])
    by = {g.group: g for g in p.groups}
    assert by['law_enforcement'].comments == 1
    assert by['law_enforcement'].amendments == 1
    assert by['ngo'].heard == ['NGO A']
    assert by['ngo'].not_heard == ['NGO B']
    assert by['ngo'].reactions == 1
    assert by['ngo'].replies == 1
    assert by["survivor_board"].anonymous_inputs == 1
    assert p.not_heard_groups == ["judiciary"]
    assert p.uncommented_units == 1
    assert p.by_unit["measure:M1"] == {"law_enforcement": 2, "survivor_board": 1}
    assert [g.group for g in p.groups] == ["law_enforcement", "judiciary", "ngo",
                                           "survivor_board"]


def test_report_csv_and_html_carry_answers_and_revisions():
    rows = [core.ReportRow(1, "measure:M1", "M1 Shelter", "ngo", "NGO A", "amendment",
                           "More places", suggested="Open 400 places.",
                           original="Open 200 places.", support=3, outcome="partly",
                           reason="300 places", revision="version 2, revision 5"),
            core.ReportRow(2, "measure:M1", "M1 Shelter", "survivor_board", "", "comment",
                           "<script>alert(1)</script>", survivor=True)]
    text = core.report_csv(rows)
    got = list(csv.DictReader(io.StringIO(text)))
    assert got[0]['answer'] == 'Partly accepted'
    assert got[0]['plan_revision'].endswith('5')
    assert got[1]['answer'] == 'not yet answered'
    assert got[1]['survivor_input'] == 'yes'
    html = core.report_html(core.ReportMeta("C", "P", "v1", "2026-01-01", "2026-02-01"), rows)
    assert '<script>' not in html
    assert '&lt;script&gt;' in html
    assert "<del>200</del><ins>400</ins>" in html
    assert "changed in version 2, revision 5" in html


def test_questionnaires_read_and_tally_with_small_counts_hidden():
    q = qs.get("support-services")
    answers = qs.read_answers(q, {"q_received": ["shelter", "legal"], "q_safe": "4",
                                  "q_advice": " listen "})
    assert answers == {"received": ["shelter", "legal"], "safe": 4, "advice": "listen"}
    many = [answers] * 6 + [{"received": ["health"], "safe": 2}]
    t = {x.question.id: x for x in qs.tally(q, many)}
    counts = dict(t["received"].counts)
    assert counts['A safe place to stay'] == '6'
    assert counts['Medical or psychological care'] == '<5'
    assert counts["No help"] == "0"
    assert round(t["safe"].mean, 2) == round((4 * 6 + 2) / 7, 2)


def test_questionnaire_answers_out_of_range_are_refused_by_question():
    q = qs.get("barriers-to-justice")
    with pytest.raises(qs.QuestionnaireError) as caught:
        qs.read_answers(q, {"q_treated": "9", "q_contact": "maybe"})
    assert len(caught.value.problems) == 2


def test_every_shipped_questionnaire_is_in_three_languages():
    for q in qs.shipped().values():
        assert set(q.title) == {"en", "fr", "es"}
        for question in q.questions:
            assert set(question.text) == {"en", "fr", "es"}, question.id
            for o in question.options:
                assert set(o.text) == {"en", "fr", "es"}, (question.id, o.id)


def test_a_group_reached_only_through_codes_is_not_heard_until_an_input_comes_back():
    p = core.participation([("", "public"), ("", "survivor_board")],
                           [core.Participant("", "survivor_board", "survivor", "measure:M1")])
    assert p.not_heard_groups == ["public"]


def test_the_pdf_report_is_drawn_with_every_contribution():
    rows = [core.ReportRow(i, f"measure:M{i % 3}", f"M{i % 3}", "ngo", "NGO", "comment",
                           f"Comment {i} " + "é" * 40) for i in range(300)]
    pdf = core.report_pdf(core.ReportMeta("C", "P", "v1", "2026-01-01", "2026-02-01"), rows)
    assert pdf.startswith(b"%PDF")
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") >= 5
