"""Key rotation: new field and pseudonym keys, every sealed value and pseudonym redone at once.

What the keys protect, and so what a rotation redoes (see ``docs/operations.md``):

* each case record's sealed identifiers (field key; bound to its source and record id) and its
  pseudonyms of date of birth, document and phone number (pseudonym key);
* each rejected row's sealed original (field key; bound to its file's sha256 and row);
* each batch's ``key_id``.

Nothing else holds a key's output: the analytics snapshot and the link runs' files carry no
identifier and no pseudonym, and review decisions name records by (source, record id), which a
rotation does not change; so links, clusters and decisions made before a rotation still hold.

The store re-seals everything in one database transaction, with the audit entry
``keys.rotate`` inside it. Around that transaction the key directory moves through states that
a crash at any point leaves recoverable:

1. the current keys are linked to ``field.key.<old id>`` / ``pseudonym.key.<old id>``;
2. the new keys are written to ``field.key.next`` / ``pseudonym.key.next`` and a journal
   (``rotation.json``) names both key ids — ``field.key`` still holds the old key, so until
   the commit everything opens exactly as before;
3. the transaction commits;
4. the ``.next`` files replace the current ones and the journal is removed.

A journal left behind (a crash between 2 and 4) is resolved by the next ``tiplab keys rotate``
or ``tiplab keys recover``: the store says whether the rotation committed (its audit entry
exists), and the move is completed or undone. The previous keys stay as a generation until
retired (``--retire-old`` or ``tiplab keys retire``), so a batch still sealed with them (none,
normally: imports hold the key lock shared while they seal, the rotation holds it exclusively)
stays readable and is re-sealed by the next rotation.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from tiplab.config import key_dir
from tiplab.errors import KeyManagementError, KeyRotationError, TiplabError
from tiplab.keys import (
    KEY_BYTES,
    KEY_FILES,
    KeyRing,
    generation_path,
    kept_generations,
    key_lock,
    read_keyring,
    sync_dir,
    write_key_file,
)

log = logging.getLogger("tiplab.rotation")

JOURNAL = "rotation.json"
NEXT = ".next"
#: The audit action a committed rotation leaves (with ``old_key_id`` and ``new_key_id``).
AUDIT_ACTION = "keys.rotate"


@dataclass(frozen=True)
class RotationCounts:
    """What one rotation transaction re-sealed."""

    records: int
    rejects: int
    batches: int


@runtime_checkable
class RotatingStore(Protocol):
    """What a key rotation needs from the system of record."""

    data_dir: Path

    def key_ids_in_use(self) -> dict[str, int]:
        """Import batches per ``key_id`` (``""``: none recorded)."""
        ...

    def rotate_keys(self, old: Mapping[str, KeyRing], new: KeyRing, *, by: str) -> RotationCounts:
        """In one transaction: open every sealed value with the keys of its batch's key id in
        ``old`` (``""`` maps to the current keys), seal it with ``new``, recompute every
        pseudonym with ``new``, set every batch's key id, and append the audit entry
        :data:`AUDIT_ACTION`. All of it or nothing."""
        ...

    def rotation_committed(self, new_key_id: str) -> bool:
        """Whether a rotation to ``new_key_id`` committed (its audit entry exists)."""
        ...


@dataclass(frozen=True)
class RotationResult:
    key_dir: Path
    old_key_id: str
    new_key_id: str
    records: int
    rejects: int
    batches: int
    seconds: float
    kept: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    recovered: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["key_dir"] = str(self.key_dir)
        return d


@dataclass(frozen=True)
class KeyStatus:
    key_dir: Path
    key_id: str | None
    kept: list[str]
    batches_by_key_id: dict[str, int]
    pending: dict[str, Any] | None
    problems: list[str]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["key_dir"] = str(self.key_dir)
        return d


def key_status(store: RotatingStore) -> KeyStatus:
    """The current key id, kept generations, batches per key id and any unfinished rotation."""
    d = key_dir(store.data_dir)
    current = read_keyring(d)
    kept = kept_generations(d)
    in_use = store.key_ids_in_use()
    pending = _journal(d)
    known = set(kept) | {"", current.key_id if current else ""}
    problems = [f"{n} batch(es) sealed with keys {k} that are not in {d}: their identifiers "
                "cannot be opened until those key files are restored"
                for k, n in sorted(in_use.items()) if k not in known]
    if pending:
        problems.append(f"a rotation to keys {pending['new_key_id']} was interrupted; run "
                        "`tiplab keys recover`")
    return KeyStatus(d, current.key_id if current else None, sorted(kept), in_use, pending,
                     problems)


def rotate_keys(store: RotatingStore, *, retire_old: bool = False, by: str = "") -> RotationResult:
    """Replace the keys, re-sealing every identifier and recomputing every pseudonym.

    Holds the key lock exclusively (refused while an import is sealing). With ``retire_old``,
    the previous keys are deleted once the rotation has committed; otherwise they are kept as
    ``<name>.<old key id>`` until ``retire_keys``. Raises :class:`KeyRotationError` when the
    rotation did not commit: then the previous keys still open everything.
    """
    d = key_dir(store.data_dir)
    started = time.perf_counter()
    with key_lock(store.data_dir, exclusive=True):
        recovered = _recover(store, d)
        current = read_keyring(d)
        if current is None:
            raise KeyRotationError(f"there are no keys in {d} yet: nothing is sealed, so there "
                                   "is nothing to rotate (the first import creates the keys)")
        kept = kept_generations(d)
        rings: dict[str, KeyRing] = {**kept, "": current, current.key_id: current}
        in_use = store.key_ids_in_use()
        unknown = sorted(k for k in in_use if k not in rings)
        if unknown:
            raise KeyRotationError(
                f"batches were sealed with keys {', '.join(unknown)}, which are not in {d}; "
                "restore those key files (field.key.<id>, pseudonym.key.<id>) from a backup "
                "first, or their identifiers would stay sealed with keys nobody has")
        new = KeyRing(secrets.token_bytes(KEY_BYTES), secrets.token_bytes(KEY_BYTES))
        created = []
        for name in KEY_FILES:  # 1. the current keys, under the name they keep afterwards
            g = generation_path(d, name, current.key_id)
            if not g.exists():
                os.link(d / name, g)
                created.append(g.name)
        for name, data in zip(KEY_FILES, (new.field_key, new.pseudonym_key), strict=True):
            write_key_file(d / (name + NEXT), data, replace=True)  # 2.
        _write_journal(d, {"old_key_id": current.key_id, "new_key_id": new.key_id,
                           "created": created,
                           "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")})
        log.info("rotating keys %s -> %s", current.key_id, new.key_id)
        try:
            counts = store.rotate_keys(rings, new, by=by)  # 3.
        except BaseException as e:
            _after_failure(store, d, new.key_id, created, e)
            raise  # an interrupt, or a TiplabError, rolled back: as it is
        _complete(d)  # 4.
        retired = _retire(store, d, [current.key_id]) if retire_old else []
        return RotationResult(
            key_dir=d, old_key_id=current.key_id, new_key_id=new.key_id,
            records=counts.records, rejects=counts.rejects, batches=counts.batches,
            seconds=round(time.perf_counter() - started, 3),
            kept=sorted(set(kept_generations(d))), retired=retired, recovered=recovered)


def recover(store: RotatingStore) -> str | None:
    """Finish or undo an interrupted rotation: "completed", "rolled back" or None (nothing)."""
    d = key_dir(store.data_dir)
    with key_lock(store.data_dir, exclusive=True):
        return _recover(store, d)


def retire_keys(store: RotatingStore, key_ids: list[str] | None = None) -> list[str]:
    """Delete kept previous keys (all of them by default). Refuses any that a batch still uses."""
    d = key_dir(store.data_dir)
    with key_lock(store.data_dir, exclusive=True):
        if _journal(d):
            raise KeyManagementError("a rotation was interrupted; run `tiplab keys recover` "
                                     "before retiring keys")
        kept = kept_generations(d)
        wanted = sorted(kept) if key_ids is None else key_ids
        missing = [k for k in wanted if k not in kept]
        if missing:
            raise KeyManagementError(f"no kept keys {', '.join(missing)} in {d}; "
                                     f"kept: {', '.join(sorted(kept)) or 'none'}")
        return _retire(store, d, wanted)


# -- the key directory's states -------------------------------------------------------------
def _journal(d: Path) -> dict[str, Any] | None:
    path = d / JOURNAL
    if not path.exists():
        return None
    body: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return body


def _write_journal(d: Path, body: dict[str, Any]) -> None:
    write_key_file(d / JOURNAL, json.dumps(body, indent=1).encode(), replace=True)


def _complete(d: Path) -> None:
    """Move the committed rotation's new keys into place (idempotent), then drop the journal."""
    for name in KEY_FILES:
        nxt = d / (name + NEXT)
        if nxt.exists():
            os.replace(nxt, d / name)
    sync_dir(d)
    (d / JOURNAL).unlink(missing_ok=True)
    sync_dir(d)


def _discard(d: Path, created: list[str]) -> None:
    """Undo an uncommitted rotation: the current keys were never replaced."""
    for name in KEY_FILES:
        (d / (name + NEXT)).unlink(missing_ok=True)
    for name in created:
        (d / name).unlink(missing_ok=True)
    (d / JOURNAL).unlink(missing_ok=True)
    sync_dir(d)


def _recover(store: RotatingStore, d: Path) -> str | None:
    j = _journal(d)
    if j is None:
        return None
    new_id = j["new_key_id"]
    if store.rotation_committed(new_id):
        staged = read_keyring_next(d)
        current = read_keyring(d)
        if (staged is None or staged.key_id != new_id) and (
                current is None or current.key_id != new_id):
            raise KeyRotationError(
                f"the rotation to keys {new_id} committed, but the new key files "
                f"({KEY_FILES[0]}{NEXT}, {KEY_FILES[1]}{NEXT}) are gone from {d}; restore "
                "them from the backup taken right after the rotation")
        _complete(d)
        log.warning("completed the interrupted rotation to keys %s", new_id)
        return "completed"
    _discard(d, list(j.get("created", [])))
    log.warning("rolled back the interrupted rotation to keys %s (it never committed)", new_id)
    return "rolled back"


def read_keyring_next(d: Path) -> KeyRing | None:
    """The staged keys of a rotation in progress (``*.next``), if both are there."""
    paths = [d / (n + NEXT) for n in KEY_FILES]
    if not all(p.exists() for p in paths):
        return None
    return KeyRing(paths[0].read_bytes()[:KEY_BYTES], paths[1].read_bytes()[:KEY_BYTES])


def _after_failure(store: RotatingStore, d: Path, new_id: str, created: list[str],
                   error: BaseException) -> None:
    """Decide from the store whether the failed call committed; complete or undo."""
    try:
        committed: bool | None = store.rotation_committed(new_id)
    except Exception:  # the database is unreachable: leave the journal for `keys recover`
        committed = None
    if committed is None:
        raise KeyRotationError(
            f"the key rotation failed ({error}) and the database cannot tell whether it "
            f"committed; run `tiplab keys recover` once the database is reachable") from error
    if committed:
        _complete(d)
        raise KeyRotationError(f"the rotation to keys {new_id} committed and its keys are in "
                               f"place, but it then failed: {error}") from error
    _discard(d, created)
    if isinstance(error, TiplabError) or not isinstance(error, Exception):
        return  # re-raised by the caller as it is (KeyboardInterrupt stays one)
    raise KeyRotationError(f"the key rotation failed and was rolled back; the previous keys "
                           f"still open everything: {error}") from error


def _retire(store: RotatingStore, d: Path, key_ids: list[str]) -> list[str]:
    in_use = store.key_ids_in_use()
    busy = [k for k in key_ids if in_use.get(k)]
    if busy:
        raise KeyManagementError(
            f"keys {', '.join(busy)} still seal {sum(in_use[k] for k in busy)} batch(es); "
            "run `tiplab keys rotate` to re-seal them before retiring those keys")
    for k in key_ids:
        for name in KEY_FILES:
            generation_path(d, name, k).unlink(missing_ok=True)
    sync_dir(d)
    return list(key_ids)
