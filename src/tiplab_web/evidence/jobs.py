"""Background work of evidence: the model's suggestions for notes, training a classifier."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

SUGGEST_KIND = "evidence.suggest"
TRAIN_KIND = "evidence.train"


def _suggest(ctx: Any) -> dict[str, Any]:
    from tiplab_web.core.access import organisation_of

    from . import assist
    from .models import Note

    org = organisation_of(ctx.user)
    if ctx.params.get("all"):
        notes = list(assist.uncoded(org).order_by("pk"))
    else:
        notes = list(Note.objects.filter(organisation=org,
                                         pk__in=ctx.params.get("notes") or []).order_by("pk"))
    return assist.suggest_notes(ctx.request, notes, progress=ctx.progress)


def _train(ctx: Any) -> dict[str, Any]:
    from tiplab_web.jobs.kernel import JobFailure

    from . import assist, services

    try:
        row = assist.train_classifier(ctx.request, seed=int(ctx.params.get("seed", 0)))
    except services.EvidenceError as e:
        raise JobFailure(str(e)) from e
    return {"classifier": row.number, "examples": row.n_examples,
            "held_out": row.agreement.get("method")}


def _suggest_url(job: Any) -> str | None:
    from django.urls import reverse

    notes = (job.params or {}).get("notes") or []
    if len(notes) == 1:
        return reverse("evidence:note", args=[notes[0]])
    return reverse("evidence:next")


def _train_url(job: Any) -> str | None:
    from django.urls import reverse

    return reverse("evidence:codebook")


def submit_suggest(request_or_user: Any, notes: list[int] | None = None) -> Any:
    """Queue suggestions for ``notes`` (None: every note nobody has coded yet)."""
    from tiplab_web.jobs.kernel import submit

    params: dict[str, Any] = {"all": True} if notes is None else {"notes": notes}
    return submit(request_or_user, SUGGEST_KIND, params)


def submit_train(request_or_user: Any, seed: int = 0) -> Any:
    from tiplab_web.jobs.kernel import submit

    return submit(request_or_user, TRAIN_KIND, {"seed": seed})


def register_jobs() -> None:
    from tiplab_web.jobs.kernel import JobKind, register

    register(JobKind(name=SUGGEST_KIND, run=_suggest, retry_safe=True, result_url=_suggest_url,
                     label=gettext_lazy("Suggest codes for interview notes"),
                     capability="evidence.code"))
    register(JobKind(name=TRAIN_KIND, run=_train, retry_safe=True, result_url=_train_url,
                     label=gettext_lazy("Train the coding classifier"),
                     capability="evidence.manage"))
