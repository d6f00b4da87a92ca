"""Objects the screening ladder rows and tests need (no tests here)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from tiplab_web.core.access import organisation_of
from tiplab_web.core.sealed import seal_text

TEXTS = {
    "ad-1": "Hostess work in Dubai. No experience needed! Travel and visa paid by us. Your "
            "passport is handled by our agency.",
    "ad-2": "Accountant in Vienna. Requirements: a degree and three years of experience. "
            "Salary according to the collective agreement.",
}


def make_batch(user: Any, *, kind: str = "texts", title: str = "Ladder batch",
               items: dict[str, str] | None = None, flagged: tuple[str, ...] = ("ad-1",),
               agency: str = "") -> Any:
    """A screened batch of ``user``'s organisation made directly (no job, no model): one
    item per text, sealed; those in ``flagged`` flagged with code FL01 (0.8)."""
    from tiplab_web.screening.models import ScreeningBatch, ScreeningItem

    items = TEXTS if items is None else items
    b = ScreeningBatch.objects.create(
        organisation=organisation_of(user), title=title, kind=kind, file_name="ladder.csv",
        file_sha256="0" * 64, encoding="utf-8", id_column="id", text_column="text",
        rows=len(items), accepted=len(items), screened=len(items),
        flagged=sum(1 for k in items if k in flagged), status="done", threshold=0.5,
        method="keywords", created_by=user, finished_at=timezone.now(),
        report={"rejected": [], "by_code": {"FL01": len(flagged)}})
    for n, (ext, text) in enumerate(items.items(), start=1):
        hit = ext in flagged
        it = ScreeningItem.objects.create(
            batch=b, row=n, external_id=ext, sealed_text=b"", flagged=hit,
            codes=["FL01"] if hit else [], confidences={"FL01": 0.8 if hit else 0.1},
            score=0.8 if hit else 0.1, source_agency=agency,
            record_id=ext if agency else "")
        it.sealed_text = seal_text(text, it.purpose)
        it.save(update_fields=["sealed_text"])
    return b


def batch_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {"pk": make_batch(user).pk}


def item_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {"pk": make_batch(user).items.get(external_id="ad-1").pk}


def csv_bytes(rows: list[tuple[str, ...]], header: tuple[str, ...] = ("id", "text"),
              encoding: str = "utf-8") -> bytes:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode(encoding)
