"""Text out of an uploaded note: plain text (any common encoding), Word (.docx) or PDF.

The file's content is checked against its name (a PDF must start with ``%PDF-``, a .docx is
a ZIP package with a Word document inside), so a renamed or damaged file is refused with a
message saying what to do, never half-read. A PDF without a text layer (a scan or a photo)
is refused: tiplab does no OCR, so the note must be typed or run through OCR first.
"""

from __future__ import annotations

import io
import logging
import re
import warnings
import zipfile
from dataclasses import dataclass
from typing import Any

from tiplab.errors import TiplabError

__all__ = ["KINDS", "MAX_BYTES", "ExtractError", "Extracted", "extract"]

log = logging.getLogger("tiplab.qualitative.extract")

#: largest file accepted (10 MB): longer transcripts are split into parts
MAX_BYTES = 10 * 1024 * 1024
#: largest unpacked size of a .docx (a ZIP package): refuses "zip bombs"
MAX_UNPACKED = 200 * 1024 * 1024
KINDS = ("txt", "docx", "pdf")
_EXTENSIONS = {".txt": "txt", ".text": "txt", ".docx": "docx", ".pdf": "pdf"}
_OTHER_FORMATS = {
    ".doc": "an old Word document (.doc): save it as .docx or .pdf in Word",
    ".odt": "an OpenDocument text (.odt): save it as .docx or .pdf",
    ".rtf": "a rich-text file (.rtf): save it as .docx or .txt",
    ".pages": "a Pages document: export it as .docx or .pdf",
}
#: a page with fewer letters or digits than this counts as having no text layer
_MIN_PAGE_CHARS = 10


class ExtractError(TiplabError):
    """A file whose text cannot be read (empty, too big, wrong type, scanned, encrypted)."""


@dataclass(frozen=True)
class Extracted:
    """The text of a file, its kind, its number of pages (PDF) and what to know about it."""

    text: str
    kind: str
    pages: int | None
    warnings: tuple[str, ...] = ()


def extract(data: bytes, filename: str) -> Extracted:
    """The text of an uploaded note.

    Parameters
    ----------
    data : bytes
        The file's content.
    filename : str
        Its name; the extension (.txt, .docx, .pdf) says how to read it.

    Returns
    -------
    Extracted
        ``text`` with line breaks normalised to ``\\n``; ``warnings`` say e.g. which encoding
        a text file was read in, or which PDF pages had no text.

    Raises
    ------
    ExtractError
        For an empty file, a file over :data:`MAX_BYTES`, an unsupported type, content that
        does not match the extension, a damaged file, an encrypted PDF or a PDF with no text
        layer (scanned).
    """
    name = filename or "the file"
    if not data:
        raise ExtractError(f"{name} is empty: choose the file again, or type the note")
    if len(data) > MAX_BYTES:
        raise ExtractError(f"{name} is {len(data) / 1024 / 1024:.1f} MB; the limit is "
                           f"{MAX_BYTES // 1024 // 1024} MB: split the transcript into parts")
    ext = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    kind = _EXTENSIONS.get(ext)
    if kind is None:
        hint = _OTHER_FORMATS.get(ext)
        raise ExtractError(f"{name} is {hint}" if hint else
                           f"{name}: unsupported file type {ext or '(no extension)'}; upload "
                           "a .txt, .docx or .pdf file")
    _check_magic(data, name, kind)
    if kind == "txt":
        out = _txt(data, name)
    elif kind == "docx":
        out = _docx(data, name)
    else:
        out = _pdf(data, name)
    if not out.text.strip():
        raise ExtractError(f"{name} has no text: type the note, or upload the file that has it")
    return out


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"%PDF-") or data[:1024].lstrip().startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return "zip"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if data.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*")):
        return "image"
    return None


def _check_magic(data: bytes, name: str, kind: str) -> None:
    found = _sniff(data)
    what = {"pdf": "a PDF", "zip": "a ZIP package (e.g. .docx)", "ole": "an old Office file "
            "(.doc/.xls)", "image": "an image"}
    if kind == "pdf" and found != "pdf":
        raise ExtractError(f"{name} is named .pdf but is "
                           f"{what.get(found or '', 'not a PDF')}: upload the PDF itself")
    if kind == "docx" and found != "zip":
        raise ExtractError(f"{name} is named .docx but is "
                           f"{what.get(found or '', 'not a Word document')}: open it in Word "
                           "and save it as .docx")
    if kind == "txt" and found is not None:
        raise ExtractError(f"{name} is named as text but is {what[found]}: upload it with its "
                           "own extension (.pdf, .docx)")


def _clean(text: str) -> str:
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    text = text.lstrip("\ufeff")
    return re.sub(r"[ \t]+\n", "\n", text).strip("\n")


# --------------------------------------------------------------------------- plain text


def _txt(data: bytes, name: str) -> Extracted:
    from charset_normalizer import from_bytes

    notes: list[str] = []
    try:
        text = data.decode("utf-8-sig")
        encoding = "utf_8"
    except UnicodeDecodeError:
        best = from_bytes(data).best()
        if best is None:
            raise ExtractError(f"{name} does not look like text in any known encoding: save "
                               "it as UTF-8 text, or upload the original document") from None
        encoding = best.encoding
        text = str(best)
        notes.append(f"read as {encoding} (not UTF-8): check accented letters")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
    if controls > max(5, len(text) // 100):
        raise ExtractError(f"{name} looks binary, not text ({controls} control characters): "
                           "upload a .txt, .docx or .pdf file")
    log.debug("read %s as %s", name, encoding)
    return Extracted(text=_clean(text), kind="txt", pages=None, warnings=tuple(notes))


# --------------------------------------------------------------------------- Word


def _docx(data: bytes, name: str) -> Extracted:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
            unpacked = sum(i.file_size for i in zf.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise ExtractError(f"{name} is damaged (not a readable .docx: {e}): open it in Word "
                           "and save it again") from e
    if "word/document.xml" not in names:
        raise ExtractError(f"{name} is a ZIP package without a Word document inside: open it "
                           "in Word and save it as .docx")
    if unpacked > MAX_UNPACKED:
        raise ExtractError(f"{name} unpacks to {unpacked // 1024 // 1024} MB, more than the "
                           f"{MAX_UNPACKED // 1024 // 1024} MB allowed: save the text alone")
    try:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        document = docx.Document(io.BytesIO(data))
        blocks: list[str] = []
        tables = 0
        for child in document.element.body.iterchildren():
            tag = child.tag.rsplit("}", 1)[-1]
            if tag == "p":
                blocks.append(Paragraph(child, document).text)
            elif tag == "tbl":
                tables += 1
                blocks.extend(_table_lines(Table(child, document)))
    except ExtractError:
        raise
    except Exception as e:  # python-docx/lxml raise many kinds on a damaged package
        raise ExtractError(f"{name} is damaged ({type(e).__name__}: {e}): open it in Word "
                           "and save it again") from e
    notes = [f"{tables} table(s) read row by row, cells separated by ' | '"] if tables else []
    return Extracted(text=_clean("\n".join(blocks)), kind="docx", pages=None,
                     warnings=tuple(notes))


def _table_lines(table: Any) -> list[str]:
    """One line per row, cells joined by " | " (a merged cell once); nested tables after."""
    lines: list[str] = []
    for row in table.rows:
        seen: list[Any] = []
        cells: list[str] = []
        for cell in row.cells:
            if any(cell._tc is s for s in seen):
                continue  # a merged cell repeats
            seen.append(cell._tc)
            text = " ".join(p.text.strip() for p in cell.paragraphs if p.text.strip())
            if text:
                cells.append(text)
            for inner in cell.tables:
                lines.extend(_table_lines(inner))
        if cells:
            lines.append(" | ".join(cells))
    lines.append("")
    return lines


# --------------------------------------------------------------------------- PDF


def _pdf(data: bytes, name: str) -> Extracted:
    try:
        import pypdf
        from pypdf.errors import PyPdfError
    except ImportError as e:  # pragma: no cover - pypdf is a dependency
        raise ExtractError("reading PDF files needs pypdf: install it (pip install pypdf)") \
            from e
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pypdf warns about tolerable faults; we check text
        try:
            reader = pypdf.PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                opened = False
                try:
                    opened = bool(reader.decrypt(""))
                except (PyPdfError, NotImplementedError, ValueError):
                    opened = False
                if not opened:
                    raise ExtractError(f"{name} is an encrypted PDF (it has a password): "
                                       "open it, remove the password, and upload it again")
                notes.append("the PDF is protected by an owner password; its text was read")
            texts = [page.extract_text() or "" for page in reader.pages]
        except ExtractError:
            raise
        except Exception as e:  # pypdf raises many kinds on damaged files
            raise ExtractError(f"{name} is a damaged PDF ({type(e).__name__}: {e}): save or "
                               "print it to PDF again") from e
    pages = len(texts)
    if pages == 0:
        raise ExtractError(f"{name} has no pages")
    empty = [i + 1 for i, t in enumerate(texts)
             if sum(ch.isalnum() for ch in t) < _MIN_PAGE_CHARS]
    if len(empty) == pages:
        raise ExtractError(f"{name} has no text layer ({pages} page(s)): it looks scanned. "
                           "Run OCR first or type the notes")
    if empty:
        shown = ", ".join(map(str, empty[:10])) + (" ..." if len(empty) > 10 else "")
        notes.append(f"page(s) {shown} of {pages} have no text layer (scanned?): their text "
                     "is missing; type it or run OCR")
    text = "\n\n".join(_clean(t) for t in texts if t.strip())
    return Extracted(text=text, kind="pdf", pages=pages, warnings=tuple(notes))
