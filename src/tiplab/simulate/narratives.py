"""Short case narratives with known indicators, as agencies write them in free-text fields.

Police, NGO, hotline and labour-inspectorate records often carry a few lines of notes. The
simulator writes such a note for a share of those records (``narratives.csv``) and the
codes each note expresses (``truth/narratives.csv``), so that screening can be measured
against a known truth.

A narrative has one to four sentences built from the person's attributes in the hidden
population: the form of exploitation and labour sector (a context sentence, no indicator),
the recruiter relation (a recruitment theme, ``RE.*``) and up to three of the means of
control (each rendered as an ILO forced-labour indicator, ``FL01``-``FL11``). Every kind of
sentence has several paraphrases; a few narratives are written in lower case or carry a
typo. The truth of a narrative is the union of the codes of its sentences; filler sentences
("Referred by the outreach team.") express none. A narrative never holds the person's name,
phone or document number: no template has a slot for them.

The paraphrases of each sentence kind are split in two disjoint halves (``variant="a"``:
even positions, ``"b"``: odd positions); the simulator uses all of them (``"all"``). The
evaluation set in ``tests/results/qualitative`` trains on one half and tests on the other, so
a classifier cannot score well by memorising templates.

Draws come from the random stream ``narratives`` (:func:`tiplab.simulate.rng.stream`), so
adding narratives changes no other output of a run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from tiplab.simulate.defaults import MEANS_BY_FORM, OTHER_FORMS, RECRUITER_BY_FORM, SECTOR_BY_FORM
from tiplab.simulate.population import Population
from tiplab.simulate.render import Rendered
from tiplab.simulate.rng import stream
from tiplab.simulate.writers import write_table_csv

__all__ = [
    "AGENCIES",
    "MEANS_CODES",
    "SHARE",
    "Narrative",
    "Person",
    "narrate",
    "sample_people",
    "write_narratives",
]

#: agencies whose records carry free-text notes
AGENCIES: tuple[str, ...] = ("police", "labour_inspectorate", "ngo_shelters", "hotline")
#: share of those agencies' records that get a narrative
SHARE = 0.4
VARIANTS = ("all", "a", "b")

#: the ILO forced-labour indicator each means of control is written as; RestrictsMovement
#: is written either as restriction of movement (FL03) or as isolation (FL04)
MEANS_CODES: dict[str, tuple[str, ...]] = {
    "PhysicalThreats": ("FL06",),
    "ThreatsLawEnforcement": ("FL06",),
    "ThreatensChildrenFamily": ("FL06",),
    "DebtBondage": ("FL09",),
    "FalsePromises": ("FL02",),
    "PhysicalAbuse": ("FL05",),
    "SexualAbuse": ("FL05",),
    "TakesEarnings": ("FL08",),
    "RestrictsFinancialAccess": ("FL08",),
    "RestrictsMedicalCare": ("FL10",),
    "WithholdsNecessities": ("FL10",),
    "PsychologicalAbuse": ("FL06",),
    "PsychoactiveSubstance": ("FL05",),
    "ExcessiveWorkingHours": ("FL11",),
    "WithholdsDocuments": ("FL07",),
    "RestrictsMovement": ("FL03", "FL04"),
}

# Slots: {S} subject, {s} subject mid-sentence, {P}/{p} possessive, {O} object,
# {boss} the person in control, {work} the work. Templates are sentences.
_INDICATOR: dict[str, tuple[str, ...]] = {
    "FL02": (
        "{S} was promised a job in {promised} but ended up {work}.",
        "{S} was told the work would be in {promised}; it turned out to be something else.",
        "The recruiter talked about good money and a proper contract, none of which was real.",
        "{S} says the pay and the conditions were nothing like what had been agreed at home.",
        "Nothing about the job matched what {s} had been offered before leaving.",
        "The contract {s} signed at home was swapped for a different one on arrival.",
        "{S} believed {s} was going to a legal job with papers.",
        "The offer of {promised} was a lie.",
    ),
    "FL11": (
        "{S} worked from early morning until late at night, seven days a week.",
        "There were no days off and shifts often lasted sixteen hours.",
        "{S} reports working around fourteen hours a day without a proper break.",
        "{S} was made to keep going through the night whenever there were orders.",
        "Refusing extra hours was not an option.",
        "In the whole time {s} was there {s} never had a day of rest.",
    ),
    "FL08": (
        "{S} was never paid for the work.",
        "The {boss} kept all of {p} wages, saying they covered food and rent.",
        "Wages were promised for the end of the season but never came.",
        "{S} only got small amounts of pocket money and the rest was kept back.",
        "All the money {s} earned went straight to the {boss}.",
        "{S} had to hand over every payment {s} received.",
    ),
    "FL07": (
        "{P} passport was taken on arrival, supposedly for safekeeping.",
        "The {boss} kept {p} identity card and never gave it back.",
        "{S} did not have {p} documents because the {boss} held them.",
        "{P} ID papers were locked away by the recruiter.",
        "When {s} asked for {p} passport {s} was told that was not possible.",
        "The {boss} collected everyone's passports on the first day.",
    ),
    "FL09": (
        "{S} was told {s} owed money for the journey and had to work it off.",
        "The debt for travel and housing kept growing every month.",
        "Fines and charges were added to what {s} owed, so it could never be repaid.",
        "{S} had to pay back a large recruitment fee out of {p} earnings.",
        "{S} could not leave until the debt was cleared.",
        "Every week more was deducted for what {s} supposedly owed.",
    ),
    "FL03": (
        "{S} was locked in the house when not working.",
        "{S} was not allowed to go out alone.",
        "Someone always went with {O} whenever {s} left the building.",
        "The doors were locked at night and the windows had bars.",
        "{S} was driven between the accommodation and the workplace and could not leave.",
        "A guard watched the gate day and night.",
    ),
    "FL04": (
        "{P} phone was taken away.",
        "{S} had no contact with {p} family for months.",
        "The place was far from any town and {s} did not know where {s} was.",
        "{S} was not allowed to speak to neighbours or other workers.",
        "{S} was kept away from anyone who spoke {p} language.",
        "Calls home were forbidden.",
    ),
    "FL06": (
        "The {boss} threatened to hurt {O} if {s} tried to leave.",
        "{S} was told something bad would happen if {s} complained.",
        "{S} was warned that {s} would be beaten if {s} talked to anyone.",
        "There were constant threats.",
        "The {boss} said the police would arrest and deport {O} if {s} went to them.",
        "They said they knew where {p} family lived and would harm them.",
        "{S} was shouted at, humiliated and insulted every day.",
        "The {boss} said nobody would ever believe {O}.",
    ),
    "FL05": (
        "{S} was beaten when {s} refused.",
        "{S} was hit by the {boss} several times.",
        "{S} had bruises and said {s} had been kicked and slapped.",
        "{S} was sexually assaulted by the {boss}.",
        "{S} was given drugs to keep {O} working.",
        "{S} was assaulted on a regular basis.",
    ),
    "FL10": (
        "There was not enough food and {s} slept on the floor.",
        "{S} shared one room with ten others, with no heating and a single toilet.",
        "Food and water were rationed.",
        "The accommodation was a shed with no running water.",
        "{S} was injured at work but was not taken to a doctor.",
        "{S} worked with chemicals and had no protective equipment.",
    ),
}
# which paraphrases of FL06/FL05/FL10/FL08 fit which means of control (indices above)
_MEANS_PARAPHRASES: dict[str, tuple[int, ...]] = {
    "PhysicalThreats": (0, 1, 2, 3),
    "ThreatsLawEnforcement": (4,),
    "ThreatensChildrenFamily": (5,),
    "PsychologicalAbuse": (6, 7),
    "PhysicalAbuse": (0, 1, 2, 5),
    "SexualAbuse": (3,),
    "PsychoactiveSubstance": (4,),
    "WithholdsNecessities": (0, 1, 2, 3),
    "RestrictsMedicalCare": (4,),
    "RestrictsFinancialAccess": (0, 1, 2, 3, 4, 5),
}
_RECRUIT: dict[str, tuple[str, ...]] = {
    "RE.LOVERBOY": (
        "{S} was recruited by a boyfriend who promised a life together.",
        "{P} partner at the time arranged the trip.",
        "The man {s} was seeing brought {O} here.",
        "{S} came with a partner who said they would marry.",
    ),
    "RE.FRIEND": (
        "A cousin arranged the job.",
        "A friend from {p} home town told {O} about the work.",
        "An aunt introduced {O} to the recruiter.",
        "A neighbour put {O} in touch with the employer.",
        "{P} uncle organised the journey.",
        "Someone {s} knew from school made the contact.",
    ),
    "RE.ONLINE": (
        "{S} answered an advert on social media.",
        "{S} found the offer in a job group online.",
        "The job was posted on a website {s} used to look for work.",
        "{S} replied to a message in an online group.",
    ),
    "RE.AGENCY": (
        "{S} found the job through an agency in {p} home country.",
        "A recruitment agency handled everything.",
        "{S} went to a travel agency that also offered jobs.",
        "The agent from the employment office arranged it.",
    ),
}
_WORK: dict[str, tuple[str, ...]] = {
    "A_AgricultureForestryAndFishing": ("picking fruit on a farm", "working in greenhouses",
                                        "cutting vegetables in the fields"),
    "F_Construction": ("carrying materials on building sites", "working on a construction site",
                       "doing demolition work"),
    "C_Manufacturing": ("sewing in a clothing workshop", "packing meat in a factory",
                        "working on a production line"),
    "I_AccommodationAndFoodServiceActivities": ("washing dishes in a restaurant",
                                                "cleaning hotel rooms", "cooking in a takeaway"),
    "T_ActivitiesOfHouseholdsAsEmployers": ("cleaning and cooking for a family",
                                            "looking after children in a private house",
                                            "caring for an old man at home"),
    "G_WholesaleAndRetailTradeRepairOfMotorVehicles": ("washing cars", "working in a shop",
                                                       "sorting goods in a warehouse"),
    "H_TransportationAndStorage": ("loading lorries", "unloading containers at the port",
                                   "working as a driver's helper"),
    "S_OtherServiceActivities": ("working in a nail bar", "cleaning offices at night",
                                 "working in a massage parlour"),
    "SexualExploitation": ("selling sex in a flat", "seeing clients in a hotel",
                           "working in a club"),
    "ForcedBegging": ("begging in the street", "begging at traffic lights",
                      "selling flowers in bars"),
    "ForcedCriminality": ("growing cannabis in a house", "selling drugs",
                          "shoplifting for a gang"),
    "ForcedMarriage": ("living with a husband {s} had not chosen",
                       "keeping house for a man {s} was married to against {p} will",
                       "working for {p} husband's family"),
    "Servitude": ("cleaning and cooking for a family", "doing all the housework for a family",
                  "looking after a household day and night"),
    "Other": ("doing odd jobs", "working for a man {s} met", "doing whatever was asked"),
}
_PROMISED = ("a hotel", "a restaurant", "a shop", "a factory", "childcare", "cleaning",
             "a bakery", "a care home")
_CONTEXT: tuple[str, ...] = (
    "{S} was found {work}.",
    "{S} had been {work} for several months.",
    "According to {O}, {s} was mostly {work}.",
    "{S} spent most of the time {work}.",
    "At the time of contact {s} was {work}.",
    "{S} described {work} for long periods.",
)
_FILLER: tuple[str, ...] = (
    "Referred by the outreach team.",
    "Interview held at the office.",
    "Follow-up meeting planned.",
    "{S} agreed to a second interview.",
    "Case opened after a call.",
    "{S} gave a calm and consistent account.",
    "Further checks requested.",
    "Notes taken by the duty officer.",
)
_BOSS = {"SexualExploitation": ("pimp", "man in charge", "trafficker"),
         "_other": ("employer", "boss", "supervisor", "man in charge")}


@dataclass(frozen=True)
class Person:
    """The attributes a narrative is written from (no identifier)."""

    form: str
    sector: str | None
    means: tuple[str, ...]
    recruiter: str
    sex: str
    minor: bool


@dataclass(frozen=True)
class Narrative:
    """A narrative, its sentences and the codes each sentence expresses."""

    text: str
    sentences: tuple[tuple[str, frozenset[str]], ...]

    @property
    def codes(self) -> frozenset[str]:
        out: set[str] = set()
        for _, c in self.sentences:
            out |= c
        return frozenset(out)


def _pool(items: Sequence[str], variant: str) -> list[str]:
    if variant == "all":
        return list(items)
    start = 0 if variant == "a" else 1
    return list(items[start::2]) or list(items)


def _words(person: Person) -> dict[str, str]:
    if person.sex == "Feminine":
        s, p, o = "she", "her", "her"
        noun = "the girl" if person.minor else "the woman"
    elif person.sex == "Masculine":
        s, p, o = "he", "his", "him"
        noun = "the boy" if person.minor else "the man"
    else:
        s, p, o = "they", "their", "them"
        noun = "the young person" if person.minor else "the person"
    return {"s": s, "p": p, "O": o, "noun": noun}


def _fill(template: str, slots: dict[str, str]) -> str:
    text = template.format(**slots)
    text = text.replace("they was", "they were").replace("They was", "They were")
    for a, b in (("they has", "they have"), ("They reports", "They report"),
                 ("They says", "They say"), ("They describes", "They describe")):
        text = text.replace(a, b)
    return text[0].upper() + text[1:]


def _typo(text: str, rng: np.random.Generator) -> str:
    words = text.split(" ")
    long = [i for i, w in enumerate(words) if len(w) >= 6 and w.isalpha()]
    if not long:
        return text
    i = long[int(rng.integers(len(long)))]
    w = words[i]
    k = int(rng.integers(1, len(w) - 2))
    words[i] = w[:k] + w[k + 1] + w[k] + w[k + 2:]
    return " ".join(words)


def narrate(person: Person, rng: np.random.Generator, *, variant: str = "all") -> Narrative:
    """Write one narrative for ``person``.

    Parameters
    ----------
    person : Person
        The attributes written about.
    rng : numpy.random.Generator
        Source of every choice (same state, same text).
    variant : {"all", "a", "b"}
        Which paraphrases to use: all, or one of two disjoint halves.

    Returns
    -------
    Narrative
        One to four sentences with the codes each expresses.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, not {variant!r}")

    def pick(items: Sequence[str]) -> str:
        pool = _pool(items, variant)
        return pool[int(rng.integers(len(pool)))]

    w = _words(person)
    subject = w["s"] if rng.random() < 0.6 else w["noun"]
    work_key = person.sector or person.form
    slots = {"s": w["s"], "p": w["p"], "O": w["O"], "P": w["p"], "S": subject,
             "boss": pick(_BOSS.get(person.form, _BOSS["_other"])),
             "promised": pick(_PROMISED)}
    slots["work"] = pick(_WORK.get(work_key, _WORK["Other"])).format(**slots)

    indicator: list[tuple[str, frozenset[str]]] = []
    means = list(person.means)
    order = rng.permutation(len(means)) if means else np.empty(0, dtype=np.int64)
    seen_codes: set[str] = set()
    for j in order:
        m = means[int(j)]
        codes = MEANS_CODES.get(m)
        if not codes:
            continue
        code = codes[int(rng.integers(len(codes)))]
        if code in seen_codes:
            continue
        options = _INDICATOR[code]
        allowed = _MEANS_PARAPHRASES.get(m)
        if allowed and code != "FL08":
            options = tuple(options[i] for i in allowed)
        indicator.append((_fill(pick(options), slots), frozenset({code})))
        seen_codes.add(code)
        if len(indicator) == 3:
            break
    recruit_code = {"IntimatePartner": "RE.LOVERBOY", "Familial": "RE.FRIEND",
                    "Acquainted": "RE.FRIEND"}.get(person.recruiter)
    if person.recruiter == "Unacquainted":
        recruit_code = "RE.ONLINE" if rng.random() < 0.5 else "RE.AGENCY"
    context = [(_fill(pick(_CONTEXT), slots), frozenset[str]())] if rng.random() < 0.7 else []
    recruit = ([(_fill(pick(_RECRUIT[recruit_code]), slots), frozenset({recruit_code}))]
               if recruit_code and rng.random() < 0.5 else [])
    filler = [(_fill(pick(_FILLER), slots), frozenset[str]())] if rng.random() < 0.25 else []
    # at most four sentences: the filler goes first, then the context, never an indicator
    if len(context) + len(recruit) + len(indicator) + len(filler) > 4:
        filler = []
    if len(context) + len(recruit) + len(indicator) > 4:
        context = []
    parts = context + recruit + indicator + filler
    if not parts:
        parts = [(_fill(pick(_CONTEXT), slots), frozenset())]
    sentences = [t for t, _ in parts]
    if rng.random() < 0.1:
        sentences = [t.lower() for t in sentences]
    if rng.random() < 0.1:
        k = int(rng.integers(len(sentences)))
        sentences[k] = _typo(sentences[k], rng)
    return Narrative(" ".join(sentences),
                     tuple((t, c) for t, (_, c) in zip(sentences, parts, strict=True)))


def _categorical(rng: np.random.Generator, weights: dict[str, float]) -> str:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def sample_people(n: int, rng: np.random.Generator) -> list[Person]:
    """``n`` people drawn from the simulator's assumptions (form, sector, means, recruiter)
    without running a simulation: for evaluation sets and tests."""
    forms = {"SexualExploitation": 0.4, "ForcedLabour": 0.4,
             **{k: 0.2 * v for k, v in OTHER_FORMS.items()}}
    means_levels = list(MEANS_CODES)
    out = []
    for _ in range(n):
        form = _categorical(rng, forms)
        sector = _categorical(rng, SECTOR_BY_FORM[form]) if form in SECTOR_BY_FORM else None
        mdist = MEANS_BY_FORM.get(form, MEANS_BY_FORM["_other"])
        means = tuple(m for m in means_levels if rng.random() < mdist.get(m, 0.02))
        recruiter = _categorical(rng, RECRUITER_BY_FORM.get(form, RECRUITER_BY_FORM["_other"]))
        sex = "Feminine" if rng.random() < 0.6 else "Masculine"
        out.append(Person(form, sector, means, recruiter, sex, bool(rng.random() < 0.2)))
    return out


def _person(pop: Population, i: int) -> Person:
    sector = int(pop.sector[i])
    means = tuple(lvl for lvl, on in zip(pop.means_levels, pop.means[i], strict=True) if on)
    return Person(form=pop.form_levels[int(pop.form[i])],
                  sector=pop.sector_levels[sector] if sector >= 0 else None, means=means,
                  recruiter=pop.recruiter_levels[int(pop.recruiter[i])],
                  sex=pop.sex_levels[int(pop.sex[i])], minor=bool(pop.minor[i]))


def write_narratives(
    pop: Population, rendered: Sequence[Rendered], out: Path, seed: int
) -> list[str]:
    """Write ``narratives.csv`` and ``truth/narratives.csv`` for a run.

    Parameters
    ----------
    pop : Population
        The hidden population.
    rendered : sequence of Rendered
        Each agency's export (its record ids and the victim behind each record).
    out : Path
        The run's output directory.
    seed : int
        The run's seed (draws come from the stream ``narratives``).

    Returns
    -------
    list of str
        The files written, relative to ``out``.
    """
    rng = stream(seed, "narratives")
    agencies, ids, texts, codes = [], [], [], []
    for r in rendered:
        if r.spec.agency not in AGENCIES:
            continue
        record_ids = r.record_id.to_pylist()
        count = Counter(record_ids)
        chosen = rng.random(len(record_ids)) < SHARE
        for k in np.flatnonzero(chosen):
            rid = record_ids[int(k)]
            if rid is None or rid == "" or count[rid] > 1:
                continue  # a defect row: the note could not be tied to one record
            nar = narrate(_person(pop, int(r.victim[int(k)])), rng)
            agencies.append(r.spec.agency)
            ids.append(str(rid))
            texts.append(nar.text)
            codes.append(";".join(sorted(nar.codes)))
    write_table_csv(pa.table({"source_agency": pa.array(agencies, pa.string()),
                              "record_id": pa.array(ids, pa.string()),
                              "text": pa.array(texts, pa.string())}), out / "narratives.csv")
    write_table_csv(pa.table({"source_agency": pa.array(agencies, pa.string()),
                              "record_id": pa.array(ids, pa.string()),
                              "codes": pa.array(codes, pa.string())}),
                    out / "truth" / "narratives.csv")
    return ["narratives.csv", "truth/narratives.csv"]
