"""Linkage over the system of record: build the inputs, run ``tiplab.linkage.link`` in the
background, store the run (counts, threshold trade-off, capture patterns, quality against a
truth file) and its identifier-free result files; the review queue and decisions.

Identifiers are decrypted in memory only (``DjangoCaseStore.linkage_records``) and never
written: the files under ``DATA_DIR/linkage/<run>/`` hold record ids, person ids,
probabilities and comparison weights, nothing a name or a date of birth can be read from.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from django.conf import settings
from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tiplab.linkage import LinkInput, LinkSettings, evaluate_clusters, link
from tiplab.linkage.review import DECISION_SCHEMA
from tiplab_web import audit
from tiplab_web.cases.models import CaseRecord, ImportBatch

from .models import LinkDecision, LinkRun

log = logging.getLogger("tiplab.web.linkage")

JOB_KIND = "linkage.run"
DESIGNATE_KIND = "linkage.designate"
SAMPLE_KIND = "linkage.sample"

#: store column -> linkage role
ROLES = {
    "given_name": "first_name",
    "family_name": "last_name",
    "full_name": "full_name",
    "birth_date": "birth_date",
    "sex": "sex",
    "citizenship": "citizenship",
    "phone": "phone",
    "document_number": "document_number",
    # canonical in the store for every source, unlike the agencies' own export files
    "region_of_exploitation": "region",
    "registration_date": "registration_date",
    "age": "age",
    # case characteristics, HTCDS codes in the store (weak evidence; see docs/linkage.md)
    "exploitation_forms": "exploitation_form",
    "recruiter_relation": "recruiter_relation",
    "means_of_control": "means_of_control",
}
#: non-identifying strata carried to the person table (the estimation page's strata)
ATTRIBUTES = ("year", "region_of_exploitation", "sex", "age_band", "exploitation_form")
IDENTIFIER_FIELDS = ("given_name", "family_name", "full_name", "birth_date",
                     "document_number", "phone")
#: result files of a run (all Parquet, none with identifiers)
FILES = ("clusters", "pairs", "persons", "threshold", "review_queue")


def run_dir(run: LinkRun) -> Path:
    return Path(settings.DATA_DIR) / "linkage" / str(run.pk)


def store() -> Any:
    from tiplab_web.cases.store import DjangoCaseStore

    return DjangoCaseStore(Path(settings.DATA_DIR))


def data_version() -> str:
    from tiplab.snapshot import open_snapshot

    try:
        return open_snapshot(Path(settings.DATA_DIR)).data_version
    except Exception as e:  # no snapshot yet, or unreadable: record that, don't fail the run
        log.warning("no snapshot data version: %s", e)
        return ""


def available_sources() -> list[tuple[str, int]]:
    """(agency, active records), for the "Link records" form."""
    rows = (CaseRecord.objects.filter(batch__status=ImportBatch.ACTIVE)
            .values_list("source_agency").annotate(n=Count("id")).order_by("source_agency"))
    return [(a, n) for a, n in rows]


def link_inputs(table: pa.Table, sources: list[str]) -> list[LinkInput]:
    """One clear-text ``LinkInput`` per agency from ``linkage_records`` rows. A name role is
    mapped only when the agency filled it (``full_name`` only without given/family names)."""
    out = []
    for source in sources:
        part = table.filter(pc.equal(table.column("source_agency"), source))
        if part.num_rows == 0:
            continue
        filled = {c for c in ROLES if c in part.column_names
                  and part.column(c).null_count < part.num_rows}
        roles = {role: col for col, role in ROLES.items() if col in filled}
        if {"given_name", "family_name"} & filled:
            roles.pop("full_name", None)
        attrs = {a: a for a in ATTRIBUTES if a in part.column_names}
        out.append(LinkInput(source=source, table=part, record_id="record_id", roles=roles,
                             attributes=attrs))
    return out


def decisions_table() -> pa.Table:
    """Every review decision, oldest first, in the shape ``tiplab.linkage`` expects."""
    rows = list(LinkDecision.objects.order_by("decided_at", "id").values_list(
        "source_l", "record_id_l", "source_r", "record_id_r", "decision",
        "decided_by__username", "decided_at"))
    data: dict[str, list[Any]] = {name: [] for name in DECISION_SCHEMA.names}
    for row in rows:
        for name, value in zip(DECISION_SCHEMA.names[:6], row[:6], strict=True):
            data[name].append(str(value))
        data["decided_at"].append(row[6].isoformat())
    return pa.table(data, schema=DECISION_SCHEMA)


def capture_patterns(persons: pa.Table) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Persons per combination of agencies (the overlap MSE needs) and per number of agencies."""
    patterns = Counter(tuple(s) for s in persons.column("sources").to_pylist())
    rows = [{"pattern": list(k), "agencies": len(k), "persons": n}
            for k, n in sorted(patterns.items(), key=lambda kv: (len(kv[0]), kv[0]))]
    by_n: Counter[int] = Counter()
    for k, n in patterns.items():
        by_n[len(k)] += n
    return rows, {str(k): by_n[k] for k in sorted(by_n)}


def truth_file() -> Path | None:
    path = Path(settings.DATA_DIR) / "demo" / "truth" / "records.csv"
    return path if path.exists() else None


def start_run(request_or_user: Any, sources: list[str], threshold: float | None, *,
              then: list[dict[str, Any]] | None = None,
              prepare: Any = None) -> LinkRun:
    """Create the run, audit it, and queue the linkage as a background job (``then``:
    follow-up jobs once it succeeds, e.g. ``estimates.services.then_estimate``)."""
    from tiplab_web.core.access import organisation_of
    from tiplab_web.jobs.kernel import submit

    user = getattr(request_or_user, "user", request_or_user)
    link_settings = LinkSettings(threshold=threshold)
    run_settings = {"sources": sorted(sources), "mode": "clear", "threshold": threshold,
                    "link_settings": json.loads(link_settings.model_dump_json())}
    if prepare is not None:  # e.g. a re-link: incremental from a base run
        prepare(run_settings)
    run = LinkRun.objects.create(
        organisation=organisation_of(user), created_by=user,
        data_version=data_version(), settings=run_settings)
    audit.record(request_or_user, "linkage.run", run, sources=sorted(sources),
                 threshold=threshold, mode=run_settings["mode"],
                 base_run=run_settings.get("base_run"),
                 identifiers="bulk access to the decrypted identifiers of these agencies",
                 data_version=run.data_version)
    submit(request_or_user, JOB_KIND, {"run": run.pk}, target=run, then=then,
           label=_("Record linkage #%(n)d (%(sources)s)")
           % {"n": run.pk, "sources": ", ".join(sorted(sources))})
    return run


def execute(run: LinkRun, ctx: Any) -> None:
    """The background part of a run: link, write the files, record the counts."""
    from tiplab_web.jobs.kernel import JobFailure

    ctx.progress("reading records", 0.0)
    table = store().linkage_records(with_identifiers=True)
    sources = run.sources
    table = table.filter(pc.is_in(table.column("source_agency"),
                                  pa.array(sources, pa.string())))
    audit.record(run.created_by, "linkage.identifiers_accessed", run, records=table.num_rows,
                 sources=sources, purpose="record linkage (in memory, not stored)")
    inputs = link_inputs(table, sources)
    if not inputs:
        raise JobFailure(_("None of the chosen agencies has active records."))
    decisions = decisions_table()
    ctx.progress("linking", 0.1)
    result = None
    if run.settings.get("base_run"):
        result = _link_incremental(run, table, sources, decisions, ctx)
    if result is None:
        result = link(inputs, LinkSettings(**run.settings["link_settings"]),
                      decisions=decisions if decisions.num_rows else None)
    del table, inputs  # the identifiers go out of scope here
    result.standardised = None
    ctx.progress("writing results", 0.8)
    write_results(run, result)
    summary = result.summary()
    patterns, by_n = capture_patterns(result.persons)
    run.records = result.n_records
    run.persons = result.n_persons
    run.pairs_scored = summary["pairs_scored"]
    run.pairs_above_threshold = summary["pairs_above_threshold"]
    run.records_by_agency = summary["sources"]
    run.threshold = result.threshold.threshold
    run.threshold_choice = result.threshold.to_dict()
    run.capture_patterns = patterns
    run.persons_by_agency_count = by_n
    run.decisions_applied = decisions.num_rows
    run.conflicts = summary["conflicts"]
    run.review_pairs = pq.read_metadata(run_dir(run) / "review_queue.parquet").num_rows
    run.timings = summary["timings"]
    truth = truth_file()
    if truth is not None:
        ctx.progress("checking against the truth file", 0.9)
        t = pacsv.read_csv(truth, convert_options=pacsv.ConvertOptions(
            column_types={"record_id": pa.string(), "true_id": pa.string()}))
        run.quality = evaluate_clusters(result.clusters, t).to_dict()
        ctx.progress("comparing the estimate with the true linkage", 0.92)
        from .truth_effect import precompute

        precompute(run)  # caches run_dir/truth_effect.json; never fails the run
    ctx.report("saving", 0.95)
    run.save()


def then_designate(user: Any, note: str, *,
                   then: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A follow-up for a linkage job: designate its run in ``user``'s name (a steward's
    re-link, or the demo's set-up) once the run has succeeded; ``then``: jobs once it is."""
    from tiplab_web.jobs.kernel import follow_up

    return follow_up(DESIGNATE_KIND, {"by": user.pk, "note": note,
                                      **({"then": then} if then else {})},
                     label=_("Designate the new link run"))


def _designate_after(ctx: Any) -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    from . import designation

    run = LinkRun.objects.get(pk=ctx.params["after"]["result"]["run"])
    user = get_user_model().objects.get(pk=ctx.params["by"])
    try:
        designation.designate(user, run, ctx.params.get("note", ""))
    except designation.DesignationError as e:
        from tiplab_web.jobs.kernel import JobFailure

        raise JobFailure(str(e)) from e
    return {"run": run.pk}


def start_relink(request: Any, base: LinkRun) -> LinkRun:
    """Link the records approved since ``base`` to its persons (incrementally), then make the
    new run the designated linkage. Every agency with approved records takes part."""
    sources = sorted(set(base.sources) | {a for a, _n in available_sources()})
    note = _("incremental re-link of run #%(n)s") % {"n": base.pk}
    return start_run(request, sources, base.settings.get("threshold"),
                     then=[then_designate(request.user, note)],
                     prepare=lambda s: s.update(base_run=base.pk, mode="incremental"))


def _link_incremental(run: LinkRun, table: pa.Table, sources: list[str], decisions: pa.Table,
                      ctx: Any) -> Any:
    """The base run's model scores only the records approved since it; None (with the reason
    kept in the run's settings) when a full linkage is needed instead."""
    from tiplab.linkage import link_incremental, resume
    from tiplab.linkage.threshold import ThresholdChoice

    base = LinkRun.objects.filter(pk=run.settings["base_run"]).first()

    def full(reason: str) -> None:
        log.info("link run %s: full linkage instead of incremental: %s", run.pk, reason)
        run.settings = {**run.settings, "mode": "clear", "incremental_refused": reason}
        run.save(update_fields=["settings"])

    if base is None or base.status != LinkRun.DONE:
        return full(_("the designated run is gone or unfinished"))
    folder = run_dir(base)
    if not (folder / "model.json").exists():
        return full(_("run #%(n)s kept no model (it predates incremental linkage)")
                    % {"n": base.pk})
    clusters = pq.read_table(folder / "clusters.parquet")
    keys = pa.table({"source": table.column("source_agency"),
                     "record_id": table.column("record_id")})
    old_keys = set(zip(clusters.column("source").to_pylist(),
                       clusters.column("record_id").to_pylist(), strict=True))
    now_keys = list(zip(keys.column("source").to_pylist(), keys.column("record_id").to_pylist(),
                        strict=True))
    is_old = pa.array([k in old_keys for k in now_keys])
    if pc.sum(is_old).as_py() != len(old_keys):
        return full(_("records run #%(n)s linked were corrected or withdrawn since")
                    % {"n": base.pk})
    new_part = table.filter(pc.invert(is_old))
    if new_part.num_rows == 0:
        return full(_("no record was added since run #%(n)s") % {"n": base.pk})
    ctx.progress(f"restoring run #{base.pk}", 0.15)
    previous = resume(link_inputs(table.filter(is_old), base.sources), clusters,
                      pq.read_table(folder / "pairs.parquet"),
                      json.loads((folder / "model.json").read_text(encoding="utf-8")),
                      ThresholdChoice.from_dict(base.threshold_choice),
                      LinkSettings(**base.settings["link_settings"]),
                      decisions=decisions if decisions.num_rows else None)
    ctx.progress(f"scoring {new_part.num_rows} new records", 0.3)
    return link_incremental(previous, link_inputs(new_part, sources))


def write_results(run: LinkRun, result: Any) -> Path:
    """Parquet files without identifiers, and the threshold chart as SVG."""
    out = run_dir(run)
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(result.clusters, out / "clusters.parquet")
    pq.write_table(result.pairs.drop_columns(
        [c for c in ("unique_id_l", "unique_id_r") if c in result.pairs.column_names]),
        out / "pairs.parquet")
    pq.write_table(result.persons, out / "persons.parquet")
    tradeoff = result.threshold.to_dict()["tradeoff"]
    pq.write_table(pa.Table.from_pylist(tradeoff) if tradeoff else pa.table({}),
                   out / "threshold.parquet")
    pq.write_table(result.review_queue(), out / "review_queue.parquet")
    # the trained model (comparison definitions and m/u probabilities, no record's values):
    # what an incremental re-link scores new records with
    (out / "model.json").write_text(json.dumps(result.model), encoding="utf-8")
    try:
        import vl_convert as vlc

        svg = vlc.vegalite_to_svg(result.threshold.chart().to_json())
        (out / "threshold.svg").write_text(svg, encoding="utf-8")
    except Exception as e:  # a chart must not lose a finished linkage
        log.warning("threshold chart not written: %s", e)
    return out


def persons_path(run: LinkRun) -> Path:
    return run_dir(run) / "persons.parquet"


# -- review ---------------------------------------------------------------------------------
@dataclass
class QueuedPair:
    index: int
    source_l: str
    record_id_l: str
    source_r: str
    record_id_r: str
    match_probability: float
    weights: dict[str, float]


def _pair_key(a: str, b: str, c: str, d: str) -> tuple[tuple[str, str], tuple[str, str]]:
    x, y = (a, b), (c, d)
    return (x, y) if x <= y else (y, x)


def decided_keys() -> set[tuple[tuple[str, str], tuple[str, str]]]:
    return {_pair_key(*r) for r in LinkDecision.objects.values_list(
        "source_l", "record_id_l", "source_r", "record_id_r")}


def review_queue(run: LinkRun) -> list[QueuedPair]:
    """The run's uncertain pairs not decided since the run, most probable first."""
    path = run_dir(run) / "review_queue.parquet"
    if not path.exists():
        return []
    decided = decided_keys()
    out = []
    for i, row in enumerate(pq.read_table(path).to_pylist()):
        key = _pair_key(row["source_l"], row["record_id_l"], row["source_r"], row["record_id_r"])
        if key in decided:
            continue
        out.append(QueuedPair(i, row["source_l"], row["record_id_l"], row["source_r"],
                              row["record_id_r"], float(row["match_probability"]),
                              {k[3:]: v for k, v in row.items()
                               if k.startswith("mw_") and v is not None}))
    return out


def queued_pair(run: LinkRun, index: int) -> QueuedPair | None:
    path = run_dir(run) / "review_queue.parquet"
    if not path.exists():
        return None
    t = pq.read_table(path)
    if not 0 <= index < t.num_rows:
        return None
    row = t.slice(index, 1).to_pylist()[0]
    return QueuedPair(index, row["source_l"], row["record_id_l"], row["source_r"],
                      row["record_id_r"], float(row["match_probability"]),
                      {k[3:]: v for k, v in row.items() if k.startswith("mw_") and v is not None})


#: shown side by side in review: what the model compared besides the identifiers
PAIR_FIELDS = ("registration_date", "sex", "age_band", "citizenship", "region_of_exploitation",
               "exploitation_forms", "recruiter_relation", "means_of_control")


def record_fields(source: str, record_id: str, *, with_identifiers: bool) -> dict[str, Any]:
    """One active record's fields for the side-by-side view; identifiers unsealed in memory
    only when asked (data stewards)."""
    from tiplab.config import key_dir
    from tiplab.keys import load_keyring
    from tiplab.records.protect import unseal

    rec = (CaseRecord.objects.filter(batch__status=ImportBatch.ACTIVE, source_agency=source,
                                     record_id=record_id).select_related("batch").first())
    if rec is None:
        return {"missing": True}
    fields: dict[str, Any] = {f: getattr(rec, f) for f in PAIR_FIELDS}
    fields["exploitation_forms"] = ", ".join(rec.exploitation_forms or [])
    fields["means_of_control"] = ", ".join(rec.means_of_control or [])
    if with_identifiers:
        keyring = load_keyring(key_dir(Path(settings.DATA_DIR)))
        ident = unseal(bytes(rec.identity_sealed) if rec.identity_sealed else None, keyring,
                       rec.source_agency, rec.record_id)
        fields.update({f: ident.get(f) for f in IDENTIFIER_FIELDS})
    fields["batch"] = rec.batch.batch_id
    return fields


def decide(request: Any, run: LinkRun, pair: QueuedPair, decision: str) -> LinkDecision:
    d = LinkDecision.objects.create(
        source_l=pair.source_l, record_id_l=pair.record_id_l, source_r=pair.source_r,
        record_id_r=pair.record_id_r, decision=decision,
        match_probability=pair.match_probability, run=run, decided_by=request.user)
    audit.record(request, "linkage.decide", d, run=run.pk, decision=decision,
                 pair=f"{pair.source_l}:{pair.record_id_l} ~ {pair.source_r}:{pair.record_id_r}",
                 match_probability=round(pair.match_probability, 4))
    return d


def register_jobs() -> None:
    from tiplab_web.jobs.kernel import JobKind, register
    from tiplab_web.jobs.runs import run_kind

    register(run_kind(JOB_KIND, LinkRun, execute, label=gettext_lazy("Record linkage"),
                      url_name="linkage:run", capability="linkage.run"))
    from .quality import sample_after

    register(JobKind(name=SAMPLE_KIND, run=sample_after, retry_safe=False,
                     label=gettext_lazy("Draw a quality sample"),
                     result_url=lambda job: reverse("linkage:sample",
                                                    args=[job.result["run"]])
                     if (job.result or {}).get("run") else None,
                     capability="linkage.review"))
    register(JobKind(name=DESIGNATE_KIND, run=_designate_after, retry_safe=True,
                     label=gettext_lazy("Designate a link run"),
                     result_url=lambda job: reverse("linkage:run",
                                                    args=[job.result["run"]])
                     if (job.result or {}).get("run") else None,
                     capability="linkage.run"))
