"""Linkage pages: start a run, follow it, read its threshold trade-off and overlap, review
uncertain pairs (data stewards). Thin: the work is in ``services``."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tiplab_web import audit
from tiplab_web.core.access import can, capability_required
from tiplab_web.core.reauth import require_recent_password
from tiplab_web.jobs.views import target_context

from . import designation as designations
from . import quality as qualities
from . import services, truth_effect
from .access import get_run_for, runs_for
from .forms import DecisionForm, LabelForm, LinkForm, SampleForm
from .models import LinkRun


@require_http_methods(["GET", "POST"])
@capability_required("linkage.run")
def runs(request: HttpRequest) -> HttpResponse:
    form = LinkForm(request.POST or None, sources=services.available_sources())
    if request.method == "POST" and form.is_valid():
        run = services.start_run(request, form.cleaned_data["sources"],
                                 form.cleaned_data["threshold"])
        return redirect("linkage:run", pk=run.pk)
    current = designations.current()
    return render(request, "linkage/runs.html", {
        "form": form, "runs": runs_for(request.user).select_related("created_by")[:100],
        "designation": current, "coverage": designations.coverage(current),
        "history": designations.history(),
        "quality": qualities.quality(current.run) if current else None,
        "truth_effect": truth_effect.for_run(current.run, compute=False) if current else None,
        "can_review": can(request.user, "linkage.review"),
        "can_designate": can(request.user, "linkage.designate")})


def _run_context(request: HttpRequest, run: LinkRun) -> dict[str, object]:
    tradeoff = run.threshold_choice.get("tradeoff", [])
    for row in tradeoff:
        row["chosen"] = run.threshold is not None and abs(row["threshold"] - run.threshold) < 1e-9
    current = designations.current()
    why_not = ""
    try:
        designations.check(run)
    except designations.DesignationError as e:
        why_not = str(e)
    return {"run": run, "tradeoff": tradeoff,
            "designation": current, "is_designated": current is not None
            and current.run_id == run.pk, "why_not": why_not,
            "can_designate": can(request.user, "linkage.designate"),
            "can_review": can(request.user, "linkage.review"),
            "can_estimate": can(request.user, "estimates.run"),
            "quality": qualities.quality(run) if run.status == LinkRun.DONE else None,
            "truth_effect": truth_effect.for_run(run, compute=False),
            **target_context(request, run, reverse("linkage:run", args=[run.pk]))}


@require_GET
@capability_required("linkage.run")
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_run_for(request.user, pk)
    return render(request, "linkage/run.html", _run_context(request, run))


@require_GET
@capability_required("linkage.run")
def run_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The status fragment htmx polls every second; a finished run reloads the page."""
    run = get_run_for(request.user, pk)
    response = render(request, "linkage/_status.html", {
        "run": run, **target_context(request, run, reverse("linkage:run", args=[run.pk]))})
    if run.finished and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


@require_GET
@capability_required("linkage.run")
def threshold_chart(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_run_for(request.user, pk)
    path = services.run_dir(run) / "threshold.svg"
    if not path.exists():
        raise Http404
    return HttpResponse(path.read_bytes(), content_type="image/svg+xml")


@require_GET
@capability_required("linkage.review")
def review(request: HttpRequest, pk: int) -> HttpResponse:
    """The uncertain pairs of a run (no identifiers on this list)."""
    run = get_run_for(request.user, pk)
    queue = services.review_queue(run)
    return render(request, "linkage/review.html", {
        "run": run, "queue": queue[:200], "remaining": len(queue),
        "quality": qualities.quality(run) if run.status == LinkRun.DONE else None})


@require_http_methods(["GET", "POST"])
@capability_required("linkage.review")
def sample(request: HttpRequest, pk: int) -> HttpResponse:
    """The run's quality sample: draw one (POST), follow the labelling, read the estimate
    the labels give beside the model's own."""
    run = get_run_for(request.user, pk)
    form = SampleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            qualities.draw(request, run, form.cleaned_data["size"])
        except qualities.SampleError as e:
            messages.error(request, str(e))
        else:
            messages.success(request, _("Sample drawn. Label every pair, the hard ones too: "
                                        "when you cannot decide, say so."))
        return redirect("linkage:sample", pk=run.pk)
    q = qualities.quality(run)
    pairs = list(q.sample.pairs.all()) if q.sample else []
    by_stratum: dict[str, dict[str, int]] = {}
    for p in pairs:
        name = str(qualities.STRATUM_LABELS.get(p.stratum, p.stratum))
        row = by_stratum.setdefault(name, {"size": p.stratum_size, "sampled": 0,
                                           "labelled": 0, "matches": 0})
        row["sampled"] += 1
        row["labelled"] += p.label != ""
        row["matches"] += p.label == "match"
    nxt = qualities.next_unlabelled(q.sample) if q.sample else None
    return render(request, "linkage/sample.html", {
        "run": run, "quality": q, "form": form, "pairs": pairs, "strata": by_stratum,
        "next": nxt})


@require_http_methods(["GET", "POST"])
@capability_required("linkage.review")
@require_recent_password()
def sample_pair(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    """One sampled pair side by side (identifiers unsealed in memory, audited); POST labels it
    and moves to the next unlabelled pair."""
    run = get_run_for(request.user, pk)
    current = qualities.current(run)
    pair = current.pairs.filter(index=index).first() if current else None
    if current is None or pair is None:
        raise Http404
    if request.method == "POST":
        form = LabelForm(request.POST)
        if form.is_valid():
            qualities.label(request, pair, form.cleaned_data["label"])
            nxt = qualities.next_unlabelled(current)
            if nxt is not None:
                return redirect("linkage:sample_pair", pk=run.pk, index=nxt.index)
            messages.success(request, _("Every pair of the sample is labelled."))
            return redirect("linkage:sample", pk=run.pk)
    left = services.record_fields(pair.source_l, pair.record_id_l, with_identifiers=True)
    right = services.record_fields(pair.source_r, pair.record_id_r, with_identifiers=True)
    audit.record(request, "linkage.sample_view", run, sample=current.pk, index=index,
                 pair=f"{pair.source_l}:{pair.record_id_l} ~ {pair.source_r}:{pair.record_id_r}")
    fields = [(f, left.get(f), right.get(f)) for f in
              (*services.IDENTIFIER_FIELDS, *services.PAIR_FIELDS, "batch")]
    done = current.pairs.exclude(label="").count()
    response = render(request, "linkage/sample_pair.html", {
        "run": run, "pair": pair, "fields": fields, "form": LabelForm(),
        "missing": left.get("missing") or right.get("missing"),
        "done": done, "total": current.pairs.count()})
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@capability_required("linkage.review")
@require_recent_password()
def review_pair(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    """Two records side by side, identifiers unsealed in memory for the steward (audited);
    POST records the decision (audited) and moves to the next undecided pair."""
    run = get_run_for(request.user, pk)
    pair = services.queued_pair(run, index)
    if pair is None:
        raise Http404
    if request.method == "POST":
        form = DecisionForm(request.POST)
        if form.is_valid():
            services.decide(request, run, pair, form.cleaned_data["decision"])
            messages.success(request, _("Decision saved; the next link run respects it."))
            nxt = services.review_queue(run)
            if nxt:
                return redirect("linkage:review_pair", pk=run.pk, index=nxt[0].index)
            return redirect("linkage:review", pk=run.pk)
    left = services.record_fields(pair.source_l, pair.record_id_l, with_identifiers=True)
    right = services.record_fields(pair.source_r, pair.record_id_r, with_identifiers=True)
    audit.record(request, "linkage.review_view", run, pair_index=index,
                 pair=f"{pair.source_l}:{pair.record_id_l} ~ {pair.source_r}:{pair.record_id_r}")
    fields = [(f, left.get(f), right.get(f)) for f in
              (*services.IDENTIFIER_FIELDS, *services.PAIR_FIELDS, "batch")]
    response = render(request, "linkage/review_pair.html", {
        "run": run, "pair": pair, "fields": fields, "form": DecisionForm(),
        "missing": left.get("missing") or right.get("missing"),
        "queue_url": reverse("linkage:review", args=[run.pk])})
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@capability_required("linkage.designate")
@require_recent_password()
def designate(request: HttpRequest, pk: int) -> HttpResponse:
    """Make the run the designated linkage: the figures count its persons."""
    run = get_run_for(request.user, pk)
    try:
        designations.designate(request, run, request.POST.get("note", "")[:2000])
    except designations.DesignationError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, _("Link run #%(n)s now defines persons in the figures.")
                         % {"n": run.pk})
    return redirect("linkage:run", pk=run.pk)


@require_POST
@capability_required("linkage.designate")
@require_recent_password()
def withdraw(request: HttpRequest) -> HttpResponse:
    note = request.POST.get("note", "").strip()[:2000]
    if not note:
        messages.error(request, _("Say why the designated linkage is withdrawn."))
    elif designations.withdraw(request, note) is not None:
        messages.success(request, _("The designated linkage was withdrawn: the figures "
                                    "count records until another run is designated."))
    return redirect("linkage:runs")


@require_POST
@capability_required("linkage.designate")
def relink(request: HttpRequest) -> HttpResponse:
    """Link the records approved since the designated run (incrementally: its model scores
    only the new records) and designate the result once it succeeds."""
    current = designations.current()
    if current is None:
        messages.error(request, _("No link run is designated; start a new run instead."))
        return redirect("linkage:runs")
    run = services.start_relink(request, current.run)
    return redirect("linkage:run", pk=run.pk)
