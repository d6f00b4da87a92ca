"""Simulated online job advertisements with known indicators, for the demo and the tests.

Recruitment ads that lure people into exploitation tend to combine a few tell-tale offers —
no experience or language needed, pay far above the going rate, travel and visa paid, the
passport "handled by the agency", fees repaid from wages, urgency, secrecy — while ordinary
job ads state requirements, a contract and a lawful wage. :func:`generate` writes both from
fragments, seeded, and records which lures each ad carries (its truth): an ad is
``deceptive`` when it carries at least two lures. Some ordinary ads mention travel or
accommodation in lawful terms, so that a keyword alone does not separate the two.

The texts are invented; phone numbers use the reserved fictional range (555-01xx) and the
e-mail domains ``example.org``.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass

CITIES = ("Milan", "Dubai", "Warsaw", "Lyon", "Antalya", "Munich", "Doha", "Valencia",
          "Limassol", "Rotterdam", "Vienna", "Athens")
JOBS_LURE = ("hostess work", "waitress jobs in a night club", "strawberry picking",
             "cleaning in hotels", "work in a meat factory", "babysitting for a rich family",
             "construction work", "massage salon staff", "dancers for a private club",
             "greenhouse work", "car wash staff", "elderly care at home")
#: lure kind -> fragments (a kind maps to the ILO indicator it hints at, see LURE_INDICATORS)
LURES: dict[str, tuple[str, ...]] = {
    "no_experience": ("No experience needed!", "No language or diploma required.",
                      "Anyone can do it, no qualifications asked."),
    "high_pay": ("Earn {pay} EUR a week, cash.", "Salary {pay} EUR per week, paid in cash!",
                 "Easy money: up to {pay} EUR weekly."),
    "travel_paid": ("Travel and visa paid by us.", "Flight tickets and visa are free, we pay "
                    "everything.", "We arrange your trip, you pay nothing now."),
    "documents": ("Your passport is handled by our agency.", "The agency keeps your documents "
                  "safe during the contract.", "Give us your passport, we do all the papers."),
    "debt": ("Agency fee repaid later from your wages.", "Costs of travel deducted from the "
             "first salaries.", "Small fee of {fee} EUR, to be paid back from your work."),
    "urgency": ("Leave this week! Only {n} places left.", "URGENT, departure in 3 days.",
                "Decide today, the bus leaves on Monday."),
    "secrecy": ("Message only on WhatsApp, no calls.", "Don't tell your family before you "
                "arrive, it is a surprise job.", "Write only on Telegram, discretion assured."),
    "young_women": ("Girls 18-25 wanted.", "Only young, pretty women.",
                    "Looking for slim girls under 25."),
}
#: what each lure hints at, in the words of the ILO indicators of forced labour
LURE_INDICATORS = {
    "no_experience": "deception", "high_pay": "deception", "travel_paid": "deception",
    "documents": "retention of identity documents", "debt": "debt bondage",
    "urgency": "deception", "secrecy": "isolation", "young_women": "abuse of vulnerability",
}
ORDINARY = (
    "{job} ({sex}) in {city}. Requirements: {req}. Salary according to the collective "
    "agreement, {hours}-hour week, written contract. Send your CV to jobs@{firm}.example.org "
    "by {day} {month}.",
    "We are hiring a {job} for our team in {city}. {req_cap}. Permanent contract after a "
    "six-month trial period, paid holidays and training. Apply online at {firm}.example.org.",
    "{job} wanted, {city}, part-time ({hours} hours a week). {req_cap}. Pay {wage} EUR gross "
    "per hour, registered employer. Call +00 555 01{nn} during office hours.",
    "Seasonal {job} in {city}, June to September. Contract under national labour law, wage "
    "{wage} EUR per hour. Accommodation available at {rent} EUR a week if you want it; your "
    "documents stay with you. Licensed agency, registration {reg}.",
    "Relocation offered: {job} in {city}. {req_cap}. Travel costs reimbursed after arrival "
    "against receipts, help with the work permit through the official procedure. Interviews "
    "by video call.",
)
ORDINARY_JOBS = ("Accountant", "Nurse", "Electrician", "Bus driver", "Software tester",
                 "Warehouse operative", "Receptionist", "Chef", "Kindergarten teacher",
                 "Fruit picker", "Plumber", "Sales assistant")
REQUIREMENTS = ("a degree in the field and three years of experience",
                "a valid driving licence and good references",
                "a vocational certificate and two years of experience",
                "fluent English and basic computer skills",
                "a health certificate and willingness to work shifts")
MONTHS = ("March", "April", "May", "June", "September", "October")


@dataclass(frozen=True)
class Advert:
    id: str
    text: str
    lures: tuple[str, ...]

    @property
    def deceptive(self) -> bool:
        return len(self.lures) >= 2

    @property
    def indicators(self) -> tuple[str, ...]:
        return tuple(sorted({LURE_INDICATORS[k] for k in self.lures}))


def _lure_ad(rng: random.Random, n: int) -> Advert:
    kinds = rng.sample(sorted(LURES), rng.randint(2, 5))
    lures = [rng.choice(LURES[k]).format(pay=rng.choice((800, 1000, 1200, 1500)),
                                         fee=rng.choice((300, 500, 900)),
                                         n=rng.randint(2, 6)) for k in kinds]
    parts = [f"{rng.choice(JOBS_LURE).capitalize()} in {rng.choice(CITIES)}.", *lures]
    parts.append(f"Contact +00 555 01{rng.randint(0, 99):02d}.")
    return Advert(id=f"ad-{n:04d}", text=" ".join(parts), lures=tuple(sorted(kinds)))


def _ordinary_ad(rng: random.Random, n: int) -> Advert:
    req = rng.choice(REQUIREMENTS)
    text = rng.choice(ORDINARY).format(
        job=rng.choice(ORDINARY_JOBS), sex=rng.choice(("m/f", "f/m/d", "all genders")),
        city=rng.choice(CITIES), req=req, req_cap=f"We ask for {req}",
        hours=rng.choice((20, 30, 38, 40)), firm=rng.choice(("acme", "northwind", "globex")),
        day=rng.randint(1, 28), month=rng.choice(MONTHS), wage=rng.choice((12, 14, 16, 19)),
        nn=f"{rng.randint(0, 99):02d}", rent=rng.choice((40, 50, 60)),
        reg=f"AG-{rng.randint(1000, 9999)}")
    return Advert(id=f"ad-{n:04d}", text=text, lures=())


def generate(n: int = 200, *, share_deceptive: float = 0.4, seed: int = 21) -> list[Advert]:
    """``n`` adverts, about ``share_deceptive`` of them deceptive, in a seeded order."""
    rng = random.Random(seed)
    k = round(n * share_deceptive)
    kinds = [True] * k + [False] * (n - k)
    rng.shuffle(kinds)
    return [_lure_ad(rng, i) if lure else _ordinary_ad(rng, i)
            for i, lure in enumerate(kinds, start=1)]


def to_csv(ads: list[Advert]) -> bytes:
    """The adverts as the CSV an analyst uploads (columns ``id``, ``text``)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(("id", "text"))
    for a in ads:
        w.writerow((a.id, a.text))
    return buf.getvalue().encode("utf-8")
