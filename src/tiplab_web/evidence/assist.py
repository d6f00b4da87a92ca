"""Assisted coding: the model's suggestions (never final: a person accepts or rejects each),
"ask me next" (the most uncertain pending suggestions first), training a classifier from
human codes, and how far the model agrees with the humans, per code.

The core does the work (:mod:`tiplab.qualitative.suggest`); this module stores its output,
scoped to an organisation. Without the embedded model installed, suggestions come from the
codebook's cue phrases (``keywords``) and training is refused with a clear message.
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tiplab_web.audit.services import record
from tiplab_web.core.access import organisation_of

from . import services
from .models import ClassifierVersion, CodebookVersion, Coding, Note, Suggestion

log = logging.getLogger("tiplab.web.evidence")


def model_available() -> bool:
    from tiplab.qualitative import embed

    return embed.available()


def _embedder() -> Any:
    """The shared embedder, or None when the model is not installed (or does not load)."""
    from tiplab.qualitative import embed

    if not embed.available():
        return None
    try:
        return embed.default_embedder()
    except embed.ModelUnavailable as e:
        log.warning("embedded model not loaded: %s", e)
        return None


def latest_classifier(org: Any, cv: CodebookVersion | None = None) -> ClassifierVersion | None:
    """The organisation's newest classifier trained on the current codebook (None: none)."""
    cv = cv or services.codebook_version(org)
    return (ClassifierVersion.objects.filter(organisation=org, codebook__content_hash=
                                             cv.content_hash).order_by("-number").first())


@dataclass
class Assistant:
    """A suggester for an organisation, with what it is made of (for provenance)."""

    suggester: Any
    codebook: Any
    classifier: ClassifierVersion | None
    model_id: str

    @property
    def method(self) -> str:
        return str(self.suggester.method)


def assistant(org: Any) -> Assistant:
    from tiplab.qualitative.suggest import Suggester, TrainedClassifier

    cv = services.codebook_version(org)
    cb = services.codebook_of(cv)
    emb = _embedder()
    row = latest_classifier(org, cv) if emb is not None else None
    clf = TrainedClassifier.from_json(row.data) if row is not None else None
    s = Suggester(cb, embedder=emb, classifier=clf)
    model_id = str(emb.info.id) if emb is not None and s.method != "keywords" else ""
    return Assistant(s, cb, row if s.method == "classifier" else None, model_id)


def skip_reason(note: Note) -> str:
    """Why the model does not suggest codes for ``note`` ("" : it does)."""
    if not note.consent_analysis:
        return str(_("no consent to use the note in analysis"))
    if not note.language_supported:
        return str(_("the model cannot code this language (%(l)s): code it by hand")
                   % {"l": note.language or _("unknown")})
    return ""


def uncoded(org: Any) -> QuerySet[Note]:
    return Note.objects.filter(organisation=org, codings__isnull=True).distinct()


def suggest_notes(request_or_user: Any, notes: list[Note], progress: Any = None
                  ) -> dict[str, Any]:
    """Compute suggestions for ``notes``: each note's pending suggestions are replaced;
    spans already coded or decided with the same code are not suggested again."""
    org = organisation_of(getattr(request_or_user, "user", request_or_user))
    a = assistant(org)
    made, skipped = 0, []
    for i, note in enumerate(notes):
        if progress is not None:
            progress("suggest", i / max(1, len(notes)), note.title)
        why = skip_reason(note)
        if why:
            skipped.append({"note": note.pk, "reason": why})
            continue
        made += _suggest_one(note, a)
    record(request_or_user, "evidence.suggest", None, notes=len(notes), suggestions=made,
           skipped=len(skipped), method=a.method, model=a.model_id,
           classifier=a.classifier.number if a.classifier else None)
    return {"notes": len(notes) - len(skipped), "suggestions": made, "skipped": skipped,
            "method": a.method, "model": a.model_id or None,
            "classifier": a.classifier.number if a.classifier else None}


@transaction.atomic
def _suggest_one(note: Note, a: Assistant) -> int:
    text = services.full_text(note)
    found = a.suggester.suggest(text)
    taken = set(note.codings.values_list("start", "end", "code"))
    taken |= set(note.suggestions.exclude(status=Suggestion.Status.PENDING)
                 .values_list("start", "end", "code"))
    note.suggestions.filter(status=Suggestion.Status.PENDING).delete()
    rows = [Suggestion(note=note, start=s.start, end=s.end, code=s.code,
                       confidence=float(s.confidence), method=s.method,
                       cue=(s.cue or "")[:200], model_id=a.model_id if s.method != "keywords"
                       else "", classifier=a.classifier if s.method == "classifier" else None)
            for s in found if (s.start, s.end, s.code) not in taken
            and s.code in set(a.codebook.keys())]
    Suggestion.objects.bulk_create(rows)
    return len(rows)


def visible_suggestions(user: Any, note: Note) -> QuerySet[Suggestion]:
    """Pending suggestions, and decided ones (by the user alone while blind)."""
    qs = note.suggestions.select_related("decided_by")
    if services.blind_for(user, note):
        from django.db.models import Q

        qs = qs.filter(Q(status=Suggestion.Status.PENDING) | Q(decided_by=user))
    return qs


@transaction.atomic
def accept(request_or_user: Any, s: Suggestion, comment: str = "") -> Coding:
    """A person agrees: the suggestion becomes their coding (origin suggestion-accepted)."""
    user = getattr(request_or_user, "user", request_or_user)
    if s.status != Suggestion.Status.PENDING:
        raise services.EvidenceError(_("This suggestion was already decided."))
    existing = Coding.objects.filter(note=s.note, start=s.start, end=s.end, code=s.code,
                                     coder=user).first()
    coding = existing or services.add_coding(request_or_user, s.note, s.start, s.end, s.code,
                                             comment, origin=Coding.Origin.ACCEPTED)
    _decide(request_or_user, s, Suggestion.Status.ACCEPTED)
    return coding


@transaction.atomic
def reject(request_or_user: Any, s: Suggestion) -> None:
    if s.status != Suggestion.Status.PENDING:
        raise services.EvidenceError(_("This suggestion was already decided."))
    _decide(request_or_user, s, Suggestion.Status.REJECTED)


def _decide(request_or_user: Any, s: Suggestion, status: str) -> None:
    user = getattr(request_or_user, "user", request_or_user)
    s.status, s.decided_by, s.decided_at = status, user, timezone.now()
    s.save(update_fields=["status", "decided_by", "decided_at"])
    record(request_or_user, f"evidence.suggestion.{status}", s, note=s.note_id, code=s.code,
           confidence=round(s.confidence, 4), method=s.method)


def ask_next(user: Any, limit: int = 20) -> list[Suggestion]:
    """Pending suggestions across the organisation's notes, most uncertain first
    (``uncertainty_order`` over their confidences): deciding these teaches the classifier
    most."""
    import numpy as np

    from tiplab.qualitative.suggest import uncertainty_order

    org = organisation_of(user)
    pending = list(Suggestion.objects.filter(
        note__organisation=org, note__consent_analysis=True,
        status=Suggestion.Status.PENDING).select_related("note").order_by("pk"))
    # pending suggestions are nobody's decision yet: shown in blind mode too
    if not pending:
        return []
    scores = np.array([[s.confidence] for s in pending], dtype=float)
    order = uncertainty_order(scores)
    return [pending[int(i)] for i in list(order)[:limit]]


# --- training ------------------------------------------------------------------------------------


def training_notes(org: Any) -> list[Note]:
    """Notes whose codes teach the classifier: consented, in a language the model reads, and
    marked finished by at least one coder (so an uncoded sentence means "none of the codes")."""
    return list(Note.objects.filter(organisation=org, consent_analysis=True)
                .annotate(n_done=Count("done")).filter(n_done__gt=0).order_by("pk"))


def examples_of(note: Note) -> list[Any]:
    """One example per sentence with the codes any coder applied to it."""
    from tiplab.qualitative.suggest import Example

    if not note.language_supported:
        return []
    rows = list(note.codings.values_list("start", "end", "code"))
    return [Example(text=u.text, codes=frozenset(c for s, e, c in rows
                                                  if services.overlapping(u, s, e)))
            for u in services.units(services.full_text(note))]


def _held_out(by_note: list[list[Any]], cb: Any, emb: Any, seed: int) -> dict[str, Any]:
    """Train on three quarters of the notes, predict the rest, compare with the human codes
    (by note, so sentences of one interview are never on both sides)."""
    import numpy as np

    from tiplab.qualitative.agreement import cohen_kappa
    from tiplab.qualitative.evaluate import score
    from tiplab.qualitative.suggest import SuggestSettings, train

    idx = list(range(len(by_note)))
    if len(idx) < 4:
        return {"method": "none", "why": str(_("fewer than 4 finished notes: no held-out "
                                                "check"))}
    random.Random(seed).shuffle(idx)
    k = max(1, math.ceil(len(idx) / 4))
    test_ids, train_ids = set(idx[:k]), idx[k:]
    train_ex = [e for i in train_ids for e in by_note[i]]
    test_ex = [e for i in sorted(test_ids) for e in by_note[i]]
    if not any(e.codes for e in train_ex) or not test_ex:
        return {"method": "none", "why": str(_("no human codes in the training part"))}
    clf = train(train_ex, cb, embedder=emb, seed=seed)
    threshold = SuggestSettings().threshold
    proba = clf.predict_proba(emb.embed([e.text for e in test_ex]))
    predicted = [frozenset(c for j, c in enumerate(clf.codes) if proba[i, j] >= threshold)
                 for i in range(len(test_ex))]
    gold = [e.codes for e in test_ex]
    codes = list(clf.codes)
    _macro, per_code = score(gold, predicted, codes)
    out: dict[str, Any] = {}
    for cs in per_code:
        a = [int(cs.code in g) for g in gold]
        b = [int(cs.code in p) for p in predicted]
        try:
            kappa = cohen_kappa(a, b)
        except (ValueError, ZeroDivisionError):
            kappa = float("nan")
        out[cs.code] = {"support": cs.support, "predicted": int(sum(b)),
                        "precision": _num(cs.precision), "recall": _num(cs.recall),
                        "kappa": _num(kappa)}
    return {"method": "held-out notes", "train_notes": len(train_ids), "test_notes": k,
            "test_units": len(test_ex), "threshold": threshold, "per_code": out,
            "macro_f1": _num(float(np.mean([cs.f1 for cs in per_code])) if per_code else None)}


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 4)


@transaction.atomic
def train_classifier(request_or_user: Any, seed: int = 0) -> ClassifierVersion:
    """Train a classifier from the human codes of finished notes; store it with a held-out
    check of its agreement with the humans."""
    from tiplab.qualitative.suggest import train

    user = getattr(request_or_user, "user", request_or_user)
    org = organisation_of(user)
    emb = _embedder()
    if emb is None:
        raise services.EvidenceError(_(
            "The embedded model is not installed, so no classifier can be trained: install "
            "tiplab with the 'ai' extra. Suggestions use the codebook's cue phrases meanwhile."))
    cv = services.codebook_version(org)
    cb = services.codebook_of(cv)
    by_note = [ex for ex in (examples_of(n) for n in training_notes(org)) if ex]
    examples = [e for ex in by_note for e in ex]
    if not any(e.codes for e in examples):
        raise services.EvidenceError(_(
            "No human codes to learn from yet: code some notes and mark them finished."))
    check = _held_out(by_note, cb, emb, seed)
    clf = train(examples, cb, embedder=emb, seed=seed)
    number = (ClassifierVersion.objects.filter(organisation=org)
              .aggregate(n=Max("number"))["n"] or 0) + 1
    row = ClassifierVersion.objects.create(
        organisation=org, number=number, data=clf.to_json(), codebook=cv,
        n_examples=clf.n_examples, positives=dict(clf.positives), agreement=check,
        created_by=user)
    record(request_or_user, "evidence.classifier.train", row, number=number,
           examples=clf.n_examples, notes=len(by_note), model=dict(clf.model).get("id"))
    return row


# --- agreement of the model with the humans ------------------------------------------------------


def model_agreement(org: Any) -> dict[str, dict[str, Any]]:
    """Per code, from the stored suggestions and codes:

    * ``accepted`` / ``rejected``: decisions on the model's suggestions, and ``acceptance``
      = accepted / (accepted + rejected) (the precision of the suggestions people decided);
    * over the sentences of finished notes that had suggestions: ``tp``/``fp``/``fn`` of
      "suggested" (any status) against "coded by a human", with ``precision``, ``recall`` and
      Cohen's ``kappa``. Accepted suggestions count as human codes, so these figures lean
      towards the model; the held-out check of the classifier does not.
    """
    from tiplab.qualitative.agreement import cohen_kappa

    out: dict[str, dict[str, Any]] = {}
    for code, status, n in (Suggestion.objects.filter(note__organisation=org)
                            .exclude(status=Suggestion.Status.PENDING)
                            .values_list("code", "status").annotate(n=Count("id"))):
        row = out.setdefault(code, {"accepted": 0, "rejected": 0})
        row[status] = n
    pairs: dict[str, tuple[list[int], list[int]]] = {}
    for note in training_notes(org):
        sugg = list(note.suggestions.values_list("start", "end", "code"))
        if not sugg:
            continue
        cods = list(note.codings.values_list("start", "end", "code"))
        codes = {c for _s, _e, c in sugg} | {c for _s, _e, c in cods}
        for u in services.units(services.full_text(note)):
            for code in codes:
                a, b = pairs.setdefault(code, ([], []))
                a.append(int(any(c == code and services.overlapping(u, s, e)
                                 for s, e, c in cods)))
                b.append(int(any(c == code and services.overlapping(u, s, e)
                                 for s, e, c in sugg)))
    for code, (human, model) in pairs.items():
        tp = sum(1 for h, m in zip(human, model, strict=True) if h and m)
        fp = sum(1 for h, m in zip(human, model, strict=True) if m and not h)
        fn = sum(1 for h, m in zip(human, model, strict=True) if h and not m)
        try:
            kappa = cohen_kappa(human, model)
        except (ValueError, ZeroDivisionError):
            kappa = float("nan")
        out.setdefault(code, {"accepted": 0, "rejected": 0}).update(
            units=len(human), tp=tp, fp=fp, fn=fn,
            precision=_num(tp / (tp + fp)) if tp + fp else None,
            recall=_num(tp / (tp + fn)) if tp + fn else None, kappa=_num(kappa))
    for row in out.values():
        decided = row["accepted"] + row["rejected"]
        row["acceptance"] = _num(row["accepted"] / decided) if decided else None
    return out


def human_positives(org: Any) -> dict[str, int]:
    """Code -> number of human codings (by hand or accepted) in the organisation."""
    return dict(Coding.objects.filter(note__organisation=org).values_list("code")
                .annotate(n=Count("id")).values_list("code", "n"))
