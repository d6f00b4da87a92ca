"""The demo's interview notes: twelve invented notes (survivors, NGOs, a community
organisation, a labour inspector, a prosecutor; one in French to show that assisted coding is
off for it), some coded by demo-analyst and, on three of them, by demo-steward as a second
coder (stewards may read full text; the demo has no second analyst) so the agreement page has
κ to show; consent mixed; then the model's suggestions, computed by a job.

Every person, place and number below is invented. ``{region}`` is replaced by the name of a
region of the demo country, which redaction masks as a place.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext_lazy

JOB_KIND = "evidence.demo"
TAG = "[demo] "

#: title, source type, date, form, consent (analysis, quote), text,
#: codings: (phrase, code key, coder: "a" analyst | "s" steward)
NOTES: list[dict[str, Any]] = [
    {"title": "Survivor, agricultural work", "source": "survivor", "date": "2023-04-12",
     "form": "ForcedLabour", "consent": (True, True), "blind": True,
     "text": (
         "I met a man called Tomas Varga at the bus station in {region}. He told me I would "
         "work in a hotel kitchen and earn 900 euros a month. When we arrived it was a farm, "
         "not a hotel. He took my passport on the first day and said he would keep it safe. "
         "We worked fourteen hours a day, seven days a week, picking strawberries. I was paid "
         "nothing for three months because he said I owed him for the travel and the room. "
         "We slept twenty people in one container and there was no water to wash. If I "
         "complained he said he would call immigration and I would go to prison. I did not "
         "go to the police because I thought they would arrest me."),
     "codings": [("He told me I would work in a hotel kitchen", "FL02", "a"),
                 ("He told me I would work in a hotel kitchen", "FL02", "s"),
                 ("He took my passport on the first day", "FL07", "a"),
                 ("He took my passport on the first day", "FL07", "s"),
                 ("We worked fourteen hours a day", "FL11", "a"),
                 ("We worked fourteen hours a day", "FL11", "s"),
                 ("I was paid nothing for three months", "FL08", "a"),
                 ("I owed him for the travel", "FL09", "a"),
                 ("I owed him for the travel", "FL09", "s"),
                 ("We slept twenty people in one container", "FL10", "a"),
                 ("he would call immigration", "FL06", "a"),
                 ("he would call immigration", "FL06", "s"),
                 ("I was paid nothing for three months", "FL09", "s")]},
    {"title": "Survivor, domestic work", "source": "survivor", "date": "2022-09-03",
     "form": "Servitude", "consent": (True, True), "blind": True,
     "text": (
         "My aunt found the job for me through a friend of the family in {region}. I was "
         "promised I could study in the evenings. The family locked the door when they went "
         "out and I was not allowed to use the phone. I looked after three children and "
         "cleaned the house from six in the morning until midnight. The lady shouted at me "
         "and sometimes hit me when the food was cold. They kept my identity card in a "
         "drawer. After two years a neighbour called a hotline and an NGO came."),
     "codings": [("I was promised I could study in the evenings", "FL02", "a"),
                 ("I was promised I could study in the evenings", "FL02", "s"),
                 ("The family locked the door when they went out", "FL03", "a"),
                 ("The family locked the door when they went out", "FL03", "s"),
                 ("I was not allowed to use the phone", "FL04", "a"),
                 ("from six in the morning until midnight", "FL11", "a"),
                 ("from six in the morning until midnight", "FL11", "s"),
                 ("sometimes hit me when the food was cold", "FL05", "a"),
                 ("sometimes hit me when the food was cold", "FL05", "s"),
                 ("They kept my identity card in a drawer", "FL07", "a"),
                 ("They kept my identity card in a drawer", "FL07", "s"),
                 ("I was not allowed to use the phone", "FL03", "s")]},
    {"title": "Shelter NGO, case worker", "source": "ngo", "date": "2023-11-20",
     "form": "SexualExploitation", "consent": (True, True), "blind": True,
     "text": (
         "Most of the young women we receive were recruited online, through offers of "
         "modelling or waitressing work abroad. Several describe a boyfriend who paid for the "
         "ticket and then said they owed him ten thousand euros. They were watched all the "
         "time and moved between flats every few weeks. Many do not report to the police "
         "because they are afraid of being deported. We have no interpreter for two of the "
         "languages they speak, and the shelter has only six beds for the whole of {region}."),
     "codings": [("recruited online, through offers of modelling", "FL02", "a"),
                 ("recruited online, through offers of modelling", "FL02", "s"),
                 ("said they owed him ten thousand euros", "FL09", "a"),
                 ("said they owed him ten thousand euros", "FL09", "s"),
                 ("They were watched all the time", "FL03", "a"),
                 ("They were watched all the time", "FL04", "s"),
                 ("afraid of being deported", "FL06", "a")]},
    {"title": "Labour inspector, construction sites", "source": "law_enforcement",
     "date": "2024-02-14", "form": "ForcedLabour", "consent": (True, False),
     "text": (
         "On the building site near {region} we found eleven workers living in the basement "
         "of the unfinished block. None had a contract and all were paid in cash, well below "
         "the minimum wage. The foreman, a Mr Dascu, held their passports 'for the payroll'. "
         "Two men had injuries from a fall and had not seen a doctor. The workers said the "
         "agency deducted a recruitment fee of two months' wages."),
     "codings": [("living in the basement of the unfinished block", "FL10", "a"),
                 ("held their passports", "FL07", "a"),
                 ("a recruitment fee of two months' wages", "FL09", "a")]},
    {"title": "Prosecutor, trial of a recruitment ring", "source": "judiciary",
     "date": "2024-06-02", "form": "ForcedLabour", "consent": (True, False),
     "text": (
         "The victims were recruited in their villages with promises of factory jobs. The "
         "defendants charged each of them a debt for travel and documents that grew every "
         "month. Witnesses were threatened before the trial, and two withdrew their "
         "statements. The case took four years to reach court; in that time most victims had "
         "left the country and could not testify."),
     "codings": [("promises of factory jobs", "FL02", "a"),
                 ("a debt for travel and documents that grew every month", "FL09", "a"),
                 ("Witnesses were threatened before the trial", "FL06", "a")]},
    {"title": "Community organisation, seasonal workers", "source": "community",
     "date": "2022-07-18", "form": "ForcedLabour", "consent": (True, True),
     "text": (
         "Seasonal workers come to our centre in {region} on Sundays, their only free "
         "afternoon. They tell us the employer keeps their wages until the end of the season. "
         "Some sleep in the greenhouses. Nobody told them about their rights and they do not "
         "speak the language, so they depend on the team leader for everything."),
     "codings": [("the employer keeps their wages until the end of the season", "FL08", "a"),
                 ("Some sleep in the greenhouses", "FL10", "a")]},
    {"title": "Survivor, car wash", "source": "survivor", "date": "2021-10-05",
     "form": "ForcedLabour", "consent": (True, False),
     "text": (
         "I worked at a car wash in {region} for a year. The boss said I had to pay back the "
         "money for the visa, and every month the debt was bigger. We could not leave the "
         "yard without one of his men. My phone number was +99 555 0134 but he took the "
         "phone.")},
    {"title": "NGO outreach, nail bars", "source": "ngo", "date": "2023-03-09",
     "form": "ForcedLabour", "consent": (True, True),
     "text": (
         "Our outreach team visited nail bars in {region}. Workers were young, some looked "
         "under eighteen, and answered that they lived above the shop. One said the manager "
         "kept everyone's documents. They worked twelve hours a day with no day off.")},
    {"title": "Police, raid debrief", "source": "law_enforcement", "date": "2024-08-21",
     "form": "SexualExploitation", "consent": (True, False),
     "text": (
         "During the raid we found four women in a flat on Harbour Street 14. They had been "
         "told they would work as dancers. Their passports, numbers P4471902 and P5510233, "
         "were in the suspect's car. They were afraid of the suspect and said he knew where "
         "their families lived.")},
    {"title": "Survivor, begging", "source": "survivor", "date": "2022-01-27",
     "form": "ForcedBegging", "consent": (False, False),
     "text": (
         "They brought me to the city to sell flowers at the traffic lights. I had to give all "
         "the money to the woman every evening or I got no food.")},
    {"title": "Travailleuse sociale, foyer d'accueil", "source": "ngo", "date": "2023-05-30",
     "form": "SexualExploitation", "consent": (True, True),
     "text": (
         "Les jeunes femmes que nous accueillons ont souvent été recrutées sur les réseaux "
         "sociaux avec des promesses de travail dans la restauration. Elles arrivent sans "
         "papiers, car le passeur les a gardés, et elles doivent une dette qui ne cesse "
         "d'augmenter. La plupart ont peur de porter plainte.")},
    {"title": "Labour inspector, fishing boats", "source": "law_enforcement",
     "date": "2024-10-11", "form": "ForcedLabour", "consent": (True, False),
     "text": (
         "Crew members on two boats had been at sea for eight months without coming ashore. "
         "Their contracts had been replaced by second contracts with lower pay. The captain "
         "threatened to throw one man overboard when he asked for his wages.")},
]


def _span(text: str, phrase: str) -> tuple[int, int] | None:
    i = text.find(phrase)
    return None if i < 0 else (i, i + len(phrase))


def load() -> dict[str, Any] | None:
    """Store the demo notes and codes (once); returns what was made, or None."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from tiplab_web.core.access import organisation_of

    from .models import Note

    users = get_user_model().objects
    analyst = users.filter(username="demo-analyst").first()
    steward = users.filter(username="demo-steward").first()
    if analyst is None or steward is None:
        return None
    org = organisation_of(analyst)
    if Note.objects.filter(organisation=org, title__startswith=TAG).exists():
        return None
    with transaction.atomic():
        made, codings, quotes = _store(analyst, steward)
    from . import jobs

    job = jobs.submit_suggest(analyst, [n.pk for n in made if n.consent_analysis])
    return {"notes": len(made), "codings": codings, "quotations": quotes,
            "suggest_job": str(job.pk)}


def _store(analyst: Any, steward: Any) -> tuple[list[Any], int, int]:
    from . import services
    from .models import Coding

    regions = sorted(services.regions().items(), key=lambda kv: kv[0])
    keys = set(services.codebook(analyst).keys())
    made: list[Any] = []
    codings = 0
    for i, spec in enumerate(NOTES):
        code, name = regions[i % len(regions)] if regions else ("", "the north")
        text = spec["text"].format(region=name)
        analysis, quote = spec["consent"]
        note = services.create_note(analyst, text, services.NoteInput(
            title=TAG + spec["title"], source_type=spec["source"],
            interview_date=dt.date.fromisoformat(spec["date"]), region=code,
            language=spec.get("language", ""), exploitation_form=spec["form"],
            consent_analysis=analysis, consent_quote=quote, blind=bool(spec.get("blind"))))
        made.append(note)
        coders = set()
        for phrase, key, who in spec.get("codings", []):
            span = _span(text, phrase)
            if span is None or key not in keys or not analysis:
                continue
            user = analyst if who == "a" else steward
            if not Coding.objects.filter(note=note, start=span[0], end=span[1], code=key,
                                         coder=user).exists():
                services.add_coding(user, note, span[0], span[1], key)
                codings += 1
                coders.add(user)
        for user in sorted(coders, key=lambda u: u.pk):
            services.finish(user, note)
    quotes = 0
    for note in made:
        if note.consent_quote and note.language_supported and note.codings.exists():
            first = note.codings.order_by("start").first()
            if first is not None:
                us = [u for u in services.units(services.full_text(note))
                      if services.overlapping(u, first.start, first.end)]
                services.quote(analyst, note, us[0].start, us[-1].end)
                quotes += 1
    return made, codings, quotes


def _run(ctx: Any) -> dict[str, Any]:
    return {"made": load()}


def then_notes() -> dict[str, Any]:
    from tiplab_web.jobs.kernel import follow_up

    return follow_up(JOB_KIND, {}, label=str(gettext_lazy("Demo: interview notes")))


def register_jobs() -> None:
    from tiplab_web.jobs.kernel import JobKind, register

    register(JobKind(name=JOB_KIND, run=_run, label=gettext_lazy("Demo: interview notes"),
                     retry_safe=True, capability="evidence.view"))
