"""The case-data API: submit (201, audited), duplicate (409 naming the batch), profile
errors (422 with line and field), preview, reporter isolation, redacted rejects."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse
from tests.web import test_cases_support as cs

from tiplab_web.audit.models import AuditEntry
from tiplab_web.cases.models import ImportBatch


def _post(world, role, name="api:submit_batch", **data):
    token = world.raw_token_of(world.users[role])
    return Client().post(reverse(name), data, HTTP_AUTHORIZATION=f"Bearer {token}")


def _get(world, role, url):
    token = world.raw_token_of(world.users[role])
    return Client().get(url, HTTP_AUTHORIZATION=f"Bearer {token}")


def _submit(world, role="agency_reporter", text=cs.BAD, **extra):
    return _post(world, role, file=cs.upload("police.csv", text),
                 profile_file=cs.upload("p.yaml", cs.PROFILE), **extra)


def _assert_error_shape(response, status, code):
    assert response.status_code == status
    body = response.json()["error"]
    assert body["status"] == status
    assert body["code"] == code
    assert isinstance(body["message"], str)
    assert isinstance(body["details"], list)
    return body


def test_submit_imports_a_batch_and_is_audited(world):
    response = _submit(world)
    assert response.status_code == 201, response.content
    body = response.json()
    batch = ImportBatch.objects.get()
    assert body["batch_id"] == batch.batch_id
    assert body["sha256"] == batch.sha256
    assert (body["rows"], body["accepted"], body["rejected"]) == (4, 1, 3)
    assert body["reasons"]["E_DATE_INVALID"] == 1
    assert body["source_agency"] == world.home.name  # a reporter submits for their agency
    entry = AuditEntry.objects.get(action="cases.import")
    assert entry.object_id == str(batch.pk)
    assert entry.details["via"] == "api"


def test_duplicate_is_409_naming_the_earlier_batch(world):
    first = _submit(world).json()["batch_id"]
    body = _assert_error_shape(_submit(world), 409, "conflict")
    assert first in body["message"]
    assert body["details"] == [{"batch_id": first}]
    assert ImportBatch.objects.count() == 1


def test_profile_error_is_422_with_line_and_field(world):
    broken = cs.PROFILE.replace("  age: Age\n", "  agge: Age\n")
    response = _post(world, "analyst", file=cs.upload("police.csv", cs.BAD),
                     profile_file=cs.upload("p.yaml", broken))
    body = _assert_error_shape(response, 422, "validation_error")
    detail = body["details"][0]
    assert detail["field"] == "agge"
    assert detail["line"] == broken.splitlines().index("  agge: Age") + 1
    unknown = _post(world, "analyst", file=cs.upload("police.csv", cs.BAD), profile="nope")
    assert "no profile named 'nope'" in _assert_error_shape(unknown, 422,
                                                            "validation_error")["message"]


def test_unsupported_type_and_too_large(world, settings):
    _assert_error_shape(_post(world, "analyst", file=cs.upload("x.exe", "x"),
                              profile="glotip"), 415, "unsupported_media_type")
    settings.TIPLAB_INTAKE_MAX_MB = 0
    _assert_error_shape(_submit(world), 413, "payload_too_large")


def test_preview_stores_nothing(world):
    response = _post(world, "analyst", "api:preview_batch", file=cs.upload("police.csv", cs.BAD),
                     profile_file=cs.upload("p.yaml", cs.PROFILE))
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["rows"], body["accepted"], body["rejected"]) == (4, 1, 3)
    assert {i["code"] for i in body["issues"]} >= {"E_DATE_INVALID", "E_CODE_UNKNOWN"}
    assert not ImportBatch.objects.exists()


def test_reporters_see_only_their_agency(world):
    own = _submit(world).json()["batch_id"]
    other = cs.make_batch(world, world.outsiders["agency_reporter"]).batch_id
    listed = {b["batch_id"] for b in _get(world, "agency_reporter",
                                          reverse("api:list_batches")).json()}
    assert listed == {own}
    assert _get(world, "agency_reporter", reverse("api:get_batch", args=[own])).status_code == 200
    _assert_error_shape(_get(world, "agency_reporter", reverse("api:get_batch", args=[other])),
                        404, "not_found")
    _assert_error_shape(_get(world, "agency_reporter",
                             reverse("api:get_rejects", args=[other])), 404, "not_found")
    analyst_view = {b["batch_id"] for b in _get(world, "analyst",
                                                reverse("api:list_batches")).json()}
    assert analyst_view == {own, other}
    # superseding another agency's batch is refused the same way
    _assert_error_shape(_submit(world, text=cs.FIXED, supersede=other), 404, "not_found")


def test_rejects_are_redacted_and_audited(world):
    batch_id = _submit(world).json()["batch_id"]
    response = _get(world, "agency_reporter", reverse("api:get_rejects", args=[batch_id]))
    assert response.status_code == 200
    body = response.json()
    assert [r["row"] for r in body["rejects"]] == [3, 4, 5]
    text = response.content.decode()
    for secret in ("Kovalenko", "Oleksandr", "11.05.1994", "+999 222", "Smith"):
        assert secret not in text
    assert body["rejects"][0]["raw"]["Last Name"] == "•••"
    assert AuditEntry.objects.filter(action="cases.export_rejects").exists()


def test_policy_officer_token_cannot_submit(world):
    # policy officers hold no API tokens: any token they had is refused as unauthenticated
    response = _submit(world, role="policy_officer")
    _assert_error_shape(response, 401, "not_authenticated")


def test_a_background_submission_answers_202_with_the_job(world):
    response = _submit(world, name="api:submit_batch_job")
    assert response.status_code == 202, response.content
    job = response.json()
    assert job["kind"] == "cases.import"
    assert job["status"] == "succeeded"  # the test settings run jobs inline
    batch = ImportBatch.objects.get()
    assert job["result"]["batch_id"] == batch.batch_id
    assert batch.source_agency == world.home.name
    followed = _get(world, "agency_reporter", job["url"]).json()
    assert followed["result"] == job["result"]
    entry = AuditEntry.objects.get(action="cases.import")
    assert entry.details["via"] == "api"
    assert entry.actor == world.users["agency_reporter"]
    # a duplicate fails as a job, naming the earlier batch
    again = _submit(world, name="api:submit_batch_job").json()
    assert again["status"] == "failed"
    assert again["result"]["earlier_batch"] == batch.batch_id
    assert ImportBatch.objects.count() == 1


def test_a_background_submission_checks_the_profile_first(world):
    response = _post(world, "agency_reporter", name="api:submit_batch_job",
                     file=cs.upload("police.csv", cs.BAD),
                     profile_file=cs.upload("p.yaml", "profile: [unclosed"))
    body = _assert_error_shape(response, 422, "validation_error")
    assert body["details"]
    assert not ImportBatch.objects.exists()
    from tiplab_web.jobs.models import Job

    assert not Job.objects.exists()
