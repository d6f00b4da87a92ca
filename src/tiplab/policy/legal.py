"""Legal-framework assessment: instruments, assessments, scores, gaps and harmonisation.

An **instrument** is a versioned checklist of what a national law should contain (the
Palermo Protocol, the Council of Europe Convention, the EU Directive, the US TVPA minimum
standards ship as package data; a user can add their own). An **assessment** answers every item
for one country on one date (yes / partial / no / not applicable / unknown) with its evidence:
the statute, the article, a quoted excerpt and a link. From it come

* scores per level (core, required, recommended), per section and overall, with the share of
  items assessed;
* **gaps**: every ``no`` or ``partial`` item with what it is, why it matters, the article it
  rests on and a suggested action (the plan turns gaps into measures);
* changes since the previous assessment;
* the **harmonisation** of several countries: items x countries, the items where they diverge,
  and for each pair the items one covers and the other does not (the cross-border loopholes);
  and the rank correlation of the scores with external ratings (3P index, US TIP tiers).

Scoring (docs/assessment.md): yes = 1, partial = 0.5, no = 0, averaged over the items
assessed, 0-100; the overall score weights core items 3, required 2, recommended 1.
``not_applicable`` leaves an item out of both the score and the coverage; ``unknown`` counts as
not assessed.

Usage::

    from tiplab.policy.legal import builtin_instruments, load_assessment, score
    palermo = builtin_instruments()["palermo"]
    a = load_assessment("gbr-2026.yaml", palermo)
    score(palermo, a).overall
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from itertools import combinations
from pathlib import Path
from typing import Any

import yaml

from tiplab.errors import ProblemsError

ANSWERS = ("yes", "partial", "no", "not_applicable", "unknown")
ANSWER_LABELS = {"yes": "Yes", "partial": "Partly", "no": "No",
                 "not_applicable": "Not applicable", "unknown": "Not assessed"}
#: the value of an answer in a score; not_applicable and unknown have none
VALUE = {"yes": 1.0, "partial": 0.5, "no": 0.0}
LEVELS = ("core", "required", "recommended")
LEVEL_WEIGHT = {"core": 3.0, "required": 2.0, "recommended": 1.0}
WHY = {
    "core": "Part of the definition of the offence: without it conduct the standard requires "
            "to be criminalised falls outside the law, and victims of it are not recognised.",
    "required": "A binding obligation of the instrument ('shall'): not meeting it is "
                "non-compliance that monitoring bodies report.",
    "recommended": "A soft obligation ('shall consider', 'shall endeavour'): good practice "
                   "that peers and monitoring bodies expect.",
}
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,79}$")


class LegalError(ProblemsError):
    """An instrument or assessment is malformed; the message names the file, line and field."""


# -- instruments ------------------------------------------------------------------------------

class _Document:
    """YAML form and content digest of a document that has ``to_dict``."""

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=100)

    @property
    def digest(self) -> str:
        body = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Item:
    id: str
    label: str
    question: str
    level: str
    article: str
    section: str
    why: str = ""
    note: str = ""
    action: str = ""

    @property
    def why_text(self) -> str:
        return self.why or WHY[self.level]

    @property
    def action_text(self) -> str:
        if self.action:
            return self.action
        if self.level == "core":
            return (f"Amend the trafficking offence so that it covers: {self.label} "
                    f"({self.article}).")
        if self.level == "required":
            return (f"Adopt the law or regulation this obligation requires: {self.label} "
                    f"({self.article}).")
        return f"Consider adopting: {self.label} ({self.article})."


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Instrument(_Document):
    id: str
    version: int
    title: str
    short_title: str
    source: str
    answer_scale: tuple[str, ...]
    sections: tuple[Section, ...]
    builtin: bool = False

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    @property
    def items(self) -> list[Item]:
        return [i for s in self.sections for i in s.items]

    def item(self, item_id: str) -> Item:
        for i in self.items:
            if i.id == item_id:
                return i
        raise KeyError(item_id)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "version": self.version, "title": self.title,
                "short_title": self.short_title, "source": self.source,
                "answer_scale": list(self.answer_scale),
                "sections": [{"id": s.id, "title": s.title,
                              "items": [{k: v for k, v in asdict(i).items()
                                         if k != "section" and v != ""} for i in s.items]}
                             for s in self.sections]}


def _line(node: yaml.Node | None) -> int | None:
    return None if node is None else node.start_mark.line + 1


def _child(node: yaml.Node | None, key: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if getattr(k, "value", None) == key:
                return v if isinstance(v, yaml.Node) else None
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
        found = node.value[key]
        return found if isinstance(found, yaml.Node) else None
    return None


def _where(node: yaml.Node | None, path: str) -> str:
    line = _line(node)
    return f"line {line}, field '{path}'" if line is not None else f"field '{path}'"


def _parse(source: str | Path, name: str | None) -> tuple[yaml.Node | None, Any, str | None,
                                                          Path | None]:
    """YAML text, or a file named by a path: its node tree, data, name and path."""
    from tiplab.policy.files import read_yaml

    return read_yaml(source, name, lambda problems, where: LegalError(problems, path=where))


def load_instrument(source: str | Path, *, name: str | None = None,
                    builtin: bool = False) -> Instrument:
    """Read and validate an instrument from a YAML file or text.

    Every problem is reported at once, each with its line and field (``sections[2].items[0]
    .level``); nothing is returned unless the whole instrument is valid."""
    root, data, name, _path = _parse(source, name)
    problems: list[str] = []
    if not isinstance(data, dict):
        raise LegalError(["an instrument is a mapping with id, version, title and sections"],
                         path=name)

    def need(node: Any, d: dict[str, Any], key: str, path: str) -> str:
        v = d.get(key)
        if v is None or (isinstance(v, str) and not v.strip()):
            problems.append(f"{_where(node, path)}: missing (required)")
            return ""
        if not isinstance(v, str | int | float):
            problems.append(f"{_where(_child(node, key), path)}: must be text")
            return ""
        return str(v).strip()

    iid = need(root, data, "id", "id")
    if iid and not _ID.match(iid):
        problems.append(f"{_where(_child(root, 'id'), 'id')}: {iid!r} is not a valid id "
                        "(letters, digits, '.', '_', '-'; at most 80)")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        problems.append(f"{_where(_child(root, 'version') or root, 'version')}: must be a whole "
                        f"number from 1 (got {version!r})")
        version = 1
    title = need(root, data, "title", "title")
    scale = data.get("answer_scale", list(ANSWERS))
    scale_node = _child(root, "answer_scale")
    if not isinstance(scale, list) or not all(isinstance(a, str) for a in scale):
        problems.append(f"{_where(scale_node, 'answer_scale')}: must be a list of answers")
        scale = list(ANSWERS)
    for k, a in enumerate(scale):
        if a not in ANSWERS:
            problems.append(f"{_where(_child(scale_node, k), f'answer_scale[{k}]')}: unknown "
                            f"answer {a!r} (expected one of {', '.join(ANSWERS)})")
    for a in ("yes", "no", "unknown"):
        if a not in scale:
            problems.append(f"{_where(scale_node, 'answer_scale')}: must include {a!r}")
    known = {"id", "version", "title", "short_title", "source", "answer_scale", "sections"}
    for k in data:
        if k not in known:
            problems.append(f"{_where(_child(root, k), str(k))}: unknown field "
                            f"(expected {', '.join(sorted(known))})")
    sections_raw = data.get("sections")
    sections_node = _child(root, "sections")
    sections: list[Section] = []
    seen_items: dict[str, str] = {}
    seen_sections: set[str] = set()
    if not isinstance(sections_raw, list) or not sections_raw:
        problems.append(f"{_where(sections_node or root, 'sections')}: at least one section "
                        "with items is required")
        sections_raw = []
    item_fields = {"id", "label", "question", "level", "article", "why", "note", "action"}
    for si, sec in enumerate(sections_raw):
        snode = _child(sections_node, si)
        spath = f"sections[{si}]"
        if not isinstance(sec, dict):
            problems.append(f"{_where(snode, spath)}: a section is a mapping with id, title, "
                            "items")
            continue
        sid = need(snode, sec, "id", f"{spath}.id")
        if sid in seen_sections:
            problems.append(f"{_where(_child(snode, 'id'), f'{spath}.id')}: section {sid!r} "
                            "appears twice")
        seen_sections.add(sid)
        stitle = need(snode, sec, "title", f"{spath}.title")
        items_raw = sec.get("items")
        inode = _child(snode, "items")
        if not isinstance(items_raw, list) or not items_raw:
            problems.append(f"{_where(inode or snode, f'{spath}.items')}: a section needs at "
                            "least one item")
            continue
        items: list[Item] = []
        for ii, it in enumerate(items_raw):
            node = _child(inode, ii)
            ipath = f"{spath}.items[{ii}]"
            if not isinstance(it, dict):
                problems.append(f"{_where(node, ipath)}: an item is a mapping with id, label, "
                                "question, level, article")
                continue
            for k in it:
                if k not in item_fields:
                    problems.append(f"{_where(_child(node, k), f'{ipath}.{k}')}: unknown field "
                                    f"(expected {', '.join(sorted(item_fields))})")
            item_id = need(node, it, "id", f"{ipath}.id")
            if item_id and not _ID.match(item_id):
                problems.append(f"{_where(_child(node, 'id'), f'{ipath}.id')}: {item_id!r} is "
                                "not a valid id")
            if item_id in seen_items:
                problems.append(f"{_where(_child(node, 'id'), f'{ipath}.id')}: item "
                                f"{item_id!r} already used at {seen_items[item_id]}")
            seen_items[item_id] = ipath
            level = need(node, it, "level", f"{ipath}.level")
            if level and level not in LEVELS:
                problems.append(f"{_where(_child(node, 'level'), f'{ipath}.level')}: unknown "
                                f"level {level!r} (expected {', '.join(LEVELS)})")
            items.append(Item(
                id=item_id, label=need(node, it, "label", f"{ipath}.label"),
                question=need(node, it, "question", f"{ipath}.question"),
                level=level, article=need(node, it, "article", f"{ipath}.article"),
                section=sid, why=str(it.get("why") or ""), note=str(it.get("note") or ""),
                action=str(it.get("action") or "")))
        sections.append(Section(sid, stitle, tuple(items)))
    if problems:
        raise LegalError(problems, path=name)
    return Instrument(id=iid, version=int(version), title=title,
                      short_title=str(data.get("short_title") or title),
                      source=str(data.get("source") or ""), answer_scale=tuple(scale),
                      sections=tuple(sections), builtin=builtin)


def builtin_instruments() -> dict[str, Instrument]:
    """The instruments shipped with tiplab, by id (package data in
    ``tiplab/policy/instruments``, written from the project's reference checklists)."""
    out: dict[str, Instrument] = {}
    root = resources.files("tiplab.policy") / "instruments"
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            inst = load_instrument(entry.read_text(encoding="utf-8"),
                                   name=f"tiplab/policy/instruments/{entry.name}", builtin=True)
            out[inst.id] = inst
    return out


# -- assessments ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    item: str
    answer: str = "unknown"
    statute: str = ""
    article: str = ""
    excerpt: str = ""
    link: str = ""
    comment: str = ""

    @property
    def has_evidence(self) -> bool:
        return bool(self.statute or self.article or self.excerpt or self.link)


@dataclass(frozen=True)
class Assessment(_Document):
    country: str
    instrument: str
    instrument_version: int
    date: dt.date
    answers: Mapping[str, Answer]
    assessor: str = ""
    reviewer: str = ""
    illustrative: bool = False
    note: str = ""

    def answer(self, item_id: str) -> str:
        a = self.answers.get(item_id)
        return a.answer if a is not None else "unknown"

    def to_dict(self) -> dict[str, Any]:
        return {"country": self.country, "instrument": self.instrument,
                "instrument_version": self.instrument_version, "date": self.date.isoformat(),
                "assessor": self.assessor, "reviewer": self.reviewer,
                "illustrative": self.illustrative, "note": self.note,
                "answers": [{k: v for k, v in asdict(a).items() if v != ""}
                            for a in self.answers.values()]}


CSV_COLUMNS = ("item", "section", "level", "label", "question", "answer", "statute", "article",
               "excerpt", "link", "comment")


def country_code(value: str) -> str:
    """An ISO 3166 alpha-3 code from a code or a name ('GB', 'GBR', 'United Kingdom')."""
    import pycountry

    v = str(value).strip()
    if not v:
        raise ValueError("a country is required (ISO 3166 code or name)")
    try:
        c = pycountry.countries.lookup(v)
    except LookupError:
        raise ValueError(f"unknown country {v!r} (use an ISO 3166 code such as GBR)") from None
    return str(c.alpha_3)


def country_name(code: str) -> str:
    import pycountry

    c = pycountry.countries.get(alpha_3=code)
    return str(getattr(c, "common_name", None) or c.name) if c is not None else code


def check_answer(instrument: Instrument, answer: Answer, where: str = "") -> list[str]:
    """Problems with one answer against ``instrument`` (empty: fine)."""
    at = f"{where}: " if where else ""
    problems = []
    try:
        instrument.item(answer.item)
    except KeyError:
        problems.append(f"{at}item {answer.item!r} is not in {instrument.key}")
    if answer.answer not in instrument.answer_scale:
        problems.append(f"{at}answer {answer.answer!r} is not on the scale "
                        f"({', '.join(instrument.answer_scale)})")
    if answer.link and not re.match(r"^https?://[^\s]+$", answer.link):
        problems.append(f"{at}link {answer.link!r} must be an http(s) address")
    if len(answer.excerpt) > 4000:
        problems.append(f"{at}excerpt is longer than 4,000 characters: quote the operative "
                        "words and link the rest")
    return problems


def assessment_template(instrument: Instrument, country: str, date: dt.date | None = None,
                        ) -> Assessment:
    """An assessment with every item 'unknown', to fill in (``tiplab assess legal export``)."""
    return Assessment(country=country_code(country), instrument=instrument.id,
                      instrument_version=instrument.version, date=date or dt.date.today(),
                      answers={i.id: Answer(i.id) for i in instrument.items})


def load_assessment(source: str | Path, instrument: Instrument | Mapping[str, Instrument],
                    *, name: str | None = None) -> Assessment:
    """Read an assessment from YAML (the layout of :meth:`Assessment.to_yaml`); a CSV of
    answers (the template of :func:`answers_to_csv`) goes through :func:`answers_from_csv`.

    ``instrument`` is the instrument, or the instruments by id to choose from. Problems are
    reported together, each with its line (YAML) or row (CSV) and field."""
    if isinstance(source, Path | str) and str(source).lower().endswith(".csv"):
        raise LegalError(["a CSV holds the answers only, without country, instrument and "
                          "date: upload it on the assessment's page, or use the YAML layout "
                          "(tiplab assess legal export --format yaml)"], path=name or str(source))
    root, data, label, _path = _parse(source, name)
    if not isinstance(data, dict):
        raise LegalError(["an assessment is a mapping with country, instrument, date and "
                          "answers"], path=label)
    problems: list[str] = []
    inst: Instrument | None
    if isinstance(instrument, Instrument):
        inst = instrument
        if data.get("instrument") not in (None, inst.id):
            problems.append(f"{_where(_child(root, 'instrument'), 'instrument')}: the file is "
                            f"for {data.get('instrument')!r}, not {inst.id!r}")
    else:
        inst = instrument.get(str(data.get("instrument")))
        if inst is None:
            raise LegalError([f"{_where(_child(root, 'instrument') or root, 'instrument')}: "
                              f"unknown instrument {data.get('instrument')!r} (known: "
                              f"{', '.join(sorted(instrument))})"], path=label)
    try:
        country = country_code(str(data.get("country") or ""))
    except ValueError as e:
        problems.append(f"{_where(_child(root, 'country') or root, 'country')}: {e}")
        country = ""
    raw_date = data.get("date")
    date: dt.date = dt.date.today()
    if isinstance(raw_date, dt.date):
        date = raw_date
    else:
        try:
            date = dt.date.fromisoformat(str(raw_date))
        except ValueError:
            problems.append(f"{_where(_child(root, 'date') or root, 'date')}: {raw_date!r} is "
                            "not a date (YYYY-MM-DD)")
    version = data.get("instrument_version", inst.version)
    if version != inst.version:
        problems.append(f"{_where(_child(root, 'instrument_version'), 'instrument_version')}: "
                        f"the file answers version {version} of {inst.id}; this is version "
                        f"{inst.version} (re-assess against the current version)")
    answers: dict[str, Answer] = {}
    anode = _child(root, "answers")
    raw_answers = data.get("answers") or []
    if not isinstance(raw_answers, list):
        problems.append(f"{_where(anode, 'answers')}: must be a list of answers")
        raw_answers = []
    allowed = {"item", "answer", "statute", "article", "excerpt", "link", "comment"}
    for k, raw in enumerate(raw_answers):
        node = _child(anode, k)
        where = _where(node, f"answers[{k}]")
        if not isinstance(raw, dict):
            problems.append(f"{where}: an answer is a mapping with item and answer")
            continue
        extra = [f for f in raw if f not in allowed]
        if extra:
            problems.append(f"{where}: unknown field(s) {', '.join(map(str, extra))} "
                            f"(expected {', '.join(sorted(allowed))})")
        a = Answer(**{f: str(raw[f]).strip() if raw.get(f) is not None else ""
                      for f in allowed if f in raw})
        if a.item in answers:
            problems.append(f"{where}: item {a.item!r} is answered twice")
        problems += check_answer(inst, a, where)
        answers[a.item] = a
    if problems:
        raise LegalError(problems, path=label)
    return Assessment(country=country, instrument=inst.id, instrument_version=inst.version,
                      date=date, answers=answers, assessor=str(data.get("assessor") or ""),
                      reviewer=str(data.get("reviewer") or ""),
                      illustrative=bool(data.get("illustrative", False)),
                      note=str(data.get("note") or ""))


def answers_to_csv(instrument: Instrument, assessment: Assessment | None) -> str:
    """One row per item of ``instrument`` with the assessment's answer and evidence."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for i in instrument.items:
        a = (assessment.answers.get(i.id) if assessment else None) or Answer(i.id)
        w.writerow([i.id, i.section, i.level, i.label, i.question, a.answer, a.statute,
                    a.article, a.excerpt, a.link, a.comment])
    return buf.getvalue()


def answers_from_csv(instrument: Instrument, text: str) -> dict[str, Answer]:
    """Answers from the CSV of :func:`answers_to_csv` (a filled-in template). Problems are
    reported together with their row and column; the item and answer columns are required."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in ("item", "answer") if c not in (reader.fieldnames or [])]
    if missing:
        raise LegalError([f"row 1: missing column(s) {', '.join(missing)} (the template has "
                          f"{', '.join(CSV_COLUMNS)})"])
    problems: list[str] = []
    out: dict[str, Answer] = {}
    for n, row in enumerate(reader, start=2):
        a = Answer(item=(row.get("item") or "").strip(),
                   answer=(row.get("answer") or "unknown").strip() or "unknown",
                   **{f: (row.get(f) or "").strip()
                      for f in ("statute", "article", "excerpt", "link", "comment")})
        if a.item in out:
            problems.append(f"row {n}: item {a.item!r} appears twice")
        problems += check_answer(instrument, a, f"row {n}")
        out[a.item] = a
    if problems:
        raise LegalError(problems)
    return out


# -- scores, gaps, changes --------------------------------------------------------------------

@dataclass(frozen=True)
class Score:
    """Score (0-100) of the assessed items; coverage: assessed / applicable items."""

    items: int
    applicable: int
    assessed: int
    score: float | None
    counts: dict[str, int]

    @property
    def coverage(self) -> float:
        return self.assessed / self.applicable if self.applicable else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "coverage": self.coverage}


def _score(items: Iterable[Item], answers: Mapping[str, str],
           weighted: bool = False) -> Score:
    items = list(items)
    counts = {a: 0 for a in ANSWERS}
    num = den = 0.0
    for i in items:
        a = answers.get(i.id, "unknown")
        counts[a] += 1
        if a in VALUE:
            w = LEVEL_WEIGHT[i.level] if weighted else 1.0
            num += w * VALUE[a]
            den += w
    applicable = len(items) - counts["not_applicable"]
    assessed = counts["yes"] + counts["partial"] + counts["no"]
    return Score(items=len(items), applicable=applicable, assessed=assessed,
                 score=100.0 * num / den if den else None, counts=counts)


@dataclass(frozen=True)
class Scores:
    instrument: str
    country: str
    date: dt.date
    overall: Score
    by_level: dict[str, Score]
    by_section: dict[str, Score]

    def to_dict(self) -> dict[str, Any]:
        return {"instrument": self.instrument, "country": self.country,
                "date": self.date.isoformat(), "overall": self.overall.to_dict(),
                "by_level": {k: v.to_dict() for k, v in self.by_level.items()},
                "by_section": {k: v.to_dict() for k, v in self.by_section.items()}}


def score(instrument: Instrument, assessment: Assessment) -> Scores:
    """Scores overall (level-weighted), per level and per section."""
    answers = {k: a.answer for k, a in assessment.answers.items()}
    items = instrument.items
    return Scores(
        instrument=instrument.key, country=assessment.country, date=assessment.date,
        overall=_score(items, answers, weighted=True),
        by_level={lv: _score([i for i in items if i.level == lv], answers)
                  for lv in LEVELS if any(i.level == lv for i in items)},
        by_section={s.id: _score(s.items, answers) for s in instrument.sections})


@dataclass(frozen=True)
class Gap:
    """An item the law does not (or only partly) cover: what, why, where, what to do."""

    instrument: str
    country: str
    item: str
    label: str
    section: str
    level: str
    answer: str
    article: str
    why: str
    action: str
    statute: str = ""
    comment: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def gaps(instrument: Instrument, assessment: Assessment) -> list[Gap]:
    """Every ``no`` or ``partial`` item, core before required before recommended, ``no``
    before ``partial``, in the instrument's order otherwise."""
    out = []
    for n, i in enumerate(instrument.items):
        a = assessment.answers.get(i.id)
        if a is None or a.answer not in ("no", "partial"):
            continue
        out.append((LEVELS.index(i.level), a.answer != "no", n, Gap(
            instrument=instrument.key, country=assessment.country, item=i.id, label=i.label,
            section=i.section, level=i.level, answer=a.answer, article=i.article,
            why=i.why_text, action=i.action_text, statute=a.statute, comment=a.comment)))
    return [g for *_k, g in sorted(out, key=lambda t: t[:3])]


@dataclass(frozen=True)
class Change:
    item: str
    label: str
    before: str
    after: str
    #: better / worse / assessed / unassessed / evidence (same answer, new evidence)
    kind: str


def changes(instrument: Instrument, before: Assessment, after: Assessment) -> list[Change]:
    """What changed between two assessments of one country against one instrument."""
    out = []
    for i in instrument.items:
        a, b = before.answers.get(i.id), after.answers.get(i.id)
        x, y = (a.answer if a else "unknown"), (b.answer if b else "unknown")
        if x == y:
            if a is not None and b is not None and (
                    (a.statute, a.article, a.excerpt, a.link) !=
                    (b.statute, b.article, b.excerpt, b.link)):
                out.append(Change(i.id, i.label, x, y, "evidence"))
            continue
        if x in VALUE and y in VALUE:
            kind = "better" if VALUE[y] > VALUE[x] else "worse"
        elif y in VALUE:
            kind = "assessed"
        else:
            kind = "unassessed"
        out.append(Change(i.id, i.label, x, y, kind))
    return out


# -- harmonisation ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Loophole:
    """An item country ``covers`` has in law (yes) and country ``lacks`` does not (no or
    partial): conduct a trafficker can move across the border to escape."""

    covers: str
    lacks: str
    item: str
    label: str
    level: str
    answer: str


@dataclass(frozen=True)
class Correlation:
    rating: str
    n: int
    rho: float | None
    p_value: float | None
    #: what a positive rho means for this rating
    reading: str
    #: (country, score, rating, year of the rating)
    pairs: list[tuple[str, float, float, int]]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["rho"] = None if self.rho is None or math.isnan(self.rho) else self.rho
        d["p_value"] = None if self.p_value is None or math.isnan(self.p_value) \
            else self.p_value
        return d


@dataclass
class Harmonisation:
    instrument: str
    countries: list[str]
    dates: dict[str, str]
    matrix: dict[str, dict[str, str]]
    divergent: list[str]
    loopholes: list[Loophole]
    scores: dict[str, Scores]
    correlations: list[Correlation] = field(default_factory=list)
    data_version: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "legal_harmonisation", "instrument": self.instrument,
                "data_version": self.data_version, "parameters": self.parameters,
                "countries": self.countries, "dates": self.dates, "matrix": self.matrix,
                "divergent": self.divergent,
                "loopholes": [asdict(x) for x in self.loopholes],
                "scores": {c: s.to_dict() for c, s in self.scores.items()},
                "correlations": [c.to_dict() for c in self.correlations]}

    def pair_loopholes(self) -> dict[tuple[str, str], list[Loophole]]:
        out: dict[tuple[str, str], list[Loophole]] = {}
        for x in self.loopholes:
            out.setdefault((x.covers, x.lacks), []).append(x)
        return out


def harmonisation(instrument: Instrument, assessments: Sequence[Assessment],
                  ratings: Mapping[str, Mapping[str, tuple[int, float]]] | None = None,
                  ) -> Harmonisation:
    """Compare the latest assessment of each country against one instrument.

    ``ratings``: external ratings by name (``"3P index"``, ``"TIP tier"``), each ``{ISO3:
    (year, value)}`` as :func:`load_p3_index` gives; the Spearman rank correlation of the
    overall scores with each is reported over the countries that have both."""
    latest: dict[str, Assessment] = {}
    for a in assessments:
        if a.instrument != instrument.id:
            raise LegalError([f"{a.country} {a.date}: assessed against {a.instrument}, not "
                              f"{instrument.id}; compare assessments of one instrument"])
        if a.country not in latest or a.date > latest[a.country].date:
            latest[a.country] = a
    countries = sorted(latest)
    matrix = {i.id: {c: latest[c].answer(i.id) for c in countries} for i in instrument.items}
    divergent = [i for i, row in matrix.items()
                 if len({v for v in row.values() if v in VALUE}) > 1]
    loopholes = []
    for one, other in combinations(countries, 2):
        for covers, lacks in ((one, other), (other, one)):
            for i in instrument.items:
                x, y = matrix[i.id][covers], matrix[i.id][lacks]
                if x == "yes" and y in ("no", "partial"):
                    loopholes.append(Loophole(covers, lacks, i.id, i.label, i.level, y))
    scores = {c: score(instrument, latest[c]) for c in countries}
    correlations = [rank_correlation(name, {c: s.overall.score for c, s in scores.items()
                                            if s.overall.score is not None}, values)
                    for name, values in (ratings or {}).items()]
    body = json.dumps([*sorted(latest[c].digest for c in countries), instrument.digest])
    return Harmonisation(
        instrument=instrument.key, countries=countries,
        dates={c: latest[c].date.isoformat() for c in countries}, matrix=matrix,
        divergent=divergent, loopholes=loopholes, scores=scores, correlations=correlations,
        data_version="legal-sha256:" + hashlib.sha256(body.encode()).hexdigest()[:12],
        parameters={"instrument": instrument.key, "countries": countries,
                    "ratings": sorted(ratings or {})})


READINGS = {
    "3P index": "higher 3P = more complete prosecution, protection and prevention policy: a "
                "positive rho means the scores agree",
    "TIP tier": "tier 1 is best and 3 worst: a negative rho means the scores agree",
}


def rank_correlation(name: str, scores: Mapping[str, float],
                     rating: Mapping[str, tuple[int, float]]) -> Correlation:
    """Spearman's rho of ``scores`` against ``rating`` (``{ISO3: (year, value)}``) over the
    countries in both. The p-value is exact (every permutation) up to 8 countries, where the
    normal approximation is meaningless; no rho below 3 countries."""
    from scipy.stats import spearmanr

    common = sorted(c for c in scores if c in rating and not math.isnan(rating[c][1]))
    pairs = [(c, float(scores[c]), float(rating[c][1]), int(rating[c][0])) for c in common]
    rho = p = None
    if len(common) >= 3:
        x = [t[1] for t in pairs]
        y = [t[2] for t in pairs]
        if len(set(x)) > 1 and len(set(y)) > 1:
            rho = float(spearmanr(x, y).statistic)
            if len(common) <= 8:
                from itertools import permutations

                hits = total = 0
                for perm in permutations(y):
                    total += 1
                    r = float(spearmanr(x, perm).statistic)
                    hits += abs(r) >= abs(rho) - 1e-12
                p = hits / total
            else:
                p = float(spearmanr(x, y).pvalue)
    return Correlation(rating=name, n=len(common), rho=rho, p_value=p,
                       reading=READINGS.get(name, "a positive rho means the rating rises with "
                                                  "the score"), pairs=pairs)


# -- external ratings -------------------------------------------------------------------------

def load_p3_index(path: str | Path, year: int | None = None) -> dict[str, tuple[int, float]]:
    """The 3P anti-trafficking policy index (Cho, Dreher & Neumayer), ``{ISO3: (year, p)}``:
    the given year, or each country's most recent year with a value."""
    out: dict[str, tuple[int, float]] = {}
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            iso, p = (row.get("iso") or "").strip(), (row.get("p") or "").strip()
            if not iso or p in ("", "NA"):
                continue
            y = int(row["year"])
            if year is not None and y != year:
                continue
            if iso not in out or y > out[iso][0]:
                out[iso] = (y, float(p))
    return out


_TIERS = {"tier 1": 1.0, "1": 1.0, "tier 2": 2.0, "2": 2.0, "watchlist": 2.5, "2w": 2.5,
          "tier 2 watch list": 2.5, "2.5": 2.5, "tier 3": 3.0, "3": 3.0}


def load_tip_tiers(path: str | Path, year: int | None = None) -> dict[str, tuple[int, float]]:
    """US TIP Report tiers ``{ISO3: (year, tier)}`` (1, 2, 2.5 = watch list, 3) from the file
    with ISO codes (``tip_tiers_orig.csv``: "Tier 1", "Tier 2", "Watchlist", "Tier 3"): the
    given year or the most recent one."""
    out: dict[str, tuple[int, float]] = {}
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            iso, tier = (row.get("iso") or "").strip(), (row.get("tier") or "").strip()
            if not iso or tier in ("", "NA"):
                continue
            value = _TIERS.get(" ".join(tier.lower().split()))
            if value is None:
                continue
            y = int(row["year"])
            if year is not None and y != year:
                continue
            if iso not in out or y > out[iso][0]:
                out[iso] = (y, value)
    return out



def shipped_ratings() -> dict[str, dict[str, tuple[int, float]]]:
    """Each country's latest 3P index and US TIP tier, shipped as package data (written by
    scripts/instruments_from_reference.py from ../shared/data; provenance in the files)."""
    out: dict[str, dict[str, tuple[int, float]]] = {}
    root = resources.files("tiplab.policy") / "ratings"
    for name, label in (("p3_latest.csv", "3P index"), ("tip_latest.csv", "TIP tier")):
        text = (root / name).read_text(encoding="utf-8")
        rows = csv.DictReader(ln for ln in text.splitlines() if not ln.startswith("#"))
        out[label] = {r["iso"]: (int(r["year"]), float(r["value"])) for r in rows}
    return out


# -- a library of instruments and assessments in the data directory (the CLI's store) ----------

class LegalLibrary:
    """Instruments and assessments kept as YAML under ``<data dir>/legal/``: the store of the
    command line (the web app keeps its own in the database and imports the same files).

    Files are written whole (temporary file, then rename): a crash leaves no half file."""

    def __init__(self, data_dir: str | Path) -> None:
        self.root = Path(data_dir) / "legal"

    def instruments(self) -> dict[str, Instrument]:
        out = builtin_instruments()
        folder = self.root / "instruments"
        if folder.is_dir():
            for f in sorted(folder.glob("*.yaml")):
                inst = load_instrument(f)
                if inst.id not in out or inst.version > out[inst.id].version:
                    out[inst.id] = inst
        return out

    def assessments(self, instrument: str | None = None) -> list[Assessment]:
        folder = self.root / "assessments"
        if not folder.is_dir():
            return []
        known = self.instruments()
        found = [load_assessment(f, known) for f in sorted(folder.glob("*.yaml"))]
        return [a for a in found if instrument is None or a.instrument == instrument]

    def _write(self, path: Path, text: str) -> Path:
        from tiplab.policy.files import write_text_whole

        return write_text_whole(path, text)

    def add_instrument(self, instrument: Instrument) -> Path:
        current = self.instruments().get(instrument.id)
        if current is not None and current.builtin:
            raise LegalError([f"instrument id {instrument.id!r} is shipped with tiplab; give "
                              "your own instrument another id"])
        if current is not None and current.version >= instrument.version \
                and current.digest != instrument.digest:
            raise LegalError([f"{instrument.id} version {current.version} is already in the "
                              f"library with other content; raise the version (to "
                              f"{current.version + 1}) for a changed instrument"])
        return self._write(self.root / "instruments" / f"{instrument.id}@{instrument.version}"
                           ".yaml", instrument.to_yaml())

    def add_assessment(self, assessment: Assessment, *, replace: bool = False) -> Path:
        path = (self.root / "assessments" /
                f"{assessment.country}-{assessment.instrument}-{assessment.date}.yaml")
        if path.exists() and not replace:
            raise LegalError([f"an assessment of {assessment.country} against "
                              f"{assessment.instrument} dated {assessment.date} is already in "
                              "the library; use another date for a re-assessment (history is "
                              "kept) or --replace to correct it"])
        return self._write(path, assessment.to_yaml())


def demo_assessments() -> list[Path]:
    """The illustrative assessments shipped for the demo (three countries, Palermo)."""
    root = resources.files("tiplab.policy") / "demo"
    return [Path(str(e)) for e in sorted(root.iterdir(), key=lambda e: e.name)
            if e.name.endswith(".yaml")]
