"""Label-based quality of a link run: the stratified sample reviewers label in the review
queue, and the precision and recall (with intervals) the labels give
(``tiplab.linkage.sample``). The model's own estimate stays beside it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tiplab.linkage.sample import LabelledQuality, draw_sample, estimate_quality, sampling_frame
from tiplab_web import audit

from .models import LinkDecision, LinkRun, LinkSample, LinkSamplePair
from .services import run_dir

#: the default number of pairs to draw (about: every non-empty stratum gets at least 10)
DEFAULT_SIZE = 200

#: the core's stratum names (``tiplab.linkage.sample.STRATA``) as the pages say them
STRATUM_LABELS = {
    "linked, p ≥ 0.99": gettext_lazy("Linked, match probability 0.99 or more"),
    "linked, 0.95 ≤ p < 0.99": gettext_lazy("Linked, match probability 0.95 to 0.99"),
    "linked, 0.8 ≤ p < 0.95": gettext_lazy("Linked, match probability 0.8 to 0.95"),
    "linked, p < 0.8": gettext_lazy("Linked, match probability below 0.8"),
    "linked, never scored": gettext_lazy("Linked through other records, never compared"),
    "apart, p ≥ 0.5": gettext_lazy("Left apart, match probability 0.5 or more"),
    "apart, 0.2 ≤ p < 0.5": gettext_lazy("Left apart, match probability 0.2 to 0.5"),
    "apart, 0.05 ≤ p < 0.2": gettext_lazy("Left apart, match probability 0.05 to 0.2"),
    "apart, p < 0.05": gettext_lazy("Left apart, match probability below 0.05"),
}


class SampleError(Exception):
    """The sample cannot be drawn; the message says why."""


def current(run: LinkRun) -> LinkSample | None:
    return run.samples.order_by("-created_at", "-id").first()


def draw(request_or_user: Any, run: LinkRun, size: int = DEFAULT_SIZE) -> LinkSample:
    """Draw and store a stratified sample of ``run``'s pairs (audited)."""
    user = getattr(request_or_user, "user", request_or_user)
    if run.status != LinkRun.DONE:
        raise SampleError(_("Only a finished link run can be sampled."))
    folder = run_dir(run)
    if not (folder / "clusters.parquet").exists() or not (folder / "pairs.parquet").exists():
        raise SampleError(_("The result files of this link run are missing; link again."))
    if not 20 <= size <= 2000:
        raise SampleError(_("Draw between 20 and 2000 pairs."))
    frame = sampling_frame(pq.read_table(folder / "clusters.parquet"),
                           pq.read_table(folder / "pairs.parquet"))
    if frame.num_rows == 0:
        raise SampleError(_("This link run has no pairs to sample."))
    seed = secrets.randbelow(2**31)
    drawn = draw_sample(frame, size=size, seed=seed)
    with transaction.atomic():
        sample = LinkSample.objects.create(
            run=run, created_by=user, size=size, seed=seed,
            strata=[s.__dict__ for s in drawn.strata])
        LinkSamplePair.objects.bulk_create([
            LinkSamplePair(sample=sample, index=r["sample_index"], stratum=r["stratum"],
                           stratum_size=r["stratum_size"], linked=r["linked"],
                           source_l=r["source_l"], record_id_l=r["record_id_l"],
                           source_r=r["source_r"], record_id_r=r["record_id_r"],
                           match_probability=r["match_probability"])
            for r in drawn.pairs.to_pylist()])
        audit.record(request_or_user, "linkage.sample_draw", run, sample=sample.pk,
                     pairs=drawn.pairs.num_rows, seed=seed)
    return sample


def pairs_table(sample: LinkSample) -> pa.Table:
    rows = list(sample.pairs.values_list("stratum", "stratum_size", "linked", "label"))
    return pa.table({
        "stratum": pa.array([r[0] for r in rows], pa.string()),
        "stratum_size": pa.array([r[1] for r in rows], pa.int64()),
        "linked": pa.array([r[2] for r in rows], pa.bool_()),
        "label": pa.array([r[3] or None for r in rows], pa.string()),
    })


def estimate(sample: LinkSample) -> LabelledQuality | None:
    """The label-based estimate (None before the first label)."""
    if not sample.pairs.exclude(label="").exists():
        return None
    return estimate_quality(pairs_table(sample))


def next_unlabelled(sample: LinkSample) -> LinkSamplePair | None:
    return sample.pairs.filter(label="").order_by("index").first()


def label(request: Any, pair: LinkSamplePair, value: str) -> LinkSamplePair:
    """Record a reviewer's label (audited); "match" and "non-match" also become review
    decisions every later run respects."""
    if value not in dict(LinkSamplePair.LABELS):
        raise SampleError(_("Unknown answer."))
    with transaction.atomic():
        pair.label = value
        pair.labelled_by = request.user
        pair.labelled_at = timezone.now()
        pair.save(update_fields=["label", "labelled_by", "labelled_at"])
        if value != LinkSamplePair.UNSURE:
            LinkDecision.objects.create(
                source_l=pair.source_l, record_id_l=pair.record_id_l, source_r=pair.source_r,
                record_id_r=pair.record_id_r, decision=value,
                match_probability=pair.match_probability, run=pair.sample.run,
                decided_by=request.user)
        audit.record(request, "linkage.sample_label", pair.sample.run, sample=pair.sample_id,
                     index=pair.index, label=value,
                     pair=f"{pair.source_l}:{pair.record_id_l} ~ "
                          f"{pair.source_r}:{pair.record_id_r}")
    return pair


@dataclass(frozen=True)
class Quality:
    """Both estimates of a run, for its page and the designated-linkage section."""

    model_precision: float | None
    model_recall: float | None
    sample: LinkSample | None
    labelled: LabelledQuality | None
    labelled_count: int
    sample_count: int


def model_point(run: LinkRun) -> dict[str, Any] | None:
    for row in run.threshold_choice.get("tradeoff", []):
        if run.threshold is not None and abs(row["threshold"] - run.threshold) < 1e-9:
            return dict(row)
    return None


def quality(run: LinkRun) -> Quality:
    point = model_point(run)
    sample = current(run)
    counts = (sample.pairs.exclude(label="").count(), sample.pairs.count()) if sample else (0, 0)
    return Quality(
        model_precision=point["precision"] if point else None,
        model_recall=point["recall"] if point else None,
        sample=sample,
        labelled=estimate(sample) if sample is not None else None,
        labelled_count=counts[0],
        sample_count=counts[1],
    )


def then_sample(user: Any, size: int = DEFAULT_SIZE) -> dict[str, Any]:
    """A follow-up for a linkage or designation job: draw a quality sample of its run in
    ``user``'s name (the demo's set-up), ready for reviewers to label."""
    from tiplab_web.jobs.kernel import follow_up

    from .services import SAMPLE_KIND

    return follow_up(SAMPLE_KIND, {"by": user.pk, "size": size},
                     label=_("Draw a quality sample"))


def sample_after(ctx: Any) -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    from tiplab_web.jobs.kernel import JobFailure

    run = LinkRun.objects.get(pk=ctx.params["after"]["result"]["run"])
    user = get_user_model().objects.get(pk=ctx.params["by"])
    try:
        sample = draw(user, run, int(ctx.params.get("size", DEFAULT_SIZE)))
    except SampleError as e:
        raise JobFailure(str(e)) from e
    return {"run": run.pk, "sample": sample.pk}
