"""The intake work behind the pages and the API: uploads, profiles, previews, rejects.

Views stay thin: they call these functions. Everything goes through ``tiplab.store.run_import``
(the same validation and atomicity as ``tiplab import``).
"""

from __future__ import annotations

import csv
import io
import logging
import re
import shutil
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
from django.conf import settings

from tiplab.ingest.pipeline import PreparedImport
from tiplab.ingest.profiles import Profile, builtin_profiles, parse_profile
from tiplab.ingest.readers import FORMATS, ROW
from tiplab.ingest.validate import REASONS
from tiplab.records.protect import REDACTED
from tiplab.records.schema import CASE_SCHEMA

from .models import ImportBatch, RejectedRow
from .store import DjangoCaseStore

log = logging.getLogger("tiplab.cases")

#: How many problem rows the preview shows in context.
PREVIEW_ROWS = 20
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def max_upload_bytes() -> int:
    """``TIPLAB_INTAKE_MAX_MB`` (default 200 MB)."""
    return int(getattr(settings, "TIPLAB_INTAKE_MAX_MB", 200)) * 1024 * 1024


def store(*, submit: bool = False) -> DjangoCaseStore:
    """The case store; ``submit``: new batches wait for a data steward's approval."""
    return DjangoCaseStore(Path(settings.DATA_DIR), submit=submit)


def prepare_analyses() -> None:
    """Write the analysis pages' flat tables for the data version an import just made.

    An optimisation only (a page builds a missing table itself): a failure is logged and
    never turns a finished import into a failed one.
    """
    from tiplab.analysis.flat import prepare

    try:
        prepare(store().data_dir)
    except Exception:
        log.exception("preparing the analysis tables after an import failed; the first "
                      "analysis page will build them")


def intake_dir() -> Path:
    return Path(settings.DATA_DIR) / "uploads" / "intake"


class UploadError(ValueError):
    """The uploaded file cannot be accepted (type, size)."""


def check_upload(name: str, size: int) -> None:
    suffix = Path(name).suffix.lower()
    if suffix not in FORMATS:
        raise UploadError(
            f"{name}: unsupported file type {suffix or '(none)'}; send one of "
            + ", ".join(sorted(FORMATS))
        )
    limit = max_upload_bytes()
    if size > limit:
        raise UploadError(f"{name} is {size / 1e6:.1f} MB; the limit is {limit / 1e6:.0f} MB")


def save_upload(uploaded: Any, upload_id: str | None = None) -> tuple[str, Path]:
    """Store an uploaded file under ``DATA_DIR/uploads/intake/<id>/``; return (id, path).

    With ``upload_id``, the earlier file of that upload is replaced (a corrected file)."""
    check_upload(uploaded.name, uploaded.size)
    upload_id = upload_id or uuid.uuid4().hex
    folder = intake_dir() / upload_id
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    name = _SAFE_NAME.sub("_", Path(uploaded.name).name).strip("._") or "upload"
    suffix = Path(uploaded.name).suffix.lower()
    if not name.lower().endswith(suffix):
        name += suffix
    path = folder / name
    with path.open("wb") as out:
        for chunk in uploaded.chunks():
            out.write(chunk)
    return upload_id, path


def discard_upload(upload_id: str) -> None:
    if re.fullmatch(r"[0-9a-f]{32}", upload_id):
        shutil.rmtree(intake_dir() / upload_id, ignore_errors=True)


# -- profiles ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class KnownProfile:
    key: str
    label: str
    text: str


def known_profiles() -> dict[str, KnownProfile]:
    """Profiles to pick from: those shipped with tiplab, ``DATA_DIR/profiles/*.yaml`` and the
    demo agencies' ``DATA_DIR/demo/*.profile.yaml``."""
    out: dict[str, KnownProfile] = {}
    for name, text in sorted(builtin_profiles().items()):
        out[f"shipped:{name}"] = KnownProfile(f"shipped:{name}", f"{name} (shipped)", text)
    data = Path(settings.DATA_DIR)
    for folder, pattern, tag in ((data / "profiles", "*.yaml", "local"),
                                 (data / "demo", "*.profile.yaml", "demo")):
        if folder.is_dir():
            for p in sorted(folder.glob(pattern)):
                stem = p.name.removesuffix(".yaml").removesuffix(".profile")
                key = f"{tag}:{stem}"
                out[key] = KnownProfile(key, f"{stem} ({tag})", p.read_text(encoding="utf-8"))
    return out


def resolve_profile_name(name: str) -> KnownProfile | None:
    """A profile by key (``shipped:glotip``) or by bare name (``glotip``, ``police``)."""
    profiles = known_profiles()
    if name in profiles:
        return profiles[name]
    for p in profiles.values():
        if p.key.split(":", 1)[1] == name:
            return p
    return None


def parse(text: str, label: str) -> Profile:
    """``parse_profile`` (raises ``ProfileError`` naming line and field)."""
    return parse_profile(text, path=label)


# -- the preview ------------------------------------------------------------------------------


def protected_columns(prepared: PreparedImport) -> set[str]:
    used = prepared.result.columns_used
    return {c for f in CASE_SCHEMA.protected for c in used.get(f, ())}


def _redact_issue_value(issue: dict[str, Any], protected: set[str]) -> Any:
    if issue.get("field") in CASE_SCHEMA.protected or issue.get("column") in protected:
        return REDACTED if issue.get("value") not in (None, "") else issue.get("value")
    if issue.get("column") == "(line)" and protected:
        return REDACTED
    return issue.get("value")


def build_preview(prepared: PreparedImport) -> dict[str, Any]:
    """Counts, problems per reason and per column, and the first problem rows in context
    (the row's values, offending cells marked, identifier columns shown as •••)."""
    summary = prepared.summary()
    issues = prepared.result.issues.to_pylist()
    protected = protected_columns(prepared)
    for i in issues:
        i["value"] = _redact_issue_value(i, protected)
    reason_counts: Counter[tuple[str, str]] = Counter((i["code"], i["severity"]) for i in issues)
    top = max(reason_counts.values(), default=1)
    by_reason = [
        {"code": code, "severity": sev, "count": n, "pct": round(100 * n / top),
         "description": REASONS.get(code, "")}
        for (code, sev), n in sorted(reason_counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    col_counts: dict[str, Counter[str]] = {}
    for i in issues:
        col_counts.setdefault(i["column"] or "—", Counter())[i["severity"]] += 1
    col_top = max((sum(c.values()) for c in col_counts.values()), default=1)
    by_column = [
        {"column": col, "errors": c["error"], "warnings": c["warning"],
         "pct": round(100 * sum(c.values()) / col_top)}
        for col, c in sorted(col_counts.items(), key=lambda kv: -sum(kv[1].values()))
    ]
    problem_rows: list[int] = []
    for i in issues:
        if i["row"] not in problem_rows:
            problem_rows.append(i["row"])
        if len(problem_rows) >= PREVIEW_ROWS:
            break
    columns = [c for c in prepared.raw.table.column_names if c != ROW]
    raw = prepared.raw.table
    values: dict[int, dict[str, Any]] = {}
    if problem_rows and ROW in raw.column_names:
        mask = pc.is_in(raw.column(ROW), value_set=pc.cast(_arr(problem_rows),
                                                           raw.schema.field(ROW).type))
        for r in raw.filter(mask).to_pylist():
            values[int(r[ROW])] = r
    rejected_rows = set(prepared.result.rejected.column("row").to_pylist()) \
        if prepared.result.rejected.num_rows else set()
    in_context = []
    for row in problem_rows:
        row_issues = [i for i in issues if i["row"] == row]
        flagged: dict[str, dict[str, Any]] = {}
        for i in row_issues:  # an error outranks a warning on the same cell
            current = flagged.get(i["column"])
            if current is None or (i["severity"] == "error" != current["severity"]):
                flagged[i["column"]] = i
        raw_row = values.get(row)
        cells = []
        if raw_row is not None:
            for col in columns:
                v = raw_row.get(col)
                shown = REDACTED if col in protected and v not in (None, "") else v
                issue = flagged.get(col)
                cells.append({"column": col, "value": shown, "issue": issue,
                              "severity": issue["severity"] if issue else ""})
        in_context.append({"row": row, "cells": cells, "issues": row_issues,
                           "rejected": row in rejected_rows})
    return {"summary": summary, "by_reason": by_reason, "by_column": by_column,
            "columns": columns, "rows": in_context, "protected": sorted(protected),
            "issue_count": len(issues)}


def _arr(values: list[int]) -> Any:
    import pyarrow as pa

    return pa.array(values, pa.int64())


# -- rejects ----------------------------------------------------------------------------------

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text  # no formulas in spreadsheets


def rejects_csv(batch: ImportBatch) -> str:
    """The batch's rejected rows as CSV: row, reasons, then the row as read with identifier
    columns redacted (the stored ``RejectedRow.raw``; the sealed originals never leave)."""
    rejects = list(RejectedRow.objects.filter(batch=batch).values_list("source_row", "raw",
                                                                       "reasons"))
    columns: list[str] = []
    for _, raw, _ in rejects:
        for c in raw:
            if c not in columns and c != ROW:
                columns.append(c)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["row", "reasons", *columns])
    for row, raw, reasons in rejects:
        codes = sorted({r.get("code", "") for r in reasons} if isinstance(reasons, list)
                       else set(reasons or []))
        w.writerow([row, " ".join(codes), *(_cell(raw.get(c)) for c in columns)])
    return out.getvalue()


def reject_rows(batch: ImportBatch) -> list[dict[str, Any]]:
    """Rejected rows (redacted) for the API."""
    out = []
    for row, raw, reasons in RejectedRow.objects.filter(batch=batch).values_list(
            "source_row", "raw", "reasons"):
        clean = []
        for r in reasons if isinstance(reasons, list) else []:
            if isinstance(r, dict) and r.get("column") == "(line)" and r.get("value"):
                r = {**r, "value": REDACTED}  # an unparsed line may hold identifiers
            clean.append(r)
        out.append({"row": row, "raw": {k: v for k, v in raw.items() if k != ROW},
                    "reasons": clean})
    return out


# -- uploads waiting for confirmation ------------------------------------------------------------
# Each upload's folder holds the file and ``meta.json`` (owner, profile, source, supersede), so
# a preview link works only for the person who uploaded (others get 404).


def write_meta(upload_id: str, meta: dict[str, Any]) -> None:
    import json

    (intake_dir() / upload_id / "meta.json").write_text(json.dumps(meta), encoding="utf-8")


def read_meta(upload_id: str, user_id: int) -> dict[str, Any] | None:
    import json

    if not re.fullmatch(r"[0-9a-f]{32}", upload_id):
        return None
    path = intake_dir() / upload_id / "meta.json"
    try:
        meta: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if meta.get("user_id") == user_id else None


def new_upload(user_id: int, uploaded: Any, *, profile_text: str | None, profile_label: str,
               source: str | None, supersede: str | None) -> str:
    upload_id, path = save_upload(uploaded)
    write_meta(upload_id, {"user_id": user_id, "path": str(path), "file_name": uploaded.name,
                           "profile_text": profile_text, "profile_label": profile_label,
                           "source": source, "supersede": supersede})
    return upload_id


def display_names(meta: dict[str, Any]) -> dict[str, str]:
    """An upload's server path -> the name the user gave the file (for error messages)."""
    return {meta["path"]: meta.get("file_name") or Path(meta["path"]).name}


def replace_file(upload_id: str, meta: dict[str, Any], uploaded: Any) -> None:
    """Swap in a corrected file, keeping the profile and the other choices."""
    _, path = save_upload(uploaded, upload_id)
    write_meta(upload_id, {**meta, "path": str(path), "file_name": uploaded.name})
