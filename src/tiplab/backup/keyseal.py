"""The keys' part of a backup, sealed with a passphrase (Argon2id + AES-256-GCM).

Everything else in an archive is either identifier-free or sealed with the field key, so the
archive is exactly as safe as the database without its keys — as long as the keys in it are
protected separately. They are sealed here with a key derived from a passphrase by Argon2id
(RFC 9106), a memory-hard function: each guess costs :data:`DEFAULT_KDF` ``memory_kib`` of
memory and ``iterations`` passes over it, which makes guessing on GPUs and ASICs expensive.
Both primitives come from ``cryptography`` (already a dependency): no new package.

The derivation gives 64 bytes: the first 32 seal the key files (AES-256-GCM, the archive's id
as associated data, so a keys part moved into another archive does not open), the last 32
authenticate the archive's manifest (HMAC-SHA256), so whoever has the passphrase can tell that
no file of the archive was changed or swapped, checksums included.

The member is JSON: the KDF's name, salt and costs, the cipher's nonce and the ciphertext (of a
JSON object: relative path -> base64 file content). The costs travel with the archive, so a
later tiplab with other defaults still opens it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import unicodedata
from dataclasses import asdict, dataclass

from tiplab.errors import ArchiveDamaged, BackupError, WrongPassphrase

FORMAT = "tiplab-backup-keys/1"
MIN_PASSPHRASE = 12


@dataclass(frozen=True)
class KdfCost:
    """Argon2id costs: RFC 9106's memory-constrained recommendation, with 4x the memory."""

    iterations: int = 3
    lanes: int = 4
    memory_kib: int = 256 * 1024


DEFAULT_KDF = KdfCost()


def _derive(passphrase: str, salt: bytes, cost: KdfCost) -> tuple[bytes, bytes]:
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    out = Argon2id(salt=salt, length=64, iterations=cost.iterations, lanes=cost.lanes,
                   memory_cost=cost.memory_kib).derive(secret)
    return out[:32], out[32:]


def check_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise BackupError(f"the passphrase has {len(passphrase)} characters; use at least "
                          f"{MIN_PASSPHRASE} (several unrelated words are easiest to remember)")


def seal_files(files: dict[str, bytes], passphrase: str, archive_id: str,
               cost: KdfCost = DEFAULT_KDF) -> tuple[bytes, bytes]:
    """The sealed member for ``files`` and the key that authenticates the manifest."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    check_passphrase(passphrase)
    salt, nonce = os.urandom(16), os.urandom(12)
    enc_key, mac_key = _derive(passphrase, salt, cost)
    plain = json.dumps({name: base64.b64encode(data).decode() for name, data in files.items()})
    body = AESGCM(enc_key).encrypt(nonce, plain.encode(), _aad(archive_id))
    member = {"format": FORMAT, "archive_id": archive_id,
              "kdf": {"name": "argon2id", "salt": base64.b64encode(salt).decode(),
                      **asdict(cost)},
              "cipher": "aes-256-gcm", "nonce": base64.b64encode(nonce).decode(),
              "ciphertext": base64.b64encode(body).decode()}
    return json.dumps(member, indent=1).encode(), mac_key


def open_files(member: bytes, passphrase: str) -> tuple[dict[str, bytes], bytes, str]:
    """The key files sealed in ``member``, the manifest's authentication key and the id of the
    archive they were sealed for (the restore checks it against the manifest's).

    Raises :class:`WrongPassphrase` when the passphrase does not open them.
    """
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        head = json.loads(member)
        if head.get("format") != FORMAT or head["kdf"]["name"] != "argon2id" \
                or head["cipher"] != "aes-256-gcm":
            raise ArchiveDamaged(f"the archive's keys are in an unknown format "
                                 f"({head.get('format')!r}); a newer tiplab wrote it")
        kdf = head["kdf"]
        cost = KdfCost(int(kdf["iterations"]), int(kdf["lanes"]), int(kdf["memory_kib"]))
        salt = base64.b64decode(kdf["salt"])
        nonce = base64.b64decode(head["nonce"])
        body = base64.b64decode(head["ciphertext"])
        archive_id = str(head["archive_id"])
    except (ValueError, KeyError, TypeError) as e:
        raise ArchiveDamaged(f"the archive's keys part is damaged: {e}") from e
    if cost.memory_kib > 4 * 1024 * 1024:  # a doctored header must not exhaust the machine
        raise ArchiveDamaged(f"the archive's keys ask for {cost.memory_kib} KiB per guess")
    enc_key, mac_key = _derive(passphrase, salt, cost)
    try:
        plain = AESGCM(enc_key).decrypt(nonce, body, _aad(archive_id))
    except InvalidTag:
        raise WrongPassphrase("the passphrase does not open this archive's keys (or the keys "
                              "part was changed); nothing was restored") from None
    files = {name: base64.b64decode(data) for name, data in json.loads(plain).items()}
    return files, mac_key, archive_id


def manifest_mac(mac_key: bytes, manifest: bytes) -> str:
    return hmac.new(mac_key, manifest, hashlib.sha256).hexdigest()


def check_manifest(mac_key: bytes, manifest: bytes, mac: str) -> None:
    if not hmac.compare_digest(manifest_mac(mac_key, manifest), mac.strip()):
        raise ArchiveDamaged("the archive's manifest does not match its authentication code: "
                             "the archive was changed after it was written; do not restore it")


def _aad(archive_id: str) -> bytes:
    return f"{FORMAT}\x1f{archive_id}".encode()
