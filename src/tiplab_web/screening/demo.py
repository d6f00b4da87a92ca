"""The demo's screening batches: ~200 simulated online job advertisements (known truth, see
:mod:`adverts`) and, when the simulator wrote them, the case narratives of the imported
records (``$TIPLAB_DATA_DIR/demo/narratives.csv``). Screened by the demo analyst.

A background job like the rest of the demo (``screening.demo``; ``setup_demo`` chains it with
:func:`then_screen`), so ``make run`` shows the batches shortly after start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy

JOB_KIND = "screening.demo"
ADS_TITLE = "Online job advertisements (simulated)"
NARRATIVES_TITLE = "Case narratives of the imported records"
N_ADS = 200


def narratives_file() -> Path:
    return Path(settings.DATA_DIR) / "demo" / "narratives.csv"


def agreement(batch: Any, ads: list[Any]) -> dict[str, int]:
    """How the batch's flags compare with the adverts' truth (deceptive or not)."""
    truth = {a.id: a.deceptive for a in ads}
    out = {"true_positive": 0, "false_positive": 0, "false_negative": 0, "true_negative": 0}
    for ext, flagged in batch.items.values_list("external_id", "flagged"):
        real = truth.get(ext, False)
        key = ("true_" if flagged == real else "false_") + ("positive" if flagged
                                                             else "negative")
        out[key] += 1
    return out


def load() -> dict[str, Any] | None:
    """Screen the demo batches (once each); returns what was made."""
    from django.contrib.auth import get_user_model

    from tiplab_web.core.access import organisation_of

    from . import adverts, services
    from .models import ScreeningBatch

    analyst = get_user_model().objects.filter(username="demo-analyst").first()
    if analyst is None or organisation_of(analyst) is None:
        return None
    mine = ScreeningBatch.objects.filter(organisation=organisation_of(analyst),
                                         status=ScreeningBatch.Status.DONE)
    made: dict[str, Any] = {}
    if not mine.filter(title=ADS_TITLE).exists():
        ads = adverts.generate(N_ADS)
        b = services.create_batch(analyst, title=ADS_TITLE, kind="texts",
                                  file_name="demo-adverts.csv", data=adverts.to_csv(ads),
                                  background=False)
        made["adverts"] = {"batch": b.pk, "status": b.status, "flagged": b.flagged,
                           "method": b.method, "against_truth": agreement(b, ads)}
    path = narratives_file()
    if path.exists() and not mine.filter(title=NARRATIVES_TITLE).exists():
        b = services.create_batch(analyst, title=NARRATIVES_TITLE, kind="case_narratives",
                                  file_name=path.name, data=path.read_bytes(),
                                  background=False)
        made["narratives"] = {"batch": b.pk, "status": b.status, "flagged": b.flagged}
    return made or None


def _run(ctx: Any) -> dict[str, Any]:
    return {"made": load()}


def then_screen() -> dict[str, Any]:
    from tiplab_web.jobs.kernel import follow_up

    return follow_up(JOB_KIND, {}, label=str(gettext_lazy("Demo: screen texts")))


def register_jobs() -> None:
    from tiplab_web.jobs.kernel import JobKind, register

    register(JobKind(name=JOB_KIND, run=_run, label=gettext_lazy("Demo: screen texts"),
                     retry_safe=True, capability="screening.view"))
