"""Public-key sealing of everything a reporter or the staff write in the channel.

Each piece of content is sealed with a PyNaCl ``SealedBox`` (X25519 + XSalsa20-Poly1305,
an ephemeral sender key per box) to every active recipient key, so a copy of the database
alone opens nothing. The envelope::

    b"TRS1" || count (1 byte) || count × (key id (6 bytes) || length (4 bytes) || box)

The plaintext starts with its ``purpose`` (e.g. ``"report:<uid>"``) and a NUL byte: a box
copied to another row does not open there.

Keys: the private half of a server key is a 32-byte file ``report-channel.<key id>.key``
(mode 0600) in the key directory (``TIPLAB_KEY_DIR`` or ``<data dir>/keys``), beside the
identifier keys; the public halves are rows of :class:`~.models.RecipientKey`. A key pair is
created on first use; ``manage.py reporting_keys`` creates, adds (a public key held
offline), lists and retires them.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from tiplab.config import key_dir
from tiplab.keys import write_key_file

from .models import RecipientKey

MAGIC = b"TRS1"
KEY_ID_BYTES = 6
_HEADER = struct.Struct(">6sI")


class SealError(Exception):
    """Content that cannot be opened here (no private key for it, or tampered with)."""


class KeyManagementError(Exception):
    """A key management request that cannot be done (said to the operator as it is)."""


def keys_dir() -> Path:
    return key_dir(Path(settings.DATA_DIR))


def key_id_of(public: bytes) -> str:
    return hashlib.blake2b(public, digest_size=KEY_ID_BYTES).hexdigest()


def private_path(key_id: str) -> Path:
    return keys_dir() / f"report-channel.{key_id}.key"


def create_key(label: str = "") -> RecipientKey:
    """A new key pair: the private half in the key directory, the public half in the table."""
    secret = PrivateKey.generate()
    public = bytes(secret.public_key)
    kid = key_id_of(public)
    write_key_file(private_path(kid), bytes(secret))
    return RecipientKey.objects.create(key_id=kid, public_key=public, label=label[:200],
                                       on_server=True)


def add_public_key(encoded: str, label: str = "") -> RecipientKey:
    """A recipient whose private key is held elsewhere (base64 of the 32-byte public key)."""
    try:
        public = base64.b64decode(encoded.strip(), validate=True)
        PublicKey(public)
    except (ValueError, TypeError, CryptoError) as e:
        raise KeyManagementError("the public key must be 32 bytes in base64 (44 characters)") from e
    kid = key_id_of(public)
    if RecipientKey.objects.filter(key_id=kid).exists():
        raise KeyManagementError(f"key {kid} is already a recipient")
    return RecipientKey.objects.create(key_id=kid, public_key=public, label=label[:200],
                                       on_server=False)


def retire_key(key_id: str) -> RecipientKey:
    with transaction.atomic():
        try:
            key = RecipientKey.objects.select_for_update().get(key_id=key_id)
        except RecipientKey.DoesNotExist:
            raise KeyManagementError(
                f"no reporting key {key_id!r}; 'reporting_keys list' lists them") from None
        if key.retired_at is not None:
            raise KeyManagementError(f"key {key_id} is already retired")
        others = RecipientKey.objects.filter(retired_at__isnull=True, on_server=True) \
            .exclude(pk=key.pk)
        if key.on_server and not others.exists():
            raise KeyManagementError(
                f"key {key_id} is the last key staff can read with on the server; create a "
                "new one first ('reporting_keys create')")
        key.retired_at = timezone.now()
        key.save(update_fields=["retired_at"])
        return key


def active_keys() -> list[RecipientKey]:
    """The keys new content is sealed to; a server key pair is created when there is none."""
    keys = list(RecipientKey.objects.filter(retired_at__isnull=True))
    if not any(k.on_server for k in keys):
        keys.append(create_key("created on first use"))
    return keys


def seal(data: bytes, purpose: str) -> bytes:
    plain = purpose.encode() + b"\0" + data
    parts = [MAGIC, bytes([0])]
    count = 0
    for key in active_keys():
        box = SealedBox(PublicKey(bytes(key.public_key))).encrypt(plain)
        parts.append(_HEADER.pack(bytes.fromhex(key.key_id), len(box)) + box)
        count += 1
    parts[1] = bytes([count])
    return b"".join(parts)


def seal_text(text: str, purpose: str) -> bytes:
    return seal(text.encode("utf-8"), purpose)


def _boxes(blob: bytes) -> list[tuple[str, bytes]]:
    blob = bytes(blob)
    if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 1:
        raise SealError("not a sealed envelope")
    count = blob[len(MAGIC)]
    pos = len(MAGIC) + 1
    out = []
    for _ in range(count):
        if pos + _HEADER.size > len(blob):
            raise SealError("truncated envelope")
        kid, length = _HEADER.unpack_from(blob, pos)
        pos += _HEADER.size
        out.append((kid.hex(), blob[pos:pos + length]))
        pos += length
    return out


def _private(key_id: str) -> PrivateKey | None:
    path = private_path(key_id)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    return PrivateKey(raw[:32])


def unseal(blob: bytes, purpose: str) -> bytes:
    """Open an envelope with any private key the key directory holds."""
    boxes = _boxes(blob)
    for kid, box in boxes:
        secret = _private(kid)
        if secret is None:
            continue
        try:
            plain = SealedBox(secret).decrypt(box)
        except CryptoError as e:
            raise SealError(f"the box for key {kid} does not open (tampered with?)") from e
        head, sep, data = plain.partition(b"\0")
        if not sep or head != purpose.encode():
            raise SealError("this content belongs to another record")
        return data
    raise SealError("none of the keys this content was sealed to is in the key directory ("
                    + ", ".join(k for k, _ in boxes) + "); restore it from the key backup")


def unseal_text(blob: bytes, purpose: str) -> str:
    return unseal(blob, purpose).decode("utf-8")


def recipients_of(blob: bytes) -> list[str]:
    return [kid for kid, _ in _boxes(blob)]
