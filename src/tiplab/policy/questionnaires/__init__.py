"""Structured questionnaires that survivors answer anonymously through one-time codes (core;
no Django). Each is a YAML file in this package with its wording in English, French and
Spanish: questions of four types — ``single`` (one option), ``multi`` (any options),
``scale`` (a whole number between ``min`` and ``max``) and ``text`` (free text, redacted before
anyone reads it). Every question is optional.

:func:`read_answers` checks a submitted form against the questionnaire (unknown options and
out-of-range numbers are refused with the question named); :func:`tally` counts approved
answers per option with small counts hidden (fewer than ``min_cell`` shows as ``<min_cell``),
so a results page never singles out one person's choices.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from tiplab.errors import ProblemsError

LANGUAGES = ("en", "fr", "es")
TYPES = ("single", "multi", "scale", "text")
#: longest free-text answer accepted (characters)
MAX_TEXT = 4000


class QuestionnaireError(ProblemsError):
    """A questionnaire file or a submitted answer that does not fit it."""


@dataclass(frozen=True)
class Option:
    id: str
    text: dict[str, str]


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: dict[str, str]
    options: tuple[Option, ...] = ()
    min: int = 1
    max: int = 5

    def label(self, lang: str) -> str:
        return self.text.get(lang) or self.text["en"]

    def option_label(self, option_id: str, lang: str) -> str:
        for o in self.options:
            if o.id == option_id:
                return o.text.get(lang) or o.text["en"]
        return option_id


@dataclass(frozen=True)
class Questionnaire:
    key: str
    title: dict[str, str]
    intro: dict[str, str]
    questions: tuple[Question, ...] = field(default_factory=tuple)

    def t(self, what: str, lang: str) -> str:
        d = getattr(self, what)
        return str(d.get(lang) or d["en"])


def _texts(raw: Any, where: str, problems: list[str]) -> dict[str, str]:
    if not isinstance(raw, Mapping) or not raw.get("en"):
        problems.append(f"{where}: needs an English text (en), and fr/es where translated")
        return {"en": ""}
    return {k: str(v) for k, v in raw.items() if k in LANGUAGES and v}


def parse(data: Any, source: str = "questionnaire") -> Questionnaire:
    problems: list[str] = []
    if not isinstance(data, Mapping):
        raise QuestionnaireError([f"{source}: expected a mapping with key, title, questions"])
    questions: list[Question] = []
    seen: set[str] = set()
    for i, q in enumerate(data.get("questions") or [], start=1):
        where = f"{source}: question {i}"
        qid = str(q.get("id", ""))
        if not qid or qid in seen:
            problems.append(f"{where}: needs a unique id")
        seen.add(qid)
        qtype = q.get("type")
        if qtype not in TYPES:
            problems.append(f"{where} ({qid}): type must be one of {', '.join(TYPES)}")
        options = tuple(Option(str(o["id"]), _texts(o.get("text"), f"{where} option", problems))
                        for o in q.get("options") or [])
        if qtype in ("single", "multi") and len(options) < 2:
            problems.append(f"{where} ({qid}): a {qtype} question needs two options or more")
        questions.append(Question(qid, str(qtype), _texts(q.get("text"), where, problems),
                                  options, int(q.get("min", 1)), int(q.get("max", 5))))
    if not questions:
        problems.append(f"{source}: no questions")
    if problems:
        raise QuestionnaireError(problems)
    return Questionnaire(str(data["key"]), _texts(data.get("title"), f"{source}: title", []),
                         _texts(data.get("intro", {"en": " "}), f"{source}: intro", []),
                         tuple(questions))


@cache
def shipped() -> dict[str, Questionnaire]:
    """The questionnaires shipped with tiplab, by key."""
    out: dict[str, Questionnaire] = {}
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            q = parse(yaml.safe_load(entry.read_text(encoding="utf-8")), entry.name)
            out[q.key] = q
    return out


def get(key: str) -> Questionnaire:
    try:
        return shipped()[key]
    except KeyError:
        raise QuestionnaireError([f"no questionnaire {key!r}; there are: "
                                  + ", ".join(shipped())]) from None


def read_answers(q: Questionnaire, form: Mapping[str, Any]) -> dict[str, Any]:
    """The answers in ``form`` (``q_<id>`` fields; lists for ``multi``), checked. Unanswered
    questions are left out. Raises :class:`QuestionnaireError` naming each bad question."""

    def values(name: str) -> list[str]:
        getlist = getattr(form, "getlist", None)
        raw = getlist(name) if getlist else form.get(name, [])
        if isinstance(raw, str):
            raw = [raw]
        return [str(v).strip() for v in raw or [] if str(v).strip()]

    out: dict[str, Any] = {}
    problems: list[str] = []
    for question in q.questions:
        got = values(f"q_{question.id}")
        if not got:
            continue
        valid = {o.id for o in question.options}
        if question.type == "single":
            if len(got) > 1 or got[0] not in valid:
                problems.append(f"question “{question.label('en')}”: choose one of the options")
            else:
                out[question.id] = got[0]
        elif question.type == "multi":
            bad = [g for g in got if g not in valid]
            if bad:
                problems.append(f"question “{question.label('en')}”: unknown choice")
            else:
                out[question.id] = sorted(set(got), key=[o.id for o in question.options].index)
        elif question.type == "scale":
            try:
                n = int(got[0])
            except ValueError:
                n = question.min - 1
            if not question.min <= n <= question.max:
                problems.append(f"question “{question.label('en')}”: a number from "
                                f"{question.min} to {question.max}")
            else:
                out[question.id] = n
        else:
            text = got[0]
            if len(text) > MAX_TEXT:
                problems.append(f"question “{question.label('en')}”: at most {MAX_TEXT} "
                                "characters")
            else:
                out[question.id] = text
    if problems:
        raise QuestionnaireError(problems)
    return out


@dataclass(frozen=True)
class Tally:
    question: Question
    answered: int
    counts: list[tuple[str, str]]  # (label, count text: a number or "<5")
    mean: float | None = None


def tally(q: Questionnaire, answers: Iterable[Mapping[str, Any]], lang: str = "en", *,
          min_cell: int = 5) -> list[Tally]:
    """Counts per option (``single``, ``multi``) and the mean of ``scale`` questions over the
    approved answers; a count below ``min_cell`` is shown as ``<min_cell`` (and a mean only
    from ``min_cell`` answers up). Free-text questions are read one by one, after review."""
    rows = list(answers)
    out: list[Tally] = []
    for question in q.questions:
        given = [a[question.id] for a in rows if question.id in a]
        if question.type == "text":
            out.append(Tally(question, len(given), []))
            continue
        if question.type == "scale":
            mean = sum(given) / len(given) if len(given) >= min_cell else None
            c = Counter(given)
            counts = [(str(v), _cell(c.get(v, 0), min_cell))
                      for v in range(question.min, question.max + 1)]
            out.append(Tally(question, len(given), counts, mean))
            continue
        c = Counter()
        for g in given:
            for v in (g if isinstance(g, list) else [g]):
                c[v] += 1
        counts = [(question.option_label(o.id, lang), _cell(c.get(o.id, 0), min_cell))
                  for o in question.options]
        out.append(Tally(question, len(given), counts))
    return out


def _cell(n: int, min_cell: int) -> str:
    return str(n) if n == 0 or n >= min_cell else f"<{min_cell}"
