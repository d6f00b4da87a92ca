"""Reading an uploaded CSV of texts: encoding, delimiter, columns, rows kept or rejected.

Nothing here touches the database: :func:`read_upload` returns the accepted rows and the
rejected ones with their reasons, or raises :class:`UploadError` with a message that names
the column or row at fault and says how to fix it.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

#: the largest file accepted (bytes) and the most data rows in one batch
MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
#: the longest text screened (characters); the model reads sentences, so this is generous
MAX_TEXT_CHARS = 20_000
#: the layout of case narratives written by the simulator (``narratives.csv``)
NARRATIVE_COLUMNS = ("source_agency", "record_id", "text")

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


class UploadError(Exception):
    """The file cannot be screened as it is; the message is fit for the user."""


@dataclass
class Row:
    row: int
    id: str
    text: str
    source_agency: str = ""
    record_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "id": self.id, "text": self.text,
                "source_agency": self.source_agency, "record_id": self.record_id}


@dataclass
class Upload:
    encoding: str
    delimiter: str
    columns: list[str]
    rows: int
    accepted: list[Row] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)


def detect_encoding(data: bytes) -> str:
    """BOM, else UTF-8 when the whole file decodes, else charset-normalizer's best guess."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[: 1 << 20]).best()
    if best is None:
        raise UploadError(_("Cannot tell the file's text encoding: save it as UTF-8 CSV and "
                            "upload it again."))
    enc = str(best.encoding)
    return "cp1252" if enc in ("cp1252", "iso8859_1", "latin_1") else enc


def _delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def read_upload(data: bytes, *, kind: str, id_column: str = "id",
                text_column: str = "text") -> Upload:
    """Parse ``data`` (a CSV file's bytes) into rows to screen and rejected rows.

    ``kind`` ``"case_narratives"`` reads the simulator's layout (``source_agency``,
    ``record_id``, ``text``) and makes each id ``agency:record_id``; ``"texts"`` reads the
    named id and text columns. A row is rejected (with its reason, never dropped silently)
    when its id or text is empty, its id repeats an earlier row's, its text is too long or it
    has a different number of fields than the header.
    """
    if not data:
        raise UploadError(_("The file is empty: upload a CSV with a header row and one text "
                            "per row."))
    if len(data) > MAX_BYTES:
        raise UploadError(_("The file is %(mb).1f MB; at most %(max)d MB can be screened at "
                            "once. Split it into several files.")
                          % {"mb": len(data) / 1e6, "max": MAX_BYTES // (1024 * 1024)})
    encoding = detect_encoding(data)
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as e:
        raise UploadError(_("The file is not valid %(enc)s text: save it as UTF-8 CSV.")
                          % {"enc": encoding}) from e
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise UploadError(_("The file is empty: upload a CSV with a header row and one text "
                            "per row."))
    delimiter = _delimiter(text[:65536])
    csv.field_size_limit(max(MAX_TEXT_CHARS * 4, 1 << 20))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except (StopIteration, csv.Error) as e:
        raise UploadError(_("The file has no header row.")) from e
    if kind == "case_narratives":
        wanted = list(NARRATIVE_COLUMNS)
    else:
        id_column, text_column = id_column.strip(), text_column.strip()
        if id_column == text_column:
            raise UploadError(_("The id column and the text column must differ."))
        wanted = [id_column, text_column]
    missing = [c for c in wanted if c not in header]
    if missing:
        raise UploadError(_("The file has no column %(missing)s; its columns are %(have)s. "
                            "Name the right columns on the form.")
                          % {"missing": ", ".join(f"“{c}”" for c in missing),
                             "have": ", ".join(f"“{c}”" for c in header) or "—"})
    idx = {c: header.index(c) for c in wanted}
    up = Upload(encoding=encoding, delimiter=delimiter, columns=header, rows=0)
    seen: dict[str, int] = {}
    try:
        for n, fields in enumerate(reader, start=1):
            if not any(f.strip() for f in fields):
                continue  # a blank line is not a row
            up.rows += 1
            if up.rows > MAX_ROWS:
                raise UploadError(_("The file has more than %(max)d rows; split it into "
                                    "several files.") % {"max": MAX_ROWS})
            reason = _check(fields, header, idx, kind, wanted, seen, n)
            if reason:
                up.rejected.append({"row": n, "reason": reason})
                continue
            up.accepted.append(_row(fields, idx, kind, n))
            seen[up.accepted[-1].id] = n
    except csv.Error as e:
        raise UploadError(_("Row %(n)d cannot be read as CSV (%(err)s).")
                          % {"n": reader.line_num, "err": e}) from e
    if up.rows == 0:
        raise UploadError(_("The file has a header but no rows."))
    if not up.accepted:
        first = up.rejected[0]
        raise UploadError(_("None of the %(n)d rows can be screened; row %(row)d: %(reason)s")
                          % {"n": up.rows, "row": first["row"], "reason": first["reason"]})
    return up


def _row(fields: list[str], idx: dict[str, int], kind: str, n: int) -> Row:
    if kind == "case_narratives":
        agency = fields[idx["source_agency"]].strip()
        rid = fields[idx["record_id"]].strip()
        return Row(row=n, id=f"{agency}:{rid}", text=fields[idx["text"]].strip(),
                   source_agency=agency, record_id=rid)
    id_col, text_col = list(idx)
    return Row(row=n, id=fields[idx[id_col]].strip(), text=fields[idx[text_col]].strip())


def _check(fields: list[str], header: list[str], idx: dict[str, int], kind: str,
           wanted: list[str], seen: dict[str, int], n: int) -> str:
    if len(fields) != len(header):
        return _("it has %(got)d fields where the header has %(want)d") % {
            "got": len(fields), "want": len(header)}
    for c in wanted[:-1]:
        if not fields[idx[c]].strip():
            return _("the column “%(c)s” is empty") % {"c": c}
    text_col = wanted[-1]
    body = fields[idx[text_col]].strip()
    if not body:
        return _("the text column “%(c)s” is empty") % {"c": text_col}
    if len(body) > MAX_TEXT_CHARS:
        return _("the text is %(n)d characters long; at most %(max)d are screened") % {
            "n": len(body), "max": MAX_TEXT_CHARS}
    rid = _row(fields, idx, kind, n).id
    if rid in seen:
        return _("the id “%(id)s” was already given on row %(row)d") % {"id": rid,
                                                                        "row": seen[rid]}
    return ""
