"""One step from a report to an intake record: a one-row batch of source ``report``, imported
through ``tiplab.store.run_import`` like any agency's file (the same validation, sealing and
snapshot), in the same transaction as the link from the report to its record.

The row holds codes only — the report's category as the form of exploitation, "presumed
victim", the date received, and what the steward adds (country of exploitation, sex,
majority) — never the reporter's words: the record id ``report-<id>`` is the provenance, and
the report links to the record. No profile file needs registering: the profile is built here.
"""

from __future__ import annotations

import csv
import io
import logging
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tiplab.errors import TiplabError
from tiplab.store import refresh_snapshot, run_import
from tiplab_web.audit.services import record
from tiplab_web.cases import services as cases
from tiplab_web.cases.models import CaseRecord, ImportBatch

from .models import Report
from .services import ReportingError

log = logging.getLogger("tiplab.web.reporting")

SOURCE = "report"
#: report category -> HTCDS vic_TypeOfExploitation
EXPLOITATION = {
    "sexual_exploitation": "SexualExploitation",
    "forced_labour": "ForcedLabour",
    "domestic_servitude": "Servitude",
    "forced_criminality": "ForcedCriminality",
    "begging": "ForcedBegging",
    "organ_removal": "OrganRemoval",
    "other": "Other",
}
COLUMNS = ("record_id", "registration_date", "exploitation_forms", "trafficking_status",
           "case_status", "country_of_exploitation", "sex", "majority_status")
PROFILE = """\
profile: safe_reporting_channel
kind: case
schema_version: "1.0"
description: One report of the safe reporting channel, converted by a data steward.
source_agency: report
read: {format: csv, encoding: utf-8, delimiter: ","}
fields:
  record_id: record_id
  registration_date: {column: registration_date, date_formats: ["%Y-%m-%d"]}
  exploitation_forms: {column: exploitation_forms, split: ";"}
  trafficking_status: trafficking_status
  case_status: case_status
  country_of_exploitation: country_of_exploitation
  sex: sex
  majority_status: majority_status
"""


@dataclass(frozen=True)
class IntakeFields:
    """What the steward adds to the record (all optional codes)."""

    country_of_exploitation: str = ""
    sex: str = ""
    majority_status: str = ""


def record_id(report: Report) -> str:
    return f"report-{report.pk}"


def _row(report: Report, extra: IntakeFields) -> dict[str, str]:
    form = EXPLOITATION.get(report.category)
    if form is None:
        raise ReportingError(
            _("Set the report's category to a form of exploitation before converting it "
              "(a report categorised “not trafficking” does not become a case record)."))
    return {"record_id": record_id(report),
            "registration_date": timezone.localtime(report.received_at).date().isoformat(),
            "exploitation_forms": form, "trafficking_status": "Possible",
            "case_status": "Active",
            "country_of_exploitation": extra.country_of_exploitation.strip().upper(),
            "sex": extra.sex, "majority_status": extra.majority_status}


def _write(folder: Path, report: Report, row: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{record_id(report)}.csv"
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerow(row)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def _link(request: Any, report: Report, batch_id: str) -> Report:
    """Point the report at its record (inside the conversion's transaction)."""
    rec = CaseRecord.objects.get(batch__batch_id=batch_id, record_id=record_id(report))
    report.case_batch, report.case_record = batch_id, rec
    report.converted_at = timezone.now()
    report.converted_by = request.user
    if report.status == Report.Status.NEW:
        report.status = Report.Status.TRIAGE
    report.save(update_fields=["case_batch", "case_record", "converted_at", "converted_by",
                               "status"])
    batch = ImportBatch.objects.get(batch_id=batch_id)
    record(request, "cases.import", batch, file=batch.file_name, rows=batch.rows,
           accepted=batch.accepted, rejected=batch.rejected, via="reporting")
    record(request, "cases.approve", batch, same_step=True, via="reporting")
    record(request, "reporting.convert", report, batch=batch_id, record=rec.pk)
    return report


def convert(request: Any, report: Report, extra: IntakeFields) -> Report:
    """Make the report's intake record, all or nothing. Raises :class:`ReportingError` with
    the import's own message (which field, which value) when the row is refused."""
    folder = Path(settings.DATA_DIR) / "uploads" / "reporting" / uuid.uuid4().hex
    store = cases.store()
    touched = False
    try:
        with transaction.atomic():
            locked = Report.objects.select_for_update().get(pk=report.pk)
            if locked.case_record_id is not None or locked.case_batch:
                raise ReportingError(_("This report is already an intake record (batch "
                                       "%(b)s).") % {"b": locked.case_batch})
            path = _write(folder, locked, _row(locked, extra))
            profile = cases.parse(PROFILE, "safe reporting channel")
            touched = True
            try:
                batch, prepared = run_import(store, path, profile, SOURCE,
                                             user=request.user.get_username())
            except TiplabError as e:
                raise ReportingError(str(e)) from e
            assert batch is not None
            if batch.accepted != 1:
                problems = "; ".join(
                    str(i["message"]) for i in
                    prepared.result.issues.to_pylist() if i["severity"] == "error")
                raise ReportingError(_("The record was refused: %(p)s. Nothing was saved.")
                                     % {"p": problems or _("no reason given")})
            report = _link(request, locked, batch.batch_id)
    except BaseException:
        if touched:
            # the batch was rolled back, but run_import may have written its snapshot file:
            # bring the snapshot back in line with the database
            try:
                refresh_snapshot(store)
            except Exception:  # the next import repairs it as well
                log.exception("could not repair the snapshot after a failed conversion")
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    # the analysis pages build their flat tables for the new data version on first use
    # (cases.prepare_analyses would do it here, but takes too long for a request)
    return report
