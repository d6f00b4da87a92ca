"""Key rotation on the system of record (``tiplab keys rotate``): every identifier re-sealed and
every pseudonym recomputed under new keys, in one audited transaction, without losing linkage;
and a rotation that fails half-way leaves the old keys opening everything."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from cryptography.exceptions import InvalidTag
from django.urls import reverse
from tests.web import test_cases_support as cs
from tests.web import test_linkage_support as ls

from tiplab.config import key_dir
from tiplab.errors import KeyLockBusy, KeyManagementError, KeyRotationError
from tiplab.keys import KEY_FILES, key_lock, read_keyring
from tiplab.records.protect import PSEUDONYM_FIELDS, pseudonym, unseal, unseal_raw_row
from tiplab.rotation import JOURNAL, key_status, recover, retire_keys, rotate_keys
from tiplab.snapshot import open_snapshot
from tiplab.store import run_import
from tiplab_web.audit.models import AuditEntry
from tiplab_web.audit.services import verify_chain
from tiplab_web.cases import services as case_services
from tiplab_web.cases.models import CaseRecord, ImportBatch, RejectedRow
from tiplab_web.cases.store import DjangoCaseStore
from tiplab_web.linkage import services
from tiplab_web.linkage.models import LinkDecision, LinkRun


@pytest.fixture
def store(db, settings, tmp_path: Path) -> DjangoCaseStore:
    """60 people seen by three agencies (names, birth dates, phones) and a rejected row."""
    settings.DATA_DIR = tmp_path / "data"  # keys of its own: a rotation here touches no other test
    settings.DATA_DIR.mkdir()
    settings.TIPLAB_ANALYTICS_JOBS_INLINE = True
    ls.seed_records(n=60)
    bad = tmp_path / "bad.csv"
    bad.write_text(cs.HEADER + "X-1,09.01.2022,Zamfira,Quell,26.02.1998,23,Q,ROU,RO-B,"
                   "Labour exploitation,+999 777\n", encoding="utf-8")
    run_import(case_services.store(), bad, case_services.parse(cs.PROFILE, "t"), user="t")
    return case_services.store()


def _records() -> list[tuple[Any, ...]]:
    return list(CaseRecord.objects.order_by("id").values_list(
        "id", "source_agency", "record_id", "identity_sealed",
        *(f"{f}_pseudonym" for f in PSEUDONYM_FIELDS)))


def _exact_pairs() -> set[frozenset[tuple[str, str]]]:
    """Pairs of records with the same pseudonymised birth date and phone: exact-match linkage."""
    groups = defaultdict(list)
    for src, rid, dob, phone in CaseRecord.objects.values_list(
            "source_agency", "record_id", "birth_date_pseudonym", "phone_pseudonym"):
        if dob and phone:
            groups[(dob, phone)].append((src, rid))
    return {frozenset((a, b)) for g in groups.values() for a in g for b in g if a < b}


def _run(client) -> LinkRun:
    assert client.post(reverse("linkage:runs"), {"sources": list(ls.AGENCIES)}).status_code \
        == 302
    run = LinkRun.objects.latest("id")
    assert run.status == LinkRun.DONE, run.error
    return run


def _partition(run: LinkRun) -> set[frozenset[tuple[str, str]]]:
    by_person = defaultdict(set)
    for r in pq.read_table(services.run_dir(run) / "clusters.parquet").to_pylist():
        by_person[r["person_id"]].add((r["source"], r["record_id"]))
    return {frozenset(v) for v in by_person.values()}


def _pairs(run: LinkRun) -> list[tuple[Any, ...]]:
    t = pq.read_table(services.run_dir(run) / "pairs.parquet").to_pylist()
    return sorted((r["source_l"], r["record_id_l"], r["source_r"], r["record_id_r"],
                   round(r["match_probability"], 9)) for r in t)


def test_rotation_reseals_everything_and_keeps_linkage(store, client_as) -> None:
    kdir = key_dir(store.data_dir)
    old = read_keyring(kdir)
    assert old is not None
    steward = client_as("data_steward")
    # before: a link run, a steward's decision on one of its pairs, a run respecting it
    first = _run(steward)
    merged = next(p for p in services.review_queue(first)
                  if p.match_probability >= first.threshold)
    assert steward.post(reverse("linkage:review_pair", args=[first.pk, merged.index]),
                        {"decision": "non-match"}).status_code == 302
    second = _run(steward)
    left_before = services.record_fields(merged.source_l, merged.record_id_l,
                                         with_identifiers=True)
    records_before = _records()
    identities = {(s, r): unseal(bytes(b), old, s, r) for _, s, r, b, *_ in records_before}
    exact_before = _exact_pairs()
    snapshot_before = open_snapshot(store.data_dir)
    snapshot_files = {p.name: p.read_bytes() for p in snapshot_before.files("case")}
    queue_before = [p.index for p in services.review_queue(first)]

    result = rotate_keys(store, by="tester")

    new = read_keyring(kdir)
    assert new is not None
    assert (result.old_key_id, result.new_key_id) == (old.key_id, new.key_id)
    assert new.key_id != old.key_id
    assert new.field_key != old.field_key
    assert new.pseudonym_key != old.pseudonym_key
    assert (result.records, result.rejects, result.batches) == (
        CaseRecord.objects.count(), 1, ImportBatch.objects.count())
    assert result.kept == [old.key_id]
    # every record: opens with the new key to the same identifiers, not with the old key;
    # its pseudonyms are the new key's, recomputed from those identifiers
    after = _records()
    assert [r[:3] for r in after] == [r[:3] for r in records_before]
    changed = 0
    for (_, s, r, blob, *pseudo), was_row in zip(after, records_before, strict=True):
        old_blob, old_pseudo = was_row[3], was_row[4:]
        ident = unseal(bytes(blob), new, s, r)
        assert ident == identities[(s, r)]
        assert bytes(blob) != bytes(old_blob)
        with pytest.raises(InvalidTag):
            unseal(bytes(blob), old, s, r)
        for f, got, was in zip(PSEUDONYM_FIELDS, pseudo, old_pseudo, strict=True):
            value = ident.get(f)
            assert got == (pseudonym(new.pseudonym_key, f, value) if value else None), (s, r, f)
            assert (got is None) == (was is None)
            changed += got is not None and got != was
    assert changed > 100
    # the rejected row's sealed original too
    rej = RejectedRow.objects.select_related("batch").get()
    assert "Zamfira" in unseal_raw_row(bytes(rej.raw_sealed), new, rej.batch.sha256,
                                       rej.source_row)
    with pytest.raises(InvalidTag):
        unseal_raw_row(bytes(rej.raw_sealed), old, rej.batch.sha256, rej.source_row)
    assert set(ImportBatch.objects.values_list("key_id", flat=True)) == {new.key_id}
    # exact matching on pseudonyms finds the same pairs
    assert exact_before
    assert _exact_pairs() == exact_before
    # the run made before still resolves: its review queue, the decided pair, the identifiers
    assert [p.index for p in services.review_queue(first)] == queue_before
    assert services.record_fields(merged.source_l, merged.record_id_l,
                                  with_identifiers=True) == left_before
    page = steward.get(reverse("linkage:review_pair", args=[first.pk, merged.index]))
    assert page.status_code == 200
    assert left_before["family_name"] in page.content.decode()
    # linkage after the rotation gives the same pairs and persons, decision respected
    third = _run(steward)
    assert third.decisions_applied == 1
    assert _pairs(third) == _pairs(second)
    assert _partition(third) == _partition(second)
    assert not any({(merged.source_l, merged.record_id_l),
                    (merged.source_r, merged.record_id_r)} <= p for p in _partition(third))
    assert LinkDecision.objects.count() == 1
    # audited, in the chain
    entry = AuditEntry.objects.get(action="keys.rotate")
    assert entry.details["old_key_id"] == old.key_id
    assert entry.details["new_key_id"] == new.key_id
    assert entry.details["records"] == result.records
    assert entry.details["by"] == "tester"
    assert verify_chain().intact
    # the snapshot holds no pseudonym, so it is untouched: same files, same data version
    assert not any(c.endswith("_pseudonym") for p in snapshot_before.files("case")
                   for c in pq.read_schema(p).names)
    assert open_snapshot(store.data_dir).data_version == snapshot_before.data_version
    assert {p.name: p.read_bytes() for p in snapshot_before.files("case")} == snapshot_files
    status = key_status(store)
    assert (status.key_id, status.kept, status.problems) == (new.key_id, [old.key_id], [])
    # the previous keys are kept until retired
    assert sorted(p.name for p in kdir.iterdir() if not p.name.startswith(".")) == sorted(
        [*KEY_FILES, *(f"{n}.{old.key_id}" for n in KEY_FILES)])
    assert retire_keys(store) == [old.key_id]
    assert key_status(store).kept == []


def test_a_rotation_failing_half_way_leaves_the_old_keys_opening_everything(
        store, monkeypatch) -> None:
    from tiplab_web.cases import rotation as web_rotation

    kdir = key_dir(store.data_dir)
    files_before = {p.name: p.read_bytes() for p in kdir.iterdir()}
    records_before = _records()
    old = read_keyring(kdir)
    real = web_rotation.reseal_identities
    calls = []

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:  # two chunks re-sealed and written, then a crash
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)

    monkeypatch.setattr(web_rotation, "CHUNK_ROWS", 20)
    monkeypatch.setattr(web_rotation, "reseal_identities", failing)
    with pytest.raises(KeyRotationError, match=r"rolled back.*disk on fire"):
        rotate_keys(store, by="tester")
    assert len(calls) == 3
    # the key directory as it was: no new keys, no journal, no kept copy
    assert {p.name: p.read_bytes() for p in kdir.iterdir()} == files_before
    assert not (kdir / JOURNAL).exists()
    # the database as it was: every record still opens with the old keys
    assert _records() == records_before
    assert all(unseal(bytes(b), old, s, r) for _, s, r, b, *_ in records_before if b)
    assert set(ImportBatch.objects.values_list("key_id", flat=True)) == {old.key_id}
    assert not AuditEntry.objects.filter(action="keys.rotate").exists()
    # and the next attempt goes through
    monkeypatch.setattr(web_rotation, "reseal_identities", real)
    done = rotate_keys(store, by="tester", retire_old=True)
    assert done.old_key_id == old.key_id
    assert done.retired == [old.key_id]
    assert key_status(store).kept == []


def test_a_crash_after_the_commit_is_completed_by_recover(store, monkeypatch) -> None:
    """The transaction committed but the process died before the new key files were moved
    into place: `keys recover` completes the move (the audit entry says it committed)."""
    import tiplab.rotation as core

    kdir = key_dir(store.data_dir)
    old = read_keyring(kdir)

    def crash(d: Path) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(core, "_complete", crash)
    with pytest.raises(KeyboardInterrupt):
        rotate_keys(store, by="tester")
    monkeypatch.undo()
    assert read_keyring(kdir) == old  # the old files are still the current ones
    status = key_status(store)
    assert status.pending is not None
    assert any("interrupted" in p for p in status.problems)
    new_id = status.pending["new_key_id"]
    assert set(ImportBatch.objects.values_list("key_id", flat=True)) == {new_id}
    with pytest.raises(KeyManagementError, match="recover"):
        retire_keys(store)
    assert recover(store) == "completed"
    new = read_keyring(kdir)
    assert new is not None
    assert new.key_id == new_id
    assert all(unseal(bytes(b), new, s, r) for _, s, r, b, *_ in _records() if b)
    assert recover(store) is None
    assert key_status(store).problems == []


def test_rotation_waits_for_no_import(store) -> None:
    """An import holds the key lock shared while it seals and writes: no rotation meanwhile."""
    with key_lock(store.data_dir), pytest.raises(KeyLockBusy, match="import"):
        rotate_keys(store, by="tester")
    assert not AuditEntry.objects.filter(action="keys.rotate").exists()


def test_keys_a_batch_still_uses_cannot_be_retired(store) -> None:
    first = rotate_keys(store, by="tester")
    # a batch left sealed with the previous keys (as one committed by an older version would)
    batch = ImportBatch.objects.filter(kind="case").first()
    ImportBatch.objects.filter(pk=batch.pk).update(key_id=first.old_key_id)
    with pytest.raises(KeyManagementError, match="still seal 1 batch"):
        retire_keys(store, [first.old_key_id])
    assert key_status(store).kept == [first.old_key_id]


def test_batches_sealed_with_keys_nobody_has_stop_a_rotation(store) -> None:
    ImportBatch.objects.filter(kind="case").update(key_id="0123456789ab")
    with pytest.raises(KeyRotationError, match=r"0123456789ab.*restore those key files"):
        rotate_keys(store, by="tester")
    assert any("0123456789ab" in p for p in key_status(store).problems)


def test_rotation_reseals_survivors_anonymous_input(store, world) -> None:
    from tests.web import test_consultations_support as co

    from tiplab_web.consultations import services as voice
    from tiplab_web.consultations.models import VoiceAnswer

    officer = world.users["policy_officer"]
    batch = voice.issue_codes(officer, n=2, consultation=co.make_consultation(officer))
    pending = voice.submit(voice.redeem(batch.codes[0]), text="The shelter was far away.",
                           consent=True).answer
    approved = voice.submit(voice.redeem(batch.codes[1]), text="Nobody spoke my language.",
                            consent=True).answer
    voice.approve(officer, approved, "Nobody spoke my language.")
    result = rotate_keys(store, retire_old=True, by="tester")
    for a in VoiceAnswer.objects.filter(pk__in=[pending.pk, approved.pk]):
        assert bytes(a.sealed_redacted)[:12].decode() == result.new_key_id
    assert voice.read(VoiceAnswer.objects.get(pk=pending.pk), "original")["text"] == \
        "The shelter was far away."
    assert voice.read(VoiceAnswer.objects.get(pk=approved.pk))["text"] == \
        "Nobody spoke my language."
    entry = AuditEntry.objects.filter(action="keys.rotate").latest("id")
    assert entry.details["anonymous_inputs"] == 2


def test_rotation_reseals_interview_notes_and_screened_texts(store, world) -> None:
    from tests.web import evidence_support as ev
    from tests.web import screening_support as sc

    from tiplab_web.core.sealed import open_text
    from tiplab_web.evidence import services as notes
    from tiplab_web.evidence.models import Note
    from tiplab_web.screening.models import ScreeningItem

    analyst = world.users["analyst"]
    note = ev.make_note(analyst)
    batch = sc.make_batch(analyst)
    result = rotate_keys(store, retire_old=True, by="tester")
    note = Note.objects.get(pk=note.pk)
    assert bytes(note.sealed_text)[:12].decode() == result.new_key_id
    assert notes.full_text(note) == ev.TEXT
    assert ev.PHONE not in notes.redacted_text(note)
    for item in ScreeningItem.objects.filter(batch=batch):
        assert bytes(item.sealed_text)[:12].decode() == result.new_key_id
        assert open_text(item.sealed_text, item.purpose) == sc.TEXTS[item.external_id]
    entry = AuditEntry.objects.filter(action="keys.rotate").latest("id")
    assert entry.details["interview_notes"] == 1
    assert entry.details["screened_texts"] == 2
