"""Printable sheets of one-time codes: one card per code with the address, the code and a QR
code (segno, drawn as inline SVG — nothing fetched). The QR holds the address with the code
after ``#``: browsers never send that part to the server, so the code reaches no log; the
survivors' page reads it into the form when JavaScript runs, and otherwise the person types
the code printed beside it."""

from __future__ import annotations

import html
from dataclasses import dataclass

import segno

from tiplab.policy import questionnaires as qs

from .services import IssuedBatch


@dataclass(frozen=True)
class Card:
    code: str
    qr_svg: str  # a data: URI


def qr_data_uri(text: str) -> str:
    return str(segno.make(text, error="m").svg_data_uri(scale=3, border=2))


def cards(batch: IssuedBatch, base_url: str) -> list[Card]:
    return [Card(code, qr_data_uri(f"{base_url}#{code}")) for code in batch.codes]


def target_title(batch: IssuedBatch) -> str:
    if batch.consultation is not None:
        return batch.consultation.title
    return qs.get(batch.questionnaire).t("title", "en")


SHEET_CSS = """
@page { size: A4; margin: 12mm; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 9pt; }
.grid { display: flex; flex-wrap: wrap; gap: 0; }
.card { width: 62mm; height: 52mm; border: 0.4pt dashed #888; padding: 3mm; box-sizing:
  border-box; break-inside: avoid; text-align: center; }
.card img { width: 24mm; height: 24mm; }
.code { font-family: "DejaVu Sans Mono", monospace; font-size: 12pt; letter-spacing: .5pt;
  margin: 1mm 0; }
.url { font-size: 7pt; color: #333; word-break: break-all; }
.hint { font-size: 7pt; color: #333; }
h1 { font-size: 11pt; margin: 0 0 3mm; }
"""


def sheet_html(batch: IssuedBatch, base_url: str) -> str:
    e = html.escape
    out = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>codes</title>"
           f"<style>{SHEET_CSS}</style></head><body>"
           f"<h1>{e(target_title(batch))} — {len(batch.codes)} codes, valid until "
           f"{batch.expires_on.isoformat()} (batch {e(batch.batch)})</h1><div class='grid'>"]
    for card in cards(batch, base_url):
        out.append(f"<div class='card'><img src='{card.qr_svg}' alt=''>"
                   f"<div class='code'>{e(card.code)}</div><div class='url'>{e(base_url)}</div>"
                   "<div class='hint'>Your code works once. Nobody will know who you are.</div>"
                   "</div>")
    out.append("</div></body></html>")
    return "".join(out)


def sheet_pdf(batch: IssuedBatch, base_url: str) -> bytes:
    from tiplab.policy.documents import html_to_pdf

    return html_to_pdf(sheet_html(batch, base_url))
