"""Screening batches of free texts (case narratives, online advertisements) for indicators.

Each text is scored by a :class:`~tiplab.qualitative.suggest.Suggester` and flagged with the
codes whose confidence reaches the threshold. A text is embedded once as a whole
(``unit="text"``, truncated at the model's 128 word pieces, about 90 words) or sentence by
sentence (``unit="sentences"``: a code's confidence is its highest over the sentences; finer,
and about as many times slower as there are sentences). A flag is a prompt for a person to
read the text, never a finding that someone is a victim.

Rows without an id or without text are rejected with their reason, as are repeated ids; the
rest are screened. :func:`screen_csv` writes the flags file whole or not at all.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tiplab.errors import TiplabError
from tiplab.qualitative.segment import sentences
from tiplab.qualitative.suggest import Suggester

__all__ = ["MAX_BYTES", "UNITS", "Flag", "ScreenError", "ScreenReport", "default_suggester",
           "read_rows", "screen", "screen_csv"]

#: largest input file screen_csv reads
MAX_BYTES = 200 * 1024 * 1024
UNITS = ("text", "sentences")
_CHUNK = 512


class ScreenError(TiplabError):
    """A batch cannot be screened (unreadable file, missing column, nothing to screen)."""


@dataclass(frozen=True)
class Flag:
    """One screened text: the codes at or above the threshold (best first), every code's
    confidence, the highest confidence, and the method that scored it."""

    id: str
    codes: tuple[str, ...]
    confidence: dict[str, float]
    score: float
    method: str

    @property
    def flagged(self) -> bool:
        return bool(self.codes)


@dataclass(frozen=True)
class ScreenReport:
    """What a screening did: counts, rejected rows with reasons, flags per code, time."""

    texts: int
    flagged: int
    rejected: list[dict[str, Any]]
    by_code: dict[str, int]
    seconds: float
    method: str
    model: dict[str, Any]
    threshold: float
    unit: str = "text"
    notes: tuple[str, ...] = ()
    codebook: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"texts": self.texts, "flagged": self.flagged, "rejected": self.rejected,
                "by_code": self.by_code, "seconds": round(self.seconds, 3),
                "method": self.method, "model": self.model, "threshold": self.threshold,
                "unit": self.unit, "notes": list(self.notes), "codebook": self.codebook}


def _confidences(suggester: Suggester, texts: Sequence[str], unit: str) -> np.ndarray:
    if unit == "text":
        return suggester.scores(texts)
    units: list[str] = []
    owner: list[int] = []
    for i, t in enumerate(texts):
        parts = [s.text for s in sentences(t)] or [t]
        units += parts
        owner += [i] * len(parts)
    conf = suggester.scores(units)
    out = np.zeros((len(texts), len(suggester.codes)))
    np.maximum.at(out, np.array(owner, dtype=np.int64), conf)
    return out


def screen(rows: Iterable[tuple[str, str]], suggester: Suggester, *,
           threshold: float = 0.5, unit: str = "text") -> tuple[list[Flag], ScreenReport]:
    """Screen ``(id, text)`` rows.

    Parameters
    ----------
    rows : iterable of (str, str)
        Each text with its id.
    suggester : Suggester
        Scores the texts (its own threshold and top_k are not used).
    threshold : float
        A code is flagged at or above this confidence (0 < threshold <= 1).
    unit : {"text", "sentences"}
        Embed each text once, or each sentence (a code's confidence is then its highest
        over the sentences).

    Returns
    -------
    (flags, report)
        One :class:`Flag` per accepted row, in input order (``codes`` empty when nothing
        reaches the threshold); rejected rows (no id, empty text, repeated id) are in
        ``report.rejected`` with their 1-based position and reason.
    """
    if not 0.0 < float(threshold) <= 1.0:
        raise ScreenError(f"threshold {threshold} is outside (0, 1]: give a confidence such "
                          "as 0.5")
    if unit not in UNITS:
        raise ScreenError(f"unit {unit!r}: use one of {', '.join(UNITS)}")
    t0 = time.perf_counter()
    rejected: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    ids: list[str] = []
    texts: list[str] = []
    for n, (rid, text) in enumerate(rows, 1):
        rid = "" if rid is None else str(rid).strip()
        if not rid:
            rejected.append({"row": n, "id": "", "reason": "missing id"})
            continue
        if text is None or not str(text).strip():
            rejected.append({"row": n, "id": rid, "reason": "empty text"})
            continue
        if rid in seen:
            rejected.append({"row": n, "id": rid,
                             "reason": f"repeated id (first at row {seen[rid]})"})
            continue
        seen[rid] = n
        ids.append(rid)
        texts.append(str(text))
    codes = suggester.codes
    flags: list[Flag] = []
    by_code: Counter[str] = Counter()
    for start in range(0, len(texts), _CHUNK):
        conf = _confidences(suggester, texts[start:start + _CHUNK], unit)
        for k, row in enumerate(conf):
            hit = [j for j in np.argsort(-row, kind="stable") if row[j] >= threshold]
            got = tuple(codes[j] for j in hit)
            by_code.update(got)
            flags.append(Flag(id=ids[start + k], codes=got,
                              confidence={c: round(float(v), 4)
                                          for c, v in zip(codes, row, strict=True)},
                              score=round(float(row.max()) if len(row) else 0.0, 4),
                              method=suggester.method))
    report = ScreenReport(
        texts=len(flags), flagged=sum(1 for f in flags if f.codes), rejected=rejected,
        by_code={c: by_code[c] for c in codes if by_code[c]},
        seconds=time.perf_counter() - t0, method=suggester.method, model=suggester.model,
        threshold=float(threshold), unit=unit,
        codebook={"name": suggester.codebook.name, "version": suggester.codebook.version,
                  "hash": suggester.codebook.content_hash()})
    return flags, report


def default_suggester(*, method: str = "auto", threshold: float = 0.5,
                      group: str | None = "forced_labour") -> tuple[Suggester, tuple[str, ...]]:
    """The shipped codebook's codes (by default the 11 ILO forced-labour indicators) with
    the embedded model, or with cue phrases when the model is not installed.

    Returns the suggester and notes to show (why it fell back to keywords).
    """
    from tiplab.qualitative.codebook import default_codebook
    from tiplab.qualitative.embed import ModelUnavailable, default_embedder
    from tiplab.qualitative.evaluate import restrict
    from tiplab.qualitative.suggest import SuggestSettings

    cb = default_codebook()
    if group:
        cb = restrict(cb, group=group)
    notes: tuple[str, ...] = ()
    embedder = None
    if method != "keywords":
        try:
            embedder = default_embedder()
        except ModelUnavailable as e:
            notes = (f"screened with the codebook's cue phrases only: {e}",)
            method = "keywords"
    return Suggester(cb, embedder=embedder,
                     settings=SuggestSettings(method=method, threshold=threshold)), notes


def _decode(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ScreenError(f"{path}: not UTF-8 text (byte {e.start}); save it as UTF-8 "
                          "CSV") from e


def read_rows(path: Path, *, id_column: str = "id",
              text_column: str = "text") -> list[tuple[str, str]]:
    """``(id, text)`` of every data row of a CSV file (delimiter , ; tab or |, sniffed).

    ``id_column`` may join several columns with ``+`` (``source_agency+record_id``: the
    simulator's narratives), their values joined with ``:``.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as e:
        raise ScreenError(f"{path}: cannot read the file ({e.strerror or e})") from e
    if path.is_dir():
        raise ScreenError(f"{path}: is a folder, give a CSV file")
    if size == 0:
        raise ScreenError(f"{path}: the file is empty")
    if size > MAX_BYTES:
        raise ScreenError(f"{path}: {size} bytes is more than the {MAX_BYTES} a batch may "
                          "have; split the file")
    text = _decode(path.read_bytes(), path)
    try:
        dialect: Any = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise ScreenError(f"{path}: no header row") from None
    except csv.Error as e:
        raise ScreenError(f"{path}, line 1: {e}") from e
    names = [h.strip() for h in header]
    id_parts = [p.strip() for p in id_column.split("+")]
    missing = [c for c in [*id_parts, text_column] if c not in names]
    if missing:
        raise ScreenError(f"{path}: no column {', '.join(map(repr, missing))}; the columns "
                          f"are {', '.join(map(repr, names))} (choose with --id-column and "
                          "--text-column)")
    id_idx = [names.index(c) for c in id_parts]
    t_idx = names.index(text_column)
    out = []
    try:
        for row in reader:
            if not row or all(not v.strip() for v in row):
                continue
            rid = ":".join(row[i].strip() if i < len(row) else "" for i in id_idx)
            if any(i >= len(row) or not row[i].strip() for i in id_idx):
                rid = ""
            out.append((rid, row[t_idx] if t_idx < len(row) else ""))
    except csv.Error as e:
        raise ScreenError(f"{path}, line {reader.line_num}: {e}") from e
    if not out:
        raise ScreenError(f"{path}: no data rows under the header; nothing to screen")
    return out


def _write_flags(flags: Sequence[Flag], codes: Sequence[str], out: Path) -> None:
    out = Path(out)
    if out.is_dir():
        raise ScreenError(f"{out}: is a folder; give the flags file name (e.g. flags.csv)")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise ScreenError(f"{parent}: no such folder for the flags file")
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["id", "flagged", "codes", "top_code", "score", *codes, "method"])
            for f in flags:
                w.writerow([f.id, "yes" if f.codes else "no", ";".join(f.codes),
                            f.codes[0] if f.codes else "",
                            f"{f.score:.4f}", *(f"{f.confidence.get(c, 0.0):.4f}" for c in codes),
                            f.method])
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def screen_csv(path: Path, out: Path, *, id_column: str = "id", text_column: str = "text",
               suggester: Suggester | None = None, threshold: float = 0.5,
               unit: str = "text") -> ScreenReport:
    """Screen the texts of a CSV file and write the flags file.

    Parameters
    ----------
    path : Path
        UTF-8 CSV with a header row.
    out : Path
        The flags CSV: ``id, flagged, codes, top_code, score``, one confidence column per
        code, ``method``; one row per accepted text. Written to a temporary file and
        renamed, so it appears whole or not at all.
    id_column, text_column : str
        Column names (``id_column`` may be ``a+b``: values joined with ``:``).
    suggester : Suggester, optional
        Default :func:`default_suggester` (the forced-labour indicators).
    threshold : float
    unit : {"text", "sentences"}

    Raises
    ------
    ScreenError
        Unreadable or empty file, missing column, bad threshold; nothing is written.
    """
    notes: tuple[str, ...] = ()
    if suggester is None:
        suggester, notes = default_suggester(threshold=threshold)
    rows = read_rows(path, id_column=id_column, text_column=text_column)
    flags, report = screen(rows, suggester, threshold=threshold, unit=unit)
    if not flags:
        raise ScreenError(f"{path}: every row was rejected ({len(report.rejected)}: "
                          f"{report.rejected[0]['reason']} at row {report.rejected[0]['row']}"
                          " ...); nothing to screen")
    _write_flags(flags, suggester.codes, out)
    if notes:
        report = ScreenReport(**{**report.__dict__, "notes": report.notes + notes})
    return report
