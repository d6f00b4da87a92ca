"""Text out of uploaded notes: plain text in any common encoding, Word (paragraphs and tables),
PDF; empty, huge, renamed, damaged, encrypted and scanned files are refused with a reason.
Fixtures are built here: python-docx for Word, reportlab for PDF, pypdf to encrypt."""

from __future__ import annotations

import io
import zipfile

import pytest

from tiplab.qualitative import extract as ex
from tiplab.qualitative.extract import MAX_BYTES, ExtractError, extract

NOTE = "Interview with the survivor. She was promised a job in a hotel kitchen."


def _docx(build) -> bytes:
    import docx

    document = docx.Document()
    build(document)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _pdf(pages: list[str | None]) -> bytes:
    """One page per entry: its text, or ``None`` for a page with only an image (a scan)."""
    from PIL import Image
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for text in pages:
        if text is None:
            img = Image.new("RGB", (200, 100), "white")
            for x in range(20, 180):
                img.putpixel((x, 50), (0, 0, 0))  # a scanned line of "ink"
            c.drawImage(ImageReader(img), 50, 500, width=400, height=200)
        else:
            y = 780
            for line in text.split("\n"):
                c.drawString(72, y, line)
                y -= 16
        c.showPage()
    c.save()
    return buf.getvalue()


# --------------------------------------------------------------------------- text


def test_utf8_text_with_bom_and_windows_line_breaks():
    got = extract(("\ufeff" + NOTE.replace(". ", ".\r\n") + "\r\n").encode("utf-8"),
                  "note.txt")
    assert got.kind == "txt"
    assert got.pages is None
    assert got.warnings == ()
    assert got.text == NOTE.replace(". ", ".\n")


def test_other_encodings_are_detected_and_said():
    text = ("Entretien avec la survivante. Elle a été recrutée à Marseille par un homme qui "
            "lui a promis un emploi dans un hôtel, puis il a gardé son passeport.")
    got = extract(text.encode("cp1252"), "notes.TXT")
    assert got.text == text
    assert any("not UTF-8" in w for w in got.warnings)
    got16 = extract(text.encode("utf-16"), "notes.txt")
    assert got16.text == text


def test_empty_too_big_and_unsupported_files():
    with pytest.raises(ExtractError, match="empty"):
        extract(b"", "note.txt")
    with pytest.raises(ExtractError, match="has no text"):
        extract(b"  \n\n ", "note.txt")
    with pytest.raises(ExtractError, match="limit is 10 MB"):
        extract(b"a" * (MAX_BYTES + 1), "note.txt")
    with pytest.raises(ExtractError, match=r"old Word document \(.doc\): save it as .docx"):
        extract(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "note.doc")
    with pytest.raises(ExtractError, match=r"unsupported file type .exe"):
        extract(b"MZ\x90\x00", "note.exe")
    with pytest.raises(ExtractError, match="no extension"):
        extract(b"text", "README")
    with pytest.raises(ExtractError, match="looks binary"):
        extract(bytes(range(0, 32)) * 20, "note.txt")


def test_content_must_match_the_extension():
    pdf = _pdf([NOTE])
    with pytest.raises(ExtractError, match=r"named .docx but is a PDF"):
        extract(pdf, "note.docx")
    with pytest.raises(ExtractError, match="named as text but is a PDF"):
        extract(pdf, "note.txt")
    with pytest.raises(ExtractError, match=r"named .pdf but is not a PDF"):
        extract(NOTE.encode(), "note.pdf")


# --------------------------------------------------------------------------- Word


def test_docx_paragraphs_and_tables_in_document_order():
    def build(d):
        d.add_paragraph("Interview notes")
        d.add_paragraph("She was recruited online.")
        table = d.add_table(rows=2, cols=3)
        table.cell(0, 0).text = "Q"
        table.cell(0, 1).text = "Who kept your passport?"
        table.cell(0, 2).text = ""
        table.cell(1, 0).text = "A"
        a = table.cell(1, 1).merge(table.cell(1, 2))
        a.text = "The boss kept it."
        d.add_paragraph("End of notes.")

    got = extract(_docx(build), "notes.docx")
    assert got.kind == "docx"
    assert got.text.split("\n") == ["Interview notes", "She was recruited online.",
                                    "Q | Who kept your passport?", "A | The boss kept it.",
                                    "", "End of notes."]
    assert any("table" in w for w in got.warnings)


def test_damaged_docx_is_refused():
    good = _docx(lambda d: d.add_paragraph(NOTE))
    with pytest.raises(ExtractError, match="damaged"):
        extract(good[: len(good) // 2], "notes.docx")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "not word")
    with pytest.raises(ExtractError, match="without a Word document"):
        extract(buf.getvalue(), "notes.docx")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", "<not xml")
        zf.writestr("[Content_Types].xml", "<nope/>")
    with pytest.raises(ExtractError, match="damaged"):
        extract(buf.getvalue(), "notes.docx")


def test_docx_that_unpacks_too_big_is_refused(monkeypatch):
    monkeypatch.setattr(ex, "MAX_UNPACKED", 100)
    with pytest.raises(ExtractError, match="unpacks to"):
        extract(_docx(lambda d: d.add_paragraph(NOTE * 5)), "notes.docx")


# --------------------------------------------------------------------------- PDF


def test_pdf_text_and_page_count():
    got = extract(_pdf(["Interview with the survivor.\nShe was promised a job.",
                        "Second page: the boss kept her passport."]), "notes.pdf")
    assert got.kind == "pdf"
    assert got.pages == 2
    assert got.warnings == ()
    assert "promised a job" in got.text
    assert "kept her passport" in got.text
    assert got.text.index("promised") < got.text.index("Second page")


def test_a_scanned_pdf_says_run_ocr_first():
    with pytest.raises(ExtractError, match=r"looks scanned. Run OCR first or type the notes"):
        extract(_pdf([None, None]), "scan.pdf")


def test_a_partly_scanned_pdf_warns_which_pages():
    got = extract(_pdf([NOTE, None, NOTE]), "mixed.pdf")
    assert got.pages == 3
    assert any("page(s) 2 of 3 have no text layer" in w for w in got.warnings)


def test_encrypted_pdfs():
    from pypdf import PdfReader, PdfWriter

    def encrypted(user: str, owner: str) -> bytes:
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_pdf([NOTE]))))
        writer.encrypt(user_password=user, owner_password=owner, algorithm="AES-128")
        buf = io.BytesIO()
        writer.write(buf)
        return buf.getvalue()

    with pytest.raises(ExtractError, match=r"encrypted PDF .* remove the password"):
        extract(encrypted("secret", "owner"), "locked.pdf")
    got = extract(encrypted("", "owner"), "owner-only.pdf")  # opens without a password
    assert "promised a job" in got.text
    assert any("owner password" in w for w in got.warnings)


def test_damaged_pdf_is_refused():
    pdf = _pdf([NOTE])
    for cut in (200, len(pdf) // 2):
        with pytest.raises(ExtractError, match=r"damaged PDF .* print it to PDF again"):
            extract(pdf[:cut], "broken.pdf")
