"""The release workflow: prepare (a background job), check, approve (spending from the
ledger), freeze, withdraw; the ledger's arithmetic and chain.

Business rules live here and in :mod:`tiplab.privacy.release`; views only call them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from tiplab.privacy import release as core
from tiplab_web.audit.services import record
from tiplab_web.core.access import can, organisation_of

from .models import Brief, LedgerEntry, PrivacyLedger, Release, ReleaseVersion

log = logging.getLogger(__name__)

DEFAULT_DATASET = "cases"
FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json",
           "parquet": "application/vnd.apache.parquet"}
GENESIS = "0" * 64


class PublicationError(Exception):
    """A workflow step cannot be taken; the message is fit for the user."""


# -- ledger ----------------------------------------------------------------------------

def ledger(dataset: str = DEFAULT_DATASET) -> PrivacyLedger:
    """The ledger of ``dataset``, created with the configured cap on first use."""
    obj, _created = PrivacyLedger.objects.get_or_create(
        dataset=dataset, defaults={
            "title": _("Case records (every data version of the same people)"),
            "epsilon_cap": float(settings.TIPLAB_PRIVACY_EPSILON_CAP),
            "delta_cap": float(settings.TIPLAB_PRIVACY_DELTA_CAP)})
    return obj


def spent(led: PrivacyLedger) -> dict[str, float]:
    agg = led.entries.aggregate(epsilon=Sum("epsilon"), delta=Sum("delta"))
    eps, delta = float(agg["epsilon"] or 0.0), float(agg["delta"] or 0.0)
    return {"epsilon": eps, "delta": delta, "epsilon_left": max(0.0, led.epsilon_cap - eps),
            "share": (eps / led.epsilon_cap) if led.epsilon_cap else 1.0}


def spends(led: PrivacyLedger) -> list[dict[str, Any]]:
    return [{"epsilon": e.epsilon, "delta": e.delta, "mechanism": e.mechanism,
             "query": e.query} for e in led.entries.all()]


def verify_ledger(led: PrivacyLedger) -> list[str]:
    """Problems with the ledger's hash chain (empty: intact)."""
    problems: list[str] = []
    prev = GENESIS
    for n, e in enumerate(led.entries.order_by("seq"), start=1):
        if e.seq != n:
            problems.append(f"entry #{e.seq}: expected sequence number {n} (an entry is missing)")
        if e.prev_hash != prev:
            problems.append(f"entry #{e.seq}: does not follow the previous entry")
        if e.compute_hash() != e.hash:
            problems.append(f"entry #{e.seq}: its content does not match its hash")
        prev = e.hash
    return problems


# -- releases and versions -------------------------------------------------------------

def _identifier(number: int) -> str:
    return f"tiplab:{settings.TIPLAB_RELEASE_PREFIX}-{timezone.now().year}-{number:04d}"


def create_release(request_or_user: Any, *, title: str, description: str = "",
                   dataset: str = DEFAULT_DATASET) -> Release:
    user = getattr(request_or_user, "user", request_or_user)
    if not can(user, "publications.prepare"):
        raise PublicationError(_("Your role does not prepare releases."))
    if organisation_of(user) is None:
        raise PublicationError(_("Your account belongs to no organisation."))
    with transaction.atomic():
        number = (Release.objects.aggregate(n=Max("number"))["n"] or 0) + 1
        rel = Release.objects.create(number=number, identifier=_identifier(number),
                                     title=title.strip()[:200], description=description.strip(),
                                     ledger=ledger(dataset), created_by=user,
                                     organisation=organisation_of(user))
        record(request_or_user, "publications.release_create", rel, title=rel.title)
    return rel


def new_version(request_or_user: Any, rel: Release, spec: core.ReleaseSpec, *,
                note: str = "", background: bool = True) -> ReleaseVersion:
    """A new version of ``rel`` from ``spec``, prepared by a background job (or here and
    now with ``background=False``: the command line and the demo's own job)."""
    from tiplab_web.jobs.kernel import submit

    from .jobs import PREPARE_KIND

    user = getattr(request_or_user, "user", request_or_user)
    if not can(user, "publications.prepare"):
        raise PublicationError(_("Your role does not prepare releases."))
    if rel.versions.filter(status__in=("preparing", "draft", "checked", "blocked")).exists():
        raise PublicationError(_("This release already has a version in preparation: "
                                 "approve or discard it first."))
    with transaction.atomic():
        number = (rel.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        v = ReleaseVersion.objects.create(release=rel, number=number, spec=spec.to_dict(),
                                          prepared_by=user, note=note.strip())
        record(request_or_user, "publications.version_prepare", v,
               epsilon=spec.epsilon, items=[i.key for i in spec.items])
    if not background:
        return prepare(v)
    submit(request_or_user, PREPARE_KIND, {"version": v.pk},
           label=_("Prepare release %(label)s") % {"label": v.label}, target=v)
    v.refresh_from_db()
    return v


def version_dir(v: ReleaseVersion) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", v.release.identifier)
    return Path(settings.DATA_DIR) / "releases" / safe / f"v{v.number}"


def _regions() -> list[str] | None:
    from tiplab_web.insights.services import country_dir

    path = country_dir() / "regions.geojson"
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    # the simulator's regions carry their code as ``code`` (tiplab.analysis.population's
    # REGION_KEY names the case column the codes match)
    return sorted({str(f["properties"]["code"]) for f in data.get("features", [])
                   if f.get("properties", {}).get("code")})


def _own_country() -> list[str]:
    """The simulated country's code (not an ISO one) when the workspace is the demo's."""
    from tiplab_web.insights.services import simulated_country

    country = simulated_country()
    return [] if country is None else [str(c) for c in country["iso_a3"].tolist()]


def _estimate(user: Any) -> dict[str, Any] | None:
    from tiplab_web.core.access import organisation_of
    from tiplab_web.estimates import record as est_record

    designation, overall = est_record.headline(organisation_of(user))
    if designation is None or overall.get("estimate") is None or not overall.get("interval"):
        return None
    lo, hi = overall["interval"]
    return {"estimate": overall["estimate"], "low": lo, "high": hi,
            "method": str(overall.get("method", "")),
            "source": f"estimate of record: run {designation.run_id} "
                      f"(data version {designation.run.data_version})"}


def prepare(v: ReleaseVersion, progress: Any = None) -> ReleaseVersion:
    """Compute the version's items from the current snapshot, write its files and run the
    checks (the job's body). Files are written to a temporary directory and moved into place
    only when all of them are written: a crash leaves no half version."""
    from tiplab_web.insights import services as insights

    spec = core.ReleaseSpec.from_dict(v.spec)
    unit, _run = insights.unit_choice(None)
    eng = insights.engine(unit)
    cols = [c for c in (*core.DIMENSIONS.values(), "person_id")
            if c in eng.cases.columns]
    cases = eng.to_arrow(eng.cases.select(*cols))
    prepared = core.prepare(cases, spec, data_version=eng.data_version,
                            unit=eng.unit_info() if unit == "persons" else {"unit": "records"},
                            regions=_regions(), countries=_own_country(),
                            estimate=_estimate(v.prepared_by))
    target = version_dir(v)
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    items = []
    for a in prepared.artefacts:
        files = write_files(a.table, tmp, a.key)
        items.append({"key": a.key, "kind": a.kind, "title": a.title,
                      "rows": a.table.num_rows, "columns": a.table.column_names,
                      "files": files, "meta": _jsonable(a.meta)})
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    led = v.release.ledger
    checks = core.run_checks(prepared, spent=spends(led), epsilon_cap=led.epsilon_cap,
                             delta_cap=led.delta_cap,
                             threshold=int(settings.TIPLAB_RELEASE_THRESHOLD),
                             current_data_version=insights.data_version())
    v.items = items
    v.figures = _jsonable(prepared.figures)
    v.data_version = prepared.data_version
    v.unit = _jsonable(prepared.unit)
    v.checks = [c.to_dict() for c in checks]
    v.checked_at = timezone.now()
    v.status = (ReleaseVersion.Status.CHECKED if core.passed(checks)
                else ReleaseVersion.Status.BLOCKED)
    v.save()
    return v


def write_files(table: pa.Table, where: Path, key: str) -> dict[str, dict[str, Any]]:
    """The table as Parquet, CSV and JSON (the three download formats), with sha256."""
    import pyarrow.csv as pcsv

    out: dict[str, dict[str, Any]] = {}
    pq.write_table(table, where / f"{key}.parquet")
    pcsv.write_csv(table, where / f"{key}.csv")
    (where / f"{key}.json").write_text(json.dumps(
        {"columns": table.column_names, "rows": _jsonable(table.to_pylist())},
        ensure_ascii=False, separators=(",", ":")))
    for fmt in FORMATS:
        p = where / f"{key}.{fmt}"
        out[fmt] = {"name": p.name, "bytes": p.stat().st_size, "sha256": _sha256(p)}
    return out


def _sha256(p: Path) -> str:
    h = hashlib.sha256()
    with p.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _jsonable(v: Any) -> Any:
    from tiplab.analysis.results import _jsonable as j

    return j(v)


def item_file(v: ReleaseVersion, key: str, fmt: str) -> Path:
    """The path of one stored file of a version, verified against its recorded sha256."""
    item = next((i for i in v.items if i["key"] == key), None)
    if item is None or fmt not in item["files"]:
        raise PublicationError(_("This release has no such file."))
    p = version_dir(v) / item["files"][fmt]["name"]
    if not p.exists() or (v.frozen and _sha256(p) != item["files"][fmt]["sha256"]):
        log.error("release file %s missing or changed since it was frozen", p)
        raise PublicationError(_("This file is missing or was changed since the release "
                                 "was frozen; it is not served."))
    return p


def item_table(v: ReleaseVersion, key: str) -> pa.Table:
    return pq.read_table(item_file(v, key, "parquet"))


def recheck(v: ReleaseVersion) -> list[core.Check]:
    """Run the checks again on the files as stored (k-anonymity by brute force on the very
    file that would be published), against the ledger and data version of now."""
    from tiplab_web.insights.services import data_version as current_dv

    spec = core.ReleaseSpec.from_dict(v.spec)
    artefacts = [core.Artefact(i["key"], i["kind"], i["title"], item_table(v, i["key"]),
                               dict(i["meta"])) for i in v.items]
    prepared = core.PreparedRelease(spec=spec, data_version=v.data_version, unit=v.unit,
                                    artefacts=artefacts, figures=v.figures)
    led = v.release.ledger
    return core.run_checks(prepared, spent=spends(led), epsilon_cap=led.epsilon_cap,
                           delta_cap=led.delta_cap,
                           threshold=int(settings.TIPLAB_RELEASE_THRESHOLD),
                           current_data_version=current_dv())


def check(request_or_user: Any, v: ReleaseVersion) -> ReleaseVersion:
    """Re-run the checks of a prepared version and record the outcome."""
    if v.frozen or v.status not in (ReleaseVersion.Status.CHECKED,
                                    ReleaseVersion.Status.BLOCKED):
        raise PublicationError(_("Only a prepared, unpublished version can be checked again."))
    checks = recheck(v)
    v.checks = [c.to_dict() for c in checks]
    v.checked_at = timezone.now()
    v.status = (ReleaseVersion.Status.CHECKED if core.passed(checks)
                else ReleaseVersion.Status.BLOCKED)
    v.save(update_fields=["checks", "checked_at", "status"])
    record(request_or_user, "publications.version_check", v, passed=core.passed(checks))
    return v


def releases_for(user: Any) -> Any:
    """The releases ``user`` may see inside the platform: their organisation's."""
    return Release.objects.filter(organisation=organisation_of(user))


def find_version(ref: str, user: Any = None) -> ReleaseVersion:
    """A version by reference: ``tiplab:XT-2026-0001.v2``, ``1/v2``, ``1/2``, or a release
    (identifier or number) alone for its latest version."""
    ref = ref.strip()
    m = re.fullmatch(r"(?P<rel>.+?)(?:(?:\.v|/v?)(?P<v>\d+))?", ref)
    rel_ref, num = (m.group("rel"), m.group("v")) if m else (ref, None)
    base = releases_for(user) if user is not None else Release.objects.all()
    qs = base.filter(number=int(rel_ref)) if rel_ref.isdigit() else \
        base.filter(identifier=rel_ref)
    rel = qs.first()
    if rel is None:
        raise PublicationError(_("No release %(ref)s.") % {"ref": rel_ref})
    versions = rel.versions.select_related("release__ledger", "prepared_by", "approved_by")
    v = versions.filter(number=int(num)).first() if num else versions.order_by("-number").first()
    if v is None:
        raise PublicationError(_("No version %(ref)s.") % {"ref": ref})
    return v


# -- approval, withdrawal ----------------------------------------------------------------

def approve(request_or_user: Any, v: ReleaseVersion) -> ReleaseVersion:
    """Freeze ``v`` and spend its privacy loss from the ledger, in one transaction.

    The budget is checked again under a lock on the ledger, so two approvals at once cannot
    both pass a check that only one of them fits."""
    user = getattr(request_or_user, "user", request_or_user)
    if not can(user, "publications.approve"):
        raise PublicationError(_("Only a data steward approves releases."))
    if v.release.organisation_id != getattr(organisation_of(user), "pk", None):
        raise PublicationError(_("This release belongs to another organisation."))
    if settings.TIPLAB_RELEASE_FOUR_EYES and v.prepared_by_id == user.pk:
        raise PublicationError(_("You prepared this version: another data steward must "
                                 "approve it (four eyes)."))
    with transaction.atomic():
        v = ReleaseVersion.objects.select_for_update().select_related(
            "release__ledger").get(pk=v.pk)
        if v.status != ReleaseVersion.Status.CHECKED:
            raise PublicationError(_("Only a version whose checks passed can be approved "
                                     "(this one is: %(s)s).") % {"s": v.get_status_display()})
        failed = [c for c in recheck(v) if not c.passed]
        if failed:
            raise PublicationError(_("The checks no longer pass: %(why)s")
                                   % {"why": "; ".join(c.message for c in failed)})
        from tiplab_web.insights.services import data_version as current_dv

        if v.data_version != current_dv():
            raise PublicationError(_("The data changed since this version was prepared "
                                     "(%(old)s, now %(new)s): prepare a new version.")
                                   % {"old": v.data_version, "new": current_dv()})
        led = PrivacyLedger.objects.select_for_update().get(pk=v.release.ledger_id)
        new = [i for i in v.items if float(i["meta"].get("epsilon") or 0) > 0]
        from tiplab.privacy import budget as bud

        try:
            bud.check([bud.Spend(epsilon=s["epsilon"], delta=s["delta"]) for s in spends(led)],
                      [bud.Spend(epsilon=float(i["meta"]["epsilon"]),
                                 delta=float(i["meta"].get("delta") or 0)) for i in new],
                      bud.Budget(epsilon_cap=led.epsilon_cap, delta_cap=led.delta_cap))
        except bud.BudgetExceeded as e:
            raise PublicationError(str(e)) from e
        now = timezone.now()
        last = led.entries.order_by("-seq").first()
        prev, seq = (last.hash, last.seq) if last else (GENESIS, 0)
        for i in new:
            seq += 1
            m = i["meta"]
            e = LedgerEntry(ledger=led, seq=seq, version=v, item_key=i["key"],
                            query=str(m.get("query", ""))[:300],
                            mechanism=str(m.get("mechanism", ""))[:40],
                            unit=str(m.get("unit", ""))[:20], epsilon=float(m["epsilon"]),
                            delta=float(m.get("delta") or 0),
                            rho=None if m.get("rho") is None else float(m["rho"]),
                            data_version=v.data_version, approved_by=user, created_at=now,
                            prev_hash=prev)
            e.hash = e.compute_hash()
            e.save()
            record(request_or_user, "publications.ledger_spend", e, epsilon=e.epsilon,
                   delta=e.delta, ledger=led.dataset, seq=e.seq, hash=e.hash)
            prev = e.hash
        previous = v.release.latest_published()
        v.changes = changes(previous, v)
        v.content_hash = content_hash(v)
        v.approved_by = user
        v.approved_at = now
        v.citation = citation(v)
        v.status = ReleaseVersion.Status.PUBLISHED
        v.save()
        record(request_or_user, "publications.version_approve", v,
               content_hash=v.content_hash, epsilon=v.epsilon, data_version=v.data_version)
    _public_cache_bump()
    return v


def content_hash(v: ReleaseVersion) -> str:
    blob = json.dumps({"items": [{k: i[k] for k in ("key", "kind", "files")} for i in v.items],
                       "figures": v.figures, "data_version": v.data_version},
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def jurisdiction(org: Any) -> str:
    """The country a release is about: ``TIPLAB_JURISDICTION``, else the demo's simulated
    country, else the publishing organisation's country."""
    if settings.TIPLAB_JURISDICTION:
        return str(settings.TIPLAB_JURISDICTION)
    from tiplab_web.insights.services import simulated_country

    sim = simulated_country()
    if sim is not None and "name" in sim.columns and len(sim):
        return str(sim["name"].iloc[0])
    import pycountry

    code = str(getattr(org, "country", "") or "")
    found = pycountry.countries.get(alpha_2=code) if len(code) == 2 else None
    return str(getattr(found, "common_name", None) or found.name) if found else (
        code or _("the country"))


def citation(v: ReleaseVersion) -> str:
    org = v.release.organisation.name
    year = (v.approved_at or timezone.now()).year
    return (f"{org} ({year}). {v.release.title}, version {v.number} "
            f"[data set]. {v.release.identifier}.v{v.number}. "
            f"Data version {v.data_version}.")


def changes(previous: ReleaseVersion | None, v: ReleaseVersion) -> dict[str, Any]:
    """What differs from the previous published version: items added, removed, changed
    (their files), and every key figure that moved."""
    if previous is None:
        return {"first": True}
    old = {i["key"]: i for i in previous.items}
    new = {i["key"]: i for i in v.items}
    changed = [k for k in new.keys() & old.keys()
               if new[k]["files"]["parquet"]["sha256"] != old[k]["files"]["parquet"]["sha256"]]
    of = {f["key"]: f for f in previous.figures}
    figures = [{"key": f["key"], "label": f.get("label", f["key"]),
                "old": of[f["key"]].get("value"), "new": f.get("value")}
               for f in v.figures if f["key"] in of and of[f["key"]].get("value") != f.get("value")]
    return {"previous": previous.number, "added": sorted(new.keys() - old.keys()),
            "removed": sorted(old.keys() - new.keys()), "changed": sorted(changed),
            "figures": figures,
            "data_version": [previous.data_version, v.data_version]
            if previous.data_version != v.data_version else None}


def withdraw(request_or_user: Any, v: ReleaseVersion, reason: str) -> ReleaseVersion:
    """Take a published version off the portal (the ledger keeps its spend: what was
    published cannot be unpublished)."""
    user = getattr(request_or_user, "user", request_or_user)
    if not can(user, "publications.approve"):
        raise PublicationError(_("Only a data steward withdraws releases."))
    if not reason.strip():
        raise PublicationError(_("Say why the version is withdrawn."))
    if v.status != ReleaseVersion.Status.PUBLISHED:
        raise PublicationError(_("Only a published version can be withdrawn."))
    v.status = ReleaseVersion.Status.WITHDRAWN
    v.withdrawn_reason = reason.strip()
    v.withdrawn_at = timezone.now()
    v.save(update_fields=["status", "withdrawn_reason", "withdrawn_at"])
    record(request_or_user, "publications.version_withdraw", v, reason=v.withdrawn_reason)
    _public_cache_bump()
    return v


def discard(request_or_user: Any, v: ReleaseVersion) -> ReleaseVersion:
    user = getattr(request_or_user, "user", request_or_user)
    if not can(user, "publications.prepare"):
        raise PublicationError(_("Your role does not prepare releases."))
    if v.frozen or v.status == ReleaseVersion.Status.PREPARING:
        raise PublicationError(_("Only a prepared, unpublished version can be discarded."))
    v.status = ReleaseVersion.Status.DISCARDED
    v.save(update_fields=["status"])
    shutil.rmtree(version_dir(v), ignore_errors=True)
    record(request_or_user, "publications.version_discard", v)
    return v


def _public_cache_bump() -> None:
    from django.core.cache import cache

    try:
        cache.incr("tiplab:public:generation")
    except ValueError:
        cache.set("tiplab:public:generation", 1, None)


def public_generation() -> int:
    from django.core.cache import cache

    return int(cache.get("tiplab:public:generation") or 0)


def published_versions() -> Any:
    return (ReleaseVersion.objects.filter(status=ReleaseVersion.Status.PUBLISHED)
            .select_related("release", "approved_by").order_by("-approved_at"))


def briefs_of(v: ReleaseVersion) -> Any:
    return Brief.objects.filter(version=v)


def timestamp(value: dt.datetime | None) -> str:
    return value.isoformat() if value else ""
