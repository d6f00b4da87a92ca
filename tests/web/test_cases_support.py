"""Shared test data for the case-data pages (used by the test_cases_* modules and the
permission ladder): a small police-style profile, a file with errors, its corrected version,
and helpers that make batches, records, uploads and jobs owned by a given user."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tiplab_web.cases import services
from tiplab_web.cases.access import own_agency
from tiplab_web.cases.models import CaseRecord, ImportBatch, RejectedRow, RowIssue
from tiplab_web.core.access import organisation_of

PROFILE = """\
profile: test_police
kind: case
schema_version: '1.0'
source_agency: police
read:
  format: csv
  encoding: utf-8
  delimiter: ','
fields:
  record_id: Case No
  registration_date:
    column: Registered
    date_formats: ['%d.%m.%Y']
  given_name: First Name
  family_name: Last Name
  birth_date:
    column: DOB
    date_formats: ['%d.%m.%Y']
  age: Age
  sex:
    column: Sex
    codes: {F: Feminine, M: Masculine}
  citizenship: Nationality
  region_of_exploitation: Region
  exploitation_forms:
    column: Offence
    codes: {Sexual exploitation: SexualExploitation, Labour exploitation: ForcedLabour}
    split: ;
  phone: Phone
  majority_status:
    value: Unknown
  country_of_exploitation:
    value: ROU
"""

HEADER = "Case No,Registered,First Name,Last Name,DOB,Age,Sex,Nationality,Region,Offence,Phone\n"
GOOD_ROWS = [
    "P-1,09.01.2022,Florentina,Popescu,26.02.1998,23,F,ROU,RO-B,Labour exploitation,+999 111\n",
    "P-5,19.03.2023,Ana,Ionescu,01.01.2000,23,F,MDA,RO-CJ,Sexual exploitation,\n",
]
#: Row 3: invalid date; row 4: unknown sex code; row 5: age 300 and an unknown country.
BAD = (HEADER + GOOD_ROWS[0]
       + "P-2,31.02.2022,Oleksandr,Kovalenko,11.05.1994,27,M,UKR,RO-CJ,Labour exploitation,"
         "+999 222\n"
       + "P-3,10.02.2022,Jennifer,Smith,28.04.1989,32,Q,GBR,RO-B,Sexual exploitation,\n"
       + "P-4,13.02.2022,Thomas,Green,03.09.2006,300,M,Atlantis,RO-B,Sexual exploitation,"
         "+999 444\n")
FIXED = (HEADER + GOOD_ROWS[0]
         + "P-2,28.02.2022,Oleksandr,Kovalenko,11.05.1994,27,M,UKR,RO-CJ,Labour exploitation,"
           "+999 222\n"
         + "P-3,10.02.2022,Jennifer,Smith,28.04.1989,32,F,GBR,RO-B,Sexual exploitation,\n"
         + "P-4,13.02.2022,Thomas,Green,03.09.2006,16,M,ROU,RO-B,Sexual exploitation,"
           "+999 444\n")


def upload(name: str, text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def write_local_profile() -> str:
    """Put the test profile where the intake page finds it (``DATA_DIR/profiles``)."""
    folder = Path(settings.DATA_DIR) / "profiles"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "test_police.yaml").write_text(PROFILE, encoding="utf-8")
    return "local:test_police"


def agency_of(user: Any) -> str:
    agency = own_agency(user)
    if agency is None:
        org = organisation_of(user)
        agency = org.name if org is not None else "police"
    return agency


def make_batch(world: Any, user: Any, **extra: Any) -> ImportBatch:
    """A batch (with one record, one reject, one issue) of the user's agency (ORM only)."""
    agency = agency_of(user)
    b = ImportBatch.objects.create(
        batch_id=f"B-{uuid.uuid4().hex[:10].upper()}", kind="case", source_agency=agency,
        file_name="police.csv", file_size=10, file_format="csv", sha256=uuid.uuid4().hex * 2,
        profile_name="test_police", profile_sha256="0" * 64, schema_version="1.0",
        tiplab_version="0", imported_by=user.get_username(), imported_at=timezone.now(),
        rows=2, accepted=1, rejected=1, warnings=0, reasons={"E_DATE_INVALID": 1}, **extra)
    CaseRecord.objects.create(batch=b, source_row=2, source_agency=agency, record_id="P-1",
                              sex="Feminine", age=23, age_band="18-24", citizenship="ROU")
    RejectedRow.objects.create(batch=b, source_row=3, reasons=[{"code": "E_DATE_INVALID"}],
                               raw={"Case No": "P-2", "First Name": "•••",
                                    "Registered": "31.02.2022"})
    RowIssue.objects.create(batch=b, source_row=3, column="Registered",
                            field="registration_date", value="31.02.2022",
                            code="E_DATE_INVALID", severity="error", message="bad date")
    return b


def batch_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {"batch_id": make_batch(world, user).batch_id}


def record_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {"pk": make_batch(world, user).cases.get().pk}


def upload_kwargs(world: Any, user: Any, *, profile: bool = True) -> dict[str, Any]:
    upload_id = services.new_upload(
        user.pk, upload("police.csv", BAD), profile_text=PROFILE if profile else None,
        profile_label="test", source=None, supersede=None)
    return {"upload_id": upload_id}


def upload_without_profile_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return upload_kwargs(world, user, profile=False)


def job_kwargs(world: Any, user: Any) -> dict[str, Any]:
    """A finished import job of ``user`` (the Jobs pages' ladder rows)."""
    from tiplab_web.jobs.models import Job

    batch = make_batch(world, user)
    job = Job.objects.create(kind="cases.import", label="Import of police.csv", owner=user,
                             params={"upload_id": "0" * 32}, status=Job.SUCCEEDED,
                             result={"batch_id": batch.batch_id})
    return {"job_id": job.pk}


def running_job_kwargs(world: Any, user: Any) -> dict[str, Any]:
    from tiplab_web.jobs.models import Job

    job = Job.objects.create(kind="cases.import", label="Import of police.csv", owner=user,
                             params={"upload_id": "0" * 32}, status=Job.RUNNING)
    return {"job_id": job.pk}


def failed_job_kwargs(world: Any, user: Any) -> dict[str, Any]:
    from tiplab_web.jobs.models import Job

    job = Job.objects.create(kind="cases.import", label="Import of police.csv", owner=user,
                             params={"upload_id": "0" * 32}, status=Job.FAILED,
                             error="The uploaded file is no longer available.")
    return {"job_id": job.pk}
