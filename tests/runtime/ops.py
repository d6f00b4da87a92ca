"""Operations the runtime tests run inside a subprocess with Django set up against the
site's own database (``python -m tests.runtime.ops <command> <json args>``), printing JSON.

Kept to what the tests need: make a user, queue an import job, read jobs and batches."""

from __future__ import annotations

import json
import sys
from typing import Any


def make_user(username: str, role: str = "analyst", organisation: str = "Rapporteur",
              password: str = "correct horse battery staple 42") -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    from tiplab_web.accounts.models import Organisation, Profile
    from tiplab_web.accounts.services import set_roles

    org, _ = Organisation.objects.get_or_create(name=organisation)
    user = get_user_model().objects.create_user(username=username, password=password,
                                                email=f"{username}@example.org")
    Profile.objects.create(user=user, organisation=org)
    set_roles(user, [role])
    return {"id": user.pk}


def make_token(username: str) -> dict[str, Any]:
    import secrets
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from tiplab_web.accounts.models import ApiToken
    from tiplab_web.accounts.services import TOKEN_PREFIX, hash_secret

    user = get_user_model().objects.get(username=username)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(24)
    ApiToken.objects.create(owner=user, name="runtime test", prefix=raw[:12],
                            token_hash=hash_secret(raw),
                            expires_at=timezone.now() + timedelta(days=1))
    return {"token": raw}


def queue_import(username: str, path: str, profile_text: str,
                 source: str | None = None) -> dict[str, Any]:
    """What the intake's "Confirm import" does: an upload, then a queued job."""
    from pathlib import Path

    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tiplab_web.cases import jobs, services

    user = get_user_model().objects.get(username=username)
    file = SimpleUploadedFile(Path(path).name, Path(path).read_bytes())
    upload_id = services.new_upload(user.pk, file, profile_text=profile_text,
                                    profile_label="test", source=source, supersede=None)
    meta = services.read_meta(upload_id, user.pk)
    job = jobs.start(user, upload_id, meta)
    return {"job": str(job.pk)}


def job(job_id: str) -> dict[str, Any]:
    from tiplab_web.jobs.models import Job

    j = Job.objects.get(pk=job_id)
    return {"status": j.status, "stage": j.stage, "attempts": j.attempts, "error": j.error,
            "error_code": j.error_code, "result": j.result, "worker": j.worker}


def batches() -> dict[str, Any]:
    from tiplab_web.cases.models import CaseRecord, ImportBatch, RejectedRow

    return {"batches": [{"batch_id": b.batch_id, "rows": b.rows, "accepted": b.accepted,
                         "status": b.status} for b in ImportBatch.objects.order_by("pk")],
            "records": CaseRecord.objects.count(), "rejects": RejectedRow.objects.count()}


def voice_codes(username: str, n: int = 2) -> dict[str, Any]:
    """A consultation on a small plan of ``username``'s organisation and ``n`` one-time
    codes for it."""
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from tests.web.test_plans_support import make_plan

    from tiplab_web.consultations import services

    user = get_user_model().objects.get(username=username)
    plan = make_plan(user)
    today = timezone.localdate()
    c = services.create(user, plan, title="Runtime consultation", opens_on=today,
                        closes_on=today + dt.timedelta(days=7))
    batch = services.issue_codes(user, n=n, consultation=c)
    return {"consultation": c.pk, "codes": batch.codes}


def main() -> None:
    import django

    django.setup()
    name, args = sys.argv[1], json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    print(json.dumps(globals()[name](**args), default=str))


if __name__ == "__main__":
    main()
