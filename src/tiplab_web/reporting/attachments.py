"""What a reporter may attach: images, PDF and plain text, recognised by their content (the
first bytes), not by the name the file came with; at most ``TIPLAB_REPORT_ATTACHMENT_MB``
(default 5 MB). Files are read into memory only (:class:`MemoryOnlyUploadHandler`): an
upload is never written to a temporary file in clear."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.utils.translation import gettext as _

#: (kind, content type, magic bytes at offset 0)
SIGNATURES: tuple[tuple[str, str, bytes], ...] = (
    ("image", "image/png", b"\x89PNG\r\n\x1a\n"),
    ("image", "image/jpeg", b"\xff\xd8\xff"),
    ("image", "image/gif", b"GIF87a"),
    ("image", "image/gif", b"GIF89a"),
    ("pdf", "application/pdf", b"%PDF-"),
)
SUFFIX = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp",
          "application/pdf": ".pdf", "text/plain": ".txt"}


def max_bytes() -> int:
    return int(getattr(settings, "TIPLAB_REPORT_ATTACHMENT_MB", 5)) * 1024 * 1024


class AttachmentRefused(ValueError):
    """Said to the reporter as it is."""


@dataclass(frozen=True)
class Checked:
    kind: str
    content_type: str
    name: str
    data: bytes


def sniff(data: bytes) -> tuple[str, str] | None:
    """(kind, content type) of ``data`` from its content, or None when it is not allowed."""
    for kind, ctype, magic in SIGNATURES:
        if data.startswith(magic):
            return kind, ctype
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image", "image/webp"
    if b"\0" in data:
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text", "text/plain"


def check(uploaded: Any) -> Checked:
    """Read an uploaded file and accept it, or raise :class:`AttachmentRefused`."""
    limit = max_bytes()
    size = getattr(uploaded, "size", 0) or 0
    if size > limit or getattr(uploaded, "too_large", False):
        raise AttachmentRefused(
            _("The file is larger than %(mb)s MB. Send a smaller file, or describe it in "
              "the text instead.") % {"mb": limit // (1024 * 1024)})
    data = uploaded.read()
    if len(data) > limit:
        raise AttachmentRefused(
            _("The file is larger than %(mb)s MB. Send a smaller file, or describe it in "
              "the text instead.") % {"mb": limit // (1024 * 1024)})
    if not data:
        raise AttachmentRefused(_("The file is empty."))
    found = sniff(data)
    if found is None:
        raise AttachmentRefused(
            _("This kind of file cannot be accepted. You can attach a photo (PNG, JPEG, GIF, "
              "WebP), a PDF or a plain text file."))
    kind, ctype = found
    name = str(getattr(uploaded, "name", "") or "attachment")[-120:]
    return Checked(kind, ctype, name, data)


class MemoryOnlyUploadHandler(FileUploadHandler):
    """Keeps uploaded files in memory, up to the limit plus one byte (the rest is dropped and
    the file marked ``too_large``), so nothing a reporter sends touches the disk in clear."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.buffer = io.BytesIO()
        self.received = 0
        self.limit = max_bytes()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.received += len(raw_data)
        room = self.limit + 1 - self.buffer.tell()
        if room > 0:
            self.buffer.write(raw_data[:room])
        return None  # no later handler gets the data

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self.buffer.seek(0)
        f = InMemoryUploadedFile(self.buffer, self.field_name, self.file_name,
                                 self.content_type, self.received, self.charset,
                                 self.content_type_extra)
        f.too_large = self.received > self.limit  # type: ignore[attr-defined]
        return f
