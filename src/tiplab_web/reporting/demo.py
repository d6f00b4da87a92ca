"""Two anonymous reports for the demo, sent through the same service as the public form: one
where someone is in danger now, one with information added later and a reply from the staff.
Their receipt codes are fixed (and printed in docs/reporting.md) so a demo visitor can open
the reporter's side at ``/report/receipt/``; a real report's code is never fixed."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from . import services

URGENT_CODE = "DEM01-RGENT-0000A-00001"
FOLLOWUP_CODE = "DEM02-ANSWR-0000B-00002"


def _steward() -> Any:
    return get_user_model().objects.filter(username="demo-steward").first()


def load(user: Any = None) -> int:
    """Submit the demo reports unless they exist; returns how many were created."""
    created = 0
    if services.find(URGENT_CODE) is None:
        services.submit(services.Submission(
            reporter="witness", in_danger=True,
            what="Three young women are kept in the flat above the bakery on Harbour Street. "
                 "A man takes them out at night in a van and brings them back in the morning. "
                 "One of them asked me for help yesterday; she said they owe money for the "
                 "journey and cannot leave.",
            where="Port town, harbour district", when="Since last month"),
            code=URGENT_CODE)
        created += 1
    if services.find(FOLLOWUP_CODE) is None:
        report, _code = services.submit(services.Submission(
            reporter="victim",
            what="I work on a farm picking fruit. The employer keeps our passports and takes "
                 "most of our pay for the bed and food. We work from six in the morning until "
                 "dark, seven days.",
            where="Southern region", when="2025",
            contact="Only by message, after 8 pm."), code=FOLLOWUP_CODE)
        services.add_followup(report, "There are about twenty of us. Some are from my village. "
                                      "The season ends in October and they say we must stay.")
        services.reply(user or _steward(), report,
                       "Thank you for telling us. A labour inspector and a support "
                       "organisation can help without putting you at risk. If you want, write "
                       "here a safe time and way to reach you.")
        created += 1
    return created
