"""Objects the reporting ladder rows and tests need (no tests here)."""

from __future__ import annotations

from typing import Any

from tiplab_web.reporting import services
from tiplab_web.reporting.attachments import Checked

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def make_report(what: str = "A report for the tests.", *, in_danger: bool = False,
                attachment: bool = False, reporter: str = "witness") -> tuple[Any, str]:
    att = Checked("image", "image/png", "photo.png", PNG) if attachment else None
    return services.submit(services.Submission(reporter=reporter, what=what,
                                               in_danger=in_danger, attachment=att))


def report_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {"pk": make_report()[0].pk}


def attachment_kwargs(world: Any, user: Any) -> dict[str, Any]:
    report, _code = make_report(attachment=True)
    return {"pk": report.attachments.get().pk}


def receipt_data(world: Any, user: Any) -> dict[str, Any]:
    return {"code": make_report()[1]}


REPORT_POST = {"reporter": "witness", "in_danger": "no", "what": "Seen at the market."}
