"""The audit log: hash chain, append-only guards, verify_audit, signals, page and export."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import Client, RequestFactory
from django.urls import reverse

from tiplab_web import audit
from tiplab_web.audit import triggers
from tiplab_web.audit.models import GENESIS_HASH, AuditEntry, AuditLogIsAppendOnly
from tiplab_web.audit.services import verify_chain

pytestmark = pytest.mark.django_db


def _entries(n: int) -> list[AuditEntry]:
    user = get_user_model().objects.create_user("auditor")
    return [audit.record(user, "test.event", ("thing", i), n=i, note="é ü") for i in range(n)]


def _verify() -> str:
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def test_entries_chain_by_sha256():
    first, second, third = _entries(3)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    for entry in AuditEntry.objects.all():
        assert entry.compute_hash() == entry.hash  # recomputed after a database round trip


def test_record_takes_ip_user_agent_and_user_from_the_request(world):
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Firefox")
    request.user = world.users["analyst"]
    entry = audit.record(request, "cases.view", ("cases.caserecord", 17), reason="review")
    entry.refresh_from_db()
    assert (entry.actor_id, entry.actor_username) == (request.user.pk, "analyst")
    assert (entry.ip_address, entry.user_agent) == ("203.0.113.9", "Firefox")
    assert (entry.object_type, entry.object_id) == ("cases.caserecord", "17")
    assert entry.details == {"reason": "review"}


def test_verify_audit_reports_an_intact_chain():
    _entries(4)
    assert _verify().startswith("chain intact: 4 entries")


def test_verify_audit_names_the_entry_altered_by_raw_sql():
    entries = _entries(5)
    victim = entries[2]
    with connection.cursor() as cursor:  # an attacker with database access, no triggers
        cursor.execute(
            "UPDATE audit_auditentry SET action = %s WHERE id = %s", ["test.innocent", victim.pk]
        )
    with pytest.raises(CommandError, match=rf"broken at entry id={victim.pk}: its content"):
        _verify()


def test_verify_audit_detects_a_removed_entry():
    entries = _entries(4)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [entries[1].pk])
    report = verify_chain()
    assert not report.intact
    assert report.broken_id == entries[2].pk
    assert "prev_hash" in report.reason


def test_verify_audit_exits_non_zero_from_the_command_line():
    _entries(2)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET details = '{}' WHERE id = "
            "(SELECT min(id) FROM audit_auditentry)"
        )
    with pytest.raises(CommandError) as excinfo:
        call_command("verify_audit")
    assert excinfo.value.returncode == 1


def test_model_refuses_updates_and_deletes():
    (entry,) = _entries(1)
    entry.action = "changed"
    with pytest.raises(AuditLogIsAppendOnly):
        entry.save()
    with pytest.raises(AuditLogIsAppendOnly):
        entry.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEntry.objects.all().update(action="x")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEntry.objects.all().delete()


def test_database_triggers_refuse_raw_update_and_delete():
    (entry,) = _entries(1)
    triggers.install(connection)
    try:
        for sql in (
            "UPDATE audit_auditentry SET action = 'x' WHERE id = %s",
            "DELETE FROM audit_auditentry WHERE id = %s",
        ):
            with (
                pytest.raises(DatabaseError, match="append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(sql, [entry.pk])
        audit.record(None, "test.after_triggers")  # inserts still work
    finally:
        triggers.remove(connection)
    assert AuditEntry.objects.count() == 2
    assert verify_chain().intact


def test_login_logout_and_failed_login_are_audited(world):
    user = world.users["analyst"]
    client = Client()
    client.post(
        reverse("accounts:login"),
        {"username": "analyst", "password": "wrong"},
        REMOTE_ADDR="198.51.100.7",
    )
    failed = AuditEntry.objects.filter(action="auth.login_failed").get()
    assert failed.details == {"attempted_username": "analyst"}
    assert failed.ip_address == "198.51.100.7"
    assert "wrong" not in failed.canonical()
    response = client.post(
        reverse("accounts:login"),
        {"username": "analyst", "password": "correct horse battery staple 42"},
    )
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="auth.login", actor=user).exists()
    client.post(reverse("accounts:logout"))
    assert AuditEntry.objects.filter(action="auth.logout", actor=user).exists()
    assert verify_chain().intact


def test_role_changes_are_audited(world, client_as):
    analyst = world.users["analyst"]
    client = client_as("administrator")
    response = client.post(
        reverse("accounts:user_edit", args=[analyst.pk]),
        {"organisation": world.home.pk, "roles": ["analyst", "data_steward"], "is_active": "on"},
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.filter(action="users.roles_changed").latest("id")
    assert entry.actor_username == "administrator"
    assert (entry.object_type, entry.object_id) == ("auth.user", str(analyst.pk))
    assert entry.details == {"username": "analyst", "added": ["data_steward"], "removed": []}


def test_audit_page_filters_by_user_action_and_object(world, client_as):
    analyst = world.users["analyst"]
    audit.record(analyst, "cases.view", ("cases.caserecord", 1))
    audit.record(analyst, "cases.view", ("cases.caserecord", 2))
    audit.record(analyst, "cases.export", ("cases.importbatch", 3))
    client = client_as("administrator")
    page = client.get(
        reverse("audit:log"), {"user": "analyst", "action": "cases.view", "object_id": "2"}
    )
    assert page.status_code == 200
    rows = list(page.context["page"])
    assert [(e.action, e.object_id) for e in rows] == [("cases.view", "2")]
    prefix = client.get(reverse("audit:log"), {"action": "cases."})
    assert {e.action for e in prefix.context["page"]} == {"cases.view", "cases.export"}


def test_audit_page_rejects_reversed_dates(client_as):
    page = client_as("administrator").get(
        reverse("audit:log"), {"date_from": "2026-02-01", "date_to": "2026-01-01"}
    )
    assert page.status_code == 200
    assert page.context["form"].errors


def test_csv_export_needs_recent_password_and_is_itself_audited(world, client_as):
    audit.record(world.users["analyst"], "cases.view", ("cases.caserecord", 9))
    stale = client_as("administrator", reauth=False)
    response = stale.get(reverse("audit:export"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("core:confirm_password"))

    client = client_as("administrator")
    response = client.get(reverse("audit:export"), {"action": "cases.view"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["id", "created_at", "actor_username", "action"]
    assert [r[3] for r in rows[1:]] == ["cases.view"]
    exported = AuditEntry.objects.filter(action="audit.exported").get()
    assert exported.details["filters"] == {"action": "cases.view"}
    assert exported.details["rows"] == 1
    assert exported.details["file"] == response["Content-Disposition"].split('"')[1]


def test_the_log_shows_details_as_words_not_json(client_as, world):
    from tiplab_web import audit
    from tiplab_web.core.templatetags.tiplab import as_pairs

    audit.record(world.users["analyst"], "cases.view", None, page="list",
                 filter={"sex": "Feminine", "year": 2022}, shown=50, reveal=False)
    html = client_as("administrator").get(reverse("audit:log")).content.decode()
    assert '<span class="muted">filter:</span> (sex: Feminine; year: 2022)' in html
    assert '<span class="muted">shown:</span> 50' in html
    assert "{&quot;" not in html  # no raw JSON
    assert as_pairs({"added": ["a", "b"], "note": "", "ok": True}) == [("added", "a, b"),
                                                                      ("ok", "yes")]
