"""Objects the evidence ladder rows and tests need (no tests here)."""

from __future__ import annotations

import datetime as dt
from typing import Any

#: a short note with a phone number and a document number (masked by redaction) and cue
#: phrases of the shipped codebook
TEXT = ("He took my passport on the first day and kept it in his office. "
        "We worked fourteen hours a day with no day off. "
        "Call my sister on +44 20 7946 0958 if you need to reach me. "
        "I was paid nothing for three months because he said I owed him for the travel.")
PHONE = "+44 20 7946 0958"


def make_note(user: Any, text: str = TEXT, **meta: Any) -> Any:
    """A note of ``user``'s organisation (consent to analysis unless told otherwise)."""
    from tiplab_web.evidence import services

    fields: dict[str, Any] = {"title": "Ladder note", "source_type": "survivor",
                              "interview_date": dt.date(2023, 5, 1),
                              "consent_analysis": True, "consent_quote": False}
    fields.update(meta)
    return services.create_note(user, text, services.NoteInput(**fields))


def first_code(user: Any) -> str:
    from tiplab_web.evidence import services

    return services.codebook(user).keys()[0]


def make_coding(user: Any, note: Any = None, code: str = "", start: int = 0, end: int = 20
                ) -> Any:
    from tiplab_web.evidence import services

    note = note or make_note(user)
    return services.add_coding(user, note, start, end, code or first_code(user))


def make_suggestion(user: Any, note: Any = None, code: str = "", start: int = 0,
                    end: int = 20, confidence: float = 0.7) -> Any:
    from tiplab_web.evidence.models import Suggestion

    note = note or make_note(user)
    return Suggestion.objects.create(note=note, start=start, end=end,
                                     code=code or first_code(user), confidence=confidence,
                                     method="keywords")


def make_quotation(user: Any) -> Any:
    from tiplab_web.evidence import services

    note = make_note(user, consent_quote=True)
    return services.quote(user, note, 0, 40)


def note_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {"pk": make_note(user).pk}


def coding_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {"pk": make_coding(user).pk}


def suggestion_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {"pk": make_suggestion(user).pk, "action": "reject"}


def quotation_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {"identifier": make_quotation(user).identifier}


def coding_data(world: Any, user: Any) -> dict[str, Any]:
    return {"start": 0, "end": 20, "code": first_code(user), "comment": ""}
