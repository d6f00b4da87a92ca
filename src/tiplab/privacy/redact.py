"""Find and mask identifying details in short free texts (English, French, Spanish).

Survivors' anonymous answers and case notes reach staff only after names, phone numbers,
places and the like are masked: ``redact(text).text`` reads "Call [PHONE], ask for [NAME] in
[PLACE]." Detection is rule-based and offline, in three layers:

- **patterns** (compiled once): phone numbers, e-mails, URLs, social handles, IBAN and card
  numbers, document numbers, dates, street addresses and postcodes;
- **cues**: phrases that announce a name ("my name is", "je m'appelle", "se llama", "Mr",
  "Sra.") or a place ("town of", "cerca de"), a document ("passport", "DNI") or a handle
  ("insta:");
- **gazetteers**: given names and surnames (``tiplab.simulate.namelists`` plus the lists in
  ``gazetteers/``), countries and subdivisions (``pycountry``, in English, French and Spanish)
  and cities of 100,000 residents or more (GeoNames), looked up token by token in hash maps.

Recall comes first: a missed name can expose a survivor, an over-masked word costs little.
A gazetteer entry that is also an everyday word ("will", "may", "grace", "nice") is masked
only with more evidence: capitalised in mid-sentence, next to another name, or after a cue.
Overlapping findings merge into one span, labelled with the kind of the longest (the stronger
on a tie). docs/redaction.md describes the rules and their measured recall and precision.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

from tiplab.errors import TiplabError

if TYPE_CHECKING:
    import gettext

__all__ = ["KINDS", "MASKS", "Finding", "Redaction", "RedactionError", "find", "mask",
           "redact"]

KINDS = ("name", "phone", "email", "address", "place", "document", "date", "account", "url",
         "handle")
MASKS = {kind: f"[{kind.upper()}]" for kind in KINDS}
LANGUAGES = ("en", "fr", "es")

#: which kind wins when two findings of equal length overlap (earlier is stronger)
_PRIORITY = ("email", "url", "account", "document", "phone", "date", "address", "handle",
             "name", "place")
_SOURCE_PRIORITY = ("pattern", "gazetteer", "cue", "model")


class RedactionError(TiplabError):
    """A bad argument to :func:`find` or :func:`redact` (unknown kind or language)."""


@dataclass(frozen=True)
class Finding:
    """One identifying detail: its position in the original text, kind and evidence."""

    start: int
    end: int
    kind: str
    text: str
    source: str  # "pattern" | "gazetteer" | "cue" | "model"


@dataclass(frozen=True)
class Redaction:
    """The masked text and what was masked (positions in the original text)."""

    text: str
    findings: tuple[Finding, ...]

    def counts(self) -> dict[str, int]:
        """Number of findings per kind (kinds with none are left out)."""
        out: dict[str, int] = {}
        for f in self.findings:
            out[f.kind] = out.get(f.kind, 0) + 1
        return out


# --------------------------------------------------------------------------- public API


def find(text: str, *, names: Iterable[str] = (), places: Iterable[str] = (),
         kinds: Collection[str] | None = None, language: str | None = None) -> list[Finding]:
    """Identifying details in ``text``, merged, in order of position.

    Parameters
    ----------
    text : str
        A short free text (an answer, a case note); any length works, in linear time.
    names, places : iterable of str
        Extra gazetteer entries (e.g. the country's region names, a case's known names); they
        match whatever their case, even when they are everyday words.
    kinds : collection of str, optional
        Only these kinds (from :data:`KINDS`); default all.
    language : {"en", "fr", "es"}, optional
        The text's language, when known: only that language's everyday words then count as
        ambiguous (e.g. "rosa" is a name in English but a colour in Spanish). Cue phrases of
        all three languages are always used, since notes mix them.
    """
    wanted = _check_kinds(kinds)
    common = _common_words(_check_language(language))
    extra = _extra_entries(names, places)
    masks = [(m.start(), m.end()) for m in _MASK_RE.finditer(text)]
    found = [f for f in _detect(text, common, extra)
             if f.kind in wanted and not any(s < f.end and f.start < e for s, e in masks)]
    return _merge(text, found)


def redact(text: str, *, names: Iterable[str] = (), places: Iterable[str] = (),
           kinds: Collection[str] | None = None, language: str | None = None) -> Redaction:
    """``text`` with each finding of :func:`find` replaced by its mask (``[NAME]``, ...)."""
    return mask(text, find(text, names=names, places=places, kinds=kinds, language=language))


def mask(text: str, findings: Iterable[Finding]) -> Redaction:
    """``text`` with each of ``findings`` (merged, in order of position, as :func:`find`
    returns them) replaced by its mask."""
    findings = tuple(findings)
    parts: list[str] = []
    pos = 0
    for f in findings:
        parts.append(text[pos:f.start])
        parts.append(MASKS[f.kind])
        pos = f.end
    parts.append(text[pos:])
    return Redaction(text="".join(parts), findings=findings)


# --------------------------------------------------------------------------- arguments


def _check_kinds(kinds: Collection[str] | None) -> frozenset[str]:
    if kinds is None:
        return frozenset(KINDS)
    if isinstance(kinds, str):
        kinds = [kinds]
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise RedactionError(f"unknown kind(s) {', '.join(map(repr, unknown))}: use some of "
                             f"{', '.join(KINDS)}")
    return frozenset(kinds)


def _check_language(language: str | None) -> str | None:
    if language is None:
        return None
    lang = language.strip().lower()[:2]
    if lang not in LANGUAGES or len(language.strip()) not in (2, 5):
        raise RedactionError(f"unknown language {language!r}: use one of "
                             f"{', '.join(LANGUAGES)} (or none to try all)")
    return lang


def _extra_entries(names: Iterable[str], places: Iterable[str]) -> dict[tuple[str, ...], str]:
    out: dict[tuple[str, ...], str] = {}
    for kind, values in (("place", places), ("name", names)):
        if isinstance(values, str):
            raise RedactionError(f"{kind}s must be a list of strings, not one string")
        for value in values:
            key = _key(value)
            if key:
                out[key] = kind
    return out


# --------------------------------------------------------------------------- text helpers


def _words_of(text: str) -> list[str]:
    """The words of a block of text (word lists are written as paragraphs)."""
    return text.split()


@lru_cache(maxsize=65536)
def _fold(word: str) -> str:
    """Case- and accent-insensitive form: "Aïcha" -> "aicha"."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_WORD = re.compile(r"[^\W\d_]+")


def _key(phrase: str) -> tuple[str, ...]:
    return tuple(_fold(w) for w in _WORD.findall(phrase))


@dataclass(frozen=True, slots=True)
class _Token:
    start: int
    end: int
    text: str
    key: str
    cap: bool       # starts with a capital letter
    initial: bool   # first word of a sentence (or of the text)
    joined: bool    # joined to the previous token by a hyphen or apostrophe only


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    prev_end = 0
    for m in _WORD.finditer(text):
        gap = text[prev_end:m.start()]
        before = text[max(0, m.start() - 12):m.start()].rstrip(" \t\"'«“(¿¡-–—")
        if not before and m.start() > 12:  # a long run of spaces or quotes
            before = text[:m.start()].rstrip(" \t\"'«“(¿¡-–—")
        initial = not before or before[-1] in ".!?\n:;…"
        if out and gap in ("-", "'", "’"):
            initial = out[-1].initial if gap == "-" else initial
        word = m.group()
        out.append(_Token(m.start(), m.end(), word, _fold(word), word[0].isupper(), initial,
                          bool(out) and gap in ("-", "'", "’")))
        prev_end = m.end()
    return out


# --------------------------------------------------------------------------- gazetteers


def _read_list(name: str) -> list[str]:
    """Entries of a package list: one a line, or words separated by spaces (``split``)."""
    data = resources.files("tiplab.privacy").joinpath("gazetteers", name)
    lines = data.read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def _words(name: str) -> set[str]:
    return {_fold(w) for line in _read_list(name) for w in line.split()}


@lru_cache(maxsize=4)
def _common_words(language: str | None) -> frozenset[str]:
    langs = LANGUAGES if language is None else (language,)
    words: set[str] = set()
    for lang in langs:
        words |= _words(f"common_{lang}.txt")
    words |= _words("ambiguous.txt")
    return frozenset(words)


@lru_cache(maxsize=1)
def _function_words() -> frozenset[str]:
    """Words that never start a name after a cue ("my name is not ...")."""
    return frozenset(_fold(w) for w in _FUNCTION.split())


_FUNCTION = """
a an the and or but not no yes is was are were be been am i me my you your he him his she her
it its we our they them their this that there here on in at to of for from with by as if so
too very just also still really please when where what who how why then now later tomorrow
since until during into onto over under nobody everyone everybody someone somebody anyone
nothing everything something life people
personne tout tous quelqu chacun nadie todos alguien cada
depuis vers pendant jusqu avant après
desde hasta hacia durante tras según antes después
yesterday today after before because about all some any one two three
le la les l un une des du de d et ou mais ne pas non oui est était sont c ce cet cette ça il
ma mon mes ta ton tes sa son ses notre votre nos vos leurs mi mis tu tus su sus nuestro nuestra
elle ils elles je j moi me m tu te t nous vous on lui leur se s y en à au aux dans par pour
avec sur sous chez qui que qu quoi comment pourquoi quand où très aussi encore
el los las lo unos unas y o pero no sí es era son fue yo me mi tú te tu él ella ellos ellas
nosotros se su sus le les en a al del con por para sin sobre que quien cómo cuando donde
muy también ya
"""


@dataclass(frozen=True)
class _Gazetteer:
    names: frozenset[str]                   # folded single tokens
    places: dict[tuple[str, ...], str]      # folded token tuples -> "place"
    longest: int                            # most tokens in one place entry


@lru_cache(maxsize=1)
def _gazetteer() -> _Gazetteer:
    from tiplab.simulate.namelists import NAMES, NICKNAMES

    names: set[str] = set()
    for groups in NAMES.values():
        for entries in groups.values():
            for entry in entries:
                for variant in (entry,) if isinstance(entry, str) else entry:
                    names.update(_key(variant))
    for full, nick in NICKNAMES.items():
        names.update(_key(full) + _key(nick))
    for file in ("given_names.txt", "surnames.txt"):
        names |= _words(file)
    names = {n for n in names if len(n) >= 2}

    places: dict[tuple[str, ...], str] = {}
    for value in _place_names():
        key = _key(value)
        if key and key not in _GENERIC_PLACES and not (len(key) == 1 and len(key[0]) < 3):
            places[key] = "place"
    longest = max(len(k) for k in places)
    return _Gazetteer(frozenset(names), places, longest)


#: subdivision and city names that are generic words, never masked from the gazetteer alone
_GENERIC_PLACES = {(w,) for w in _words_of("""
centre center central centro capital north south east west nord sud est ouest norte sur este
oeste littoral coast plateau highlands islands interior eastern western northern southern upper
lower east central city region district province state county department
""")}


def _place_names() -> Iterator[str]:
    import gettext

    import pycountry

    translations = [gettext.NullTranslations()]
    for domain in ("iso3166-1", "iso3166-2"):
        for lang in ("fr", "es"):
            try:
                translations.append(gettext.translation(domain, pycountry.LOCALES_DIR,
                                                        languages=[lang]))
            except OSError:  # a pycountry build without that locale: English names only
                continue
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value:
                yield from _variants(value, translations)
    for sub in pycountry.subdivisions:
        yield from _variants(sub.name, translations)
    yield from _read_list("cities.txt")
    yield from _read_list("extra_places.txt")


def _variants(name: str, translations: list[gettext.NullTranslations]) -> Iterator[str]:
    """A pycountry name, its translations, and the parts of "X [Y]" and "Asturias, P. de"."""
    for t in translations:
        value = t.gettext(name)
        for part in re.split(r"\s*[\[\]]\s*", value):
            part = part.split(",")[0].strip()
            if part:
                yield part


# --------------------------------------------------------------------------- patterns

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec|"
    "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|"
    "novembre|décembre|decembre|janv|févr|fevr|avr|juil|déc|"
    "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|"
    "noviembre|diciembre|ene|abr|ago|dic")
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_YEAR = r"(?:19|20)\d{2}"
_ORD = r"(?:st|nd|rd|th|er|ème|º|°|ª)?"
_DATE_TEXT = (rf"\b{_DAY}{_ORD}\s+(?:of\s+|de\s+)?(?:{_MONTHS})\.?,?\s+(?:of\s+|de\s+|del\s+)?"
              rf"{_YEAR}\b")

_PATTERNS: dict[str, list[re.Pattern[str]]] = {
    "email": [re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")],
    "url": [
        re.compile(r"\b(?:https?://|www\.)[^\s<>\"']+", re.I),
        re.compile(r"(?<![@\w.-])(?:[\w-]+\.)+(?:com|org|net|info|biz|io|me|co|uk|fr|es|de|"
                   r"it|ro|ng|gh|ma|ru|ua|al|bg|cn|vn|ph|in|eu|ly|gl|be|ch|nl|pt|br|mx|ar|"
                   r"cl|pe|ve|sn|ci|cm|ml|tn|dz|ng|ke|et|er|so|pk|bd|np|af|sy|iq)"
                   r"(?:/[^\s<>\"']*)?(?![\w@])", re.I),
    ],
    "handle": [re.compile(r"(?<![\w@./])@[A-Za-z0-9_](?:[A-Za-z0-9_.]*[A-Za-z0-9_])?")],
    "date": [
        re.compile(_DATE_TEXT, re.I),
        re.compile(rf"\b(?:{_MONTHS})\.?\s+{_DAY}(?:st|nd|rd|th)?,?\s+{_YEAR}\b", re.I),
        re.compile(rf"(?<![\d/.-]){_DAY}[/.-](?:0?[1-9]|1[0-2])[/.-](?:{_YEAR}|\d{{2}})"
                   rf"(?![\d/.-]?\d)"),
        re.compile(rf"(?<![\d/.-])(?:0?[1-9]|1[0-2])/{_DAY}/{_YEAR}(?![\d/])"),
        re.compile(rf"(?<![\d/.-]){_YEAR}[/.-](?:0?[1-9]|1[0-2])[/.-]{_DAY}(?![\d/.-]?\d)"),
    ],
    "document": [
        re.compile(r"\b[XYZ][-\s]?\d{7}[-\s]?[A-Z]\b"),                   # NIE (es)
        re.compile(r"\b\d{8}[-\s]?[A-HJ-NP-TV-Z]\b"),                     # DNI (es)
        re.compile(r"\b[A-CEGHJ-PR-TW-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b"),  # NINO (uk)
        re.compile(r"\b\d{2}[A-Z]{2}\d{5}\b"),                            # passport (fr)
        re.compile(r"\b[A-Z]{1,3}\d{6,9}[A-Z]?\b"),                        # passport shape
        # a code of capitals and digits with at least three digits
        re.compile(r"\b(?=[A-Z0-9]*[A-Z])(?=(?:[A-Z]*\d){3})[A-Z0-9]{6,20}\b"),
    ],
}

_PHONE = re.compile(r"(?<![\w+@/.,-])(?:\+|00)?\(?\d{1,4}\)?(?:[ .-]?\(?\d{1,5}\)?){1,6}"
                    r"(?![\w/@]|[.,-]\d)")
_PHONE_CUE = re.compile(
    r"(?:phone|tel|tél|teléfono|telefono|téléphone|telephone|mobile|móvil|movil|portable|cell|"
    r"number|numéro|numero|número|n[º°]|whats\s?app|wa|call|appel|llam|contact|text|sms|"
    r"viber|signal|telegram)\W{0,3}(?:\w+\W+){0,3}$", re.I)

_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b", re.I)
_CARD = re.compile(r"(?<![\d-])(?:\d{4}[ -]){3}\d{1,7}(?![\d-])|(?<!\d)\d{13,19}(?!\d)")
_ACCOUNT_CUE = re.compile(
    r"\b(?:account|acct|a/c|sort\s+code|compte|rib|cuenta|ccc|clabe|cbu)\s*(?:number|no\.?|"
    r"num(?:ber|[eé]ro)?\.?|n[º°]\.?|bancaire|bancaria)?\s*[:#]?\s*(\d[\d -]{5,30}\d)", re.I)

_DOC_CUE = re.compile(
    r"\b(?:passports?|passeports?|pasaportes?|id\s+card|identity\s+card|ids?|pass|carte\s+"
    r"d['’ ]?identit[ée]|cni|dni|nie|nif|tie|permit|residence\s+permit|titre\s+de\s+s[ée]jour|"
    r"r[ée]c[ée]piss[ée]|permiso(?:\s+de\s+residencia)?|tarjeta\s+de\s+residencia|c[ée]dula|"
    r"licen[cs]e|permis(?:\s+de\s+conduire)?|brp|nin|nino|national\s+insurance|ni\s+number|"
    r"social\s+security|s[ée]curit[ée]\s+sociale|seguridad\s+social|nss|ssn|visa|"
    r"documento|document|birth\s+certificate)"
    r"(?:\s*(?:number|no\.?|n[º°o]\.?|num(?:ber|[eé]ro)?\.?|#|:|is|was|est|es|era|c['’]est|card|"
    r"de|du|number\s+is|number\s+was|was\s+number)\s*)*\s*"
    r"(?P<code>[A-Z0-9]{1,20}(?:[ -][A-Z0-9]{1,12}){0,3})", re.I)

_HANDLE_CUE = re.compile(
    r"\b(?:insta(?:gram)?|ig|fb|facebook|tiktok|snap(?:chat)?|telegram|twitter|signal|skype|"
    r"wechat|viber|imo|onlyfans|discord)\b\s*(?P<colon>[:=-])?\s*"
    r"(?P<code>[\w.]{3,30})(?![\w@])", re.I)

_EN_STREET = (r"street|st|road|rd|avenue|ave|lane|ln|drive|dr|close|way|place|pl|square|sq|"
              r"court|ct|crescent|cres|terrace|gardens|grove|hill|park|row|mews|walk|parade|"
              r"boulevard|blvd|highway|hwy|estate")
_FR_STREET = (r"rue|avenue|av|boulevard|bd|bld|place|pl|chemin|ch|allée|allee|impasse|imp|"
              r"quai|cours|route|rte|passage|square|sentier|résidence|residence|cité|cite|"
              r"lotissement|lot")
_ES_STREET = (r"calle|c/|cl|avenida|avda|av|plaza|pza|paseo|pº|camino|carrera|cra|calzada|"
              r"carretera|ctra|ronda|travesía|travesia|pasaje|glorieta|callejón|callejon|"
              r"urbanización|urbanizacion|urb|barrio")
_STREET_WORD = r"[^\W\d_][\w'’.-]*"
_ADDRESS = [
    # 221B Baker Street, 12 high street, flat 3, 45 Mill Lane
    re.compile(rf"(?:\b(?:flat|apartment|apt|unit)\s*\d+[A-Za-z]?,?\s+)?\b\d{{1,5}}[A-Za-z]?,?"
               rf"\s+(?P<words>(?:{_STREET_WORD}\s+){{1,3}}?)(?:{_EN_STREET})\b\.?", re.I),
    # 14 rue de la Paix, 5 bis rue Victor Hugo
    re.compile(rf"\b\d{{1,4}}(?:\s?(?:bis|ter|b))?,?\s+(?:{_FR_STREET})\.?\s+"
               rf"(?P<words>(?:(?:de\s+la|de\s+l['’]|du|des|de|d['’]|l['’]|la|le|les)\s*)?"
               rf"{_STREET_WORD}(?:\s+{_STREET_WORD}){{0,3}})", re.I),
    # Calle Mayor 5, c/ San Bernardo 12, Avenida de la Constitución 23, 3º B
    re.compile(rf"(?<!\w)(?:{_ES_STREET})\.?\s+(?P<words>(?:(?:de\s+(?:la\s+|los\s+|las\s+)?|"
               rf"del\s+)?{_STREET_WORD}\s+){{0,4}}?{_STREET_WORD})\s*,?\s*(?:n[º°o]\.?\s*)?"
               rf"\d{{1,4}}[A-Za-z]?\b(?:\s*,?\s*\d{{1,2}}\s*[º°ª]\s*(?:[A-Z]\b|izq\w*|dcha|"
               rf"derecha)?)?", re.I),
    # UK postcode
    re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b"),
    # a French or Spanish postcode before a capitalised town
    re.compile(r"(?<![\d,.])\b\d{5}\b(?=\s+[A-ZÀ-Ý])"),
]
#: a street word with a capitalised name and no number ("rue Victor Hugo", "Baker Street")
_STREET_NAMED = [
    re.compile(rf"\b(?i:{_FR_STREET}|{_ES_STREET})\.?\s+(?:(?i:de\s+la|de\s+l['’]|du|des|de|"
               rf"del|d['’])\s*)?[A-ZÀ-Ý][\w'’-]+(?:\s+[A-ZÀ-Ý][\w'’-]+){{0,3}}"),
    re.compile(r"\b[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){0,2}\s+(?:Street|Road|Avenue|Lane|"
               r"Drive|Boulevard|Crescent|Terrace)\b"),
]
#: words after which a street name stops ("14 rue de la Paix à Paris")
_STREET_STOP = frozenset(_words_of("""
a à au aux en dans près pres et avec chez pour sur puis où ou on il elle je j nous ils c est y
con en por que donde cerca junto and with in at near to on the from for of by where we they i
he she it was is
"""))

_MASK_RE = re.compile(r"\[(?:" + "|".join(k.upper() for k in KINDS) + r")\]")


# --------------------------------------------------------------------------- cues

_TITLE = re.compile(
    r"(?<![\w.])(?:mr|mrs|ms|miss|mister|dr|mme|mlle|monsieur|madame|mademoiselle|sr|sra|"
    r"srta|señor|señora|señorita|senor|senora|don|doña|dona|madam|mama|auntie|aunty|uncle|"
    r"oga|tonton|tata|tantie|chef|patron|jefe|boss)\.?\s+", re.I)
_TITLE_M = re.compile(r"(?<![\w.])M\.\s+(?=[A-ZÀ-Ý])")

#: a name follows, whatever its case ("my name is amina")
_NAME_CUE_STRONG = re.compile(
    r"(?:\bmy\s+name\s*(?:is|'s|was)|\b(?:his|her|their)\s+names?\s+(?:is|was|were|are)|"
    r"\bname\s*(?:is|was)|\bnamed|\bi\s+am\s+called|\bi'm\s+called|\bhe\s+is\s+called|"
    r"\bshe\s+is\s+called|\bknown\s+as|\baka|\balias|\bnicknamed|\bnickname\s*(?:is|was)?|"
    r"\bcalls?\s+(?:him|her)self|\bused\s+the\s+name|\breal\s+name\s+(?:is|was)|"
    r"\bje\s+m['’ ]\s*appelle|\b(?:il|elle|on)\s+s['’ ]\s*appel(?:le|ait)|\bs['’]appel(?:le|ait)|"
    r"\bm['’]appel(?:le|ait)|\bmon\s+nom\s+(?:est|c['’]est|c['’]était)|"
    r"\b(?:son|leur)\s+nom\s+(?:est|était|c['’]est|c['’]était)|\bsurnomm[ée]e?|"
    r"\bsurnom\s+(?:est|c['’]est|c['’]était|était)|\bse\s+fait\s+appeler|\bdite?\b|"
    r"\bme\s+llamo|\bse\s+llama(?:ba)?|\bmi\s+nombre\s+(?:es|era)|"
    r"\bsu\s+nombre\s+(?:es|era)|\b(?:me|le|les|nos)\s+(?:dec[ií]an|dicen|llaman|llamaban)|"
    r"\bapodad[oa]|\bapodo\s+(?:es|era)|\b(?:on|ils|elles)\s+l['’]appel(?:le|lent|ait|aient)|"
    r"\bthey\s+call(?:ed)?\s+(?:him|her|me)|\b(?:lo|la|le|me)\s+llam(?:an|aban|amos))"
    r"\b\s*[:,]?\s*", re.I)

#: a name follows if it is capitalised or a known name ("my brother Emeka")
_NAME_CUE_WEAK = re.compile(
    r"\b(?:called|call\s+me|i\s+am|i'm|soy|je\s+suis|with|avec|con|met|saw|told|"
    r"brother|sister|cousin|friend|husband|wife|boyfriend|girlfriend|son|daughter|mother|"
    r"father|uncle|aunt|boss|recruiter|trafficker|madam|victim|client|survivor|"
    r"frère|fr[eè]re|sœur|soeur|ami|amie|copain|copine|mari|femme|fils|fille|mère|père|"
    r"oncle|tante|patron|patronne|victime|cliente?|"
    r"hermano|hermana|primo|prima|amigo|amiga|novio|novia|esposo|esposa|marido|hijo|hija|"
    r"madre|padre|tío|tía|jefe|jefa|dueño|víctima|victima|"
    r"case\s+note|note|nota|entretien|entrevista|interview|spoke\s+to|talked\s+to|"
    r"hablé\s+con|vu|vimos|vi\s+a)\b\s*[:,]?\s*", re.I)

_NICKNAME_CUE = re.compile(r"(?:surnom|surnomm|nickname|known\s+as|aka|alias|dec[ií]an|dicen|"
                           r"llaman|apod|se\s+fait\s+appeler|dite?)", re.I)

_PLACE_NOUN_BEFORE = re.compile(
    r"\b(?:town|city|village|hamlet|place|area|region|district|street|island|camp|"
    r"ville|village|quartier|région|cité|pueblo|ciudad|barrio|aldea|región|isla)\s+$", re.I)

#: a place follows if it is capitalised (or a known place)
_PLACE_CUE_STRONG = re.compile(
    r"\b(?:town|city|village|region|province|state|county|district|area|suburb|hamlet|"
    r"island|camp|neighbou?rhood)\s+(?:of|called|named)|\b(?:ville|village|quartier|"
    r"pueblo|ciudad|barrio|aldea)\s+(?:appelée?|nommée?|llamad[oa])|\b(?:near|close\s+to|outside|outskirts\s+of|"
    r"ville\s+de|village\s+de|région\s+de|province\s+de|quartier\s+(?:de\s+)?|cité|"
    r"près\s+de|pres\s+de|à\s+côté\s+de|dans\s+la\s+banlieue\s+de|"
    r"ciudad\s+de|pueblo\s+de|barrio\s+(?:de\s+)?|provincia\s+de|departamento\s+de|"
    r"estado\s+de|cerca\s+de|a\s+las\s+afueras\s+de)\s+$", re.I)
_PLACE_CUE_WEAK = frozenset(_words_of("""
in from to at near via through towards into à au aux en de desde a para hacia vers par por d du
des la le el
"""))
#: capitalised words that follow "in"/"from" but are not places
_NOT_PLACE = frozenset(_fold(w) for w in _words_of("""
january february march april may june july august september october november december monday
tuesday wednesday thursday friday saturday sunday christmas easter ramadan janvier février mars
avril mai juin juillet août septembre octobre novembre décembre lundi mardi mercredi jeudi
vendredi samedi dimanche noël pâques enero febrero marzo abril mayo junio julio agosto
septiembre octubre noviembre diciembre lunes martes miércoles jueves viernes sábado domingo
navidad english french spanish arabic romanian albanian bulgarian ukrainian russian nigerian
vietnamese chinese eritrean tigrinya amharic somali filipino tagalog portuguese brazilian
indian urdu hindi bengali pashto dari farsi persian italian german polish european african
anglais français francais espagnol arabe roumain albanais bulgare ukrainien russe nigérian
vietnamien chinois érythréen portugais brésilien indien italien allemand polonais européen
africain inglés ingles francés español espanol árabe rumano albanés búlgaro ucraniano ruso
nigeriano vietnamita chino eritreo portugués brasileño indio italiano alemán polaco europeo
africano the a an i my we he she it they this that there le la les un une je il elle nous el
los las yo él ella nosotros god dieu dios police policía police court tribunal mr mrs ms dr mme
sr sra covid
"""))


# --------------------------------------------------------------------------- detection


def _detect(text: str, common: frozenset[str],
            extra: dict[tuple[str, ...], str]) -> Iterator[Finding]:
    yield from _pattern_findings(text)
    tokens = _tokens(text)
    yield from _name_findings(text, tokens, common, extra)
    yield from _place_findings(text, tokens, common, extra)


def _finding(text: str, start: int, end: int, kind: str, source: str) -> Finding:
    while end > start and text[end - 1] in " \t\n.,;:!?)(\"'»”":
        end -= 1
    while start < end and text[start] in " \t\n(\"'«“":
        start += 1
    return Finding(start, end, kind, text[start:end], source)


def _pattern_findings(text: str) -> Iterator[Finding]:
    for kind, patterns in _PATTERNS.items():
        for pattern in patterns:
            for m in pattern.finditer(text):
                if kind == "url" and "@" in text[max(0, m.start() - 1):m.start()]:
                    continue
                yield _finding(text, m.start(), m.end(), kind, "pattern")
    yield from _phones(text)
    yield from _accounts(text)
    yield from _documents(text)
    yield from _handles(text)
    yield from _dates_of_birth(text)
    yield from _addresses(text)


def _phones(text: str) -> Iterator[Finding]:
    for m in _PHONE.finditer(text):
        raw = m.group()
        digits = sum(c.isdigit() for c in raw)
        if not 7 <= digits <= 15:
            continue
        international = raw.startswith(("+", "00"))
        trunk = raw.lstrip("(").startswith("0")
        cued = bool(_PHONE_CUE.search(text[max(0, m.start() - 40):m.start()]))
        if re.fullmatch(r"(?:19|20)\d\d\s*[-–]\s*(?:19|20)\d\d", raw):
            continue  # a range of years
        if international or (trunk and digits >= 9) or digits >= 9 or (cued and digits >= 7):
            yield _finding(text, m.start(), m.end(), "phone", "pattern")


def _luhn(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _iban_ok(raw: str) -> bool:
    s = re.sub(r"\s", "", raw).upper()
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _accounts(text: str) -> Iterator[Finding]:
    for m in _IBAN.finditer(text):
        cued = re.search(r"(?:iban|rib|account|compte|cuenta|bank|banque|banco)\W+(?:\w+\W+)?$",
                         text[max(0, m.start() - 30):m.start()], re.I)
        if _iban_ok(m.group()) or (cued and sum(c.isdigit() for c in m.group()) >= 10):
            yield _finding(text, m.start(), m.end(), "account", "pattern")
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        grouped = bool(re.fullmatch(r"(?:\d{4}[ -]){3}\d{4}", m.group()))
        if 13 <= len(digits) <= 19 and (grouped or _luhn(digits)):
            yield _finding(text, m.start(), m.end(), "account", "pattern")
    for m in _ACCOUNT_CUE.finditer(text):
        yield _finding(text, m.start(1), m.end(1), "account", "cue")


def _documents(text: str) -> Iterator[Finding]:
    for m in _DOC_CUE.finditer(text):
        groups = re.split(r"([ -])", m.group("code"))
        kept = ""
        for i in range(0, len(groups), 2):
            part = groups[i]
            lead = i == 0 and len(part) <= 3 and part.isalpha()
            if not (any(c.isdigit() for c in part) or lead):
                break
            kept += (groups[i - 1] if i else "") + part
        kept = kept.rstrip(" -")
        alnum = sum(c.isalnum() for c in kept)
        if alnum >= 5 and sum(c.isdigit() for c in kept) >= 3:
            start = m.start("code")
            yield _finding(text, start, start + len(kept), "document", "cue")


def _handles(text: str) -> Iterator[Finding]:
    common = _common_words(None)
    for m in _HANDLE_CUE.finditer(text):
        code = m.group("code").rstrip(".")
        marked = any(c in code for c in "._") or any(c.isdigit() for c in code)
        if (marked or m.group("colon")) and _fold(code) not in common:
            start = m.start("code")
            yield _finding(text, start, start + len(code), "handle", "cue")


_BIRTH_CUE = re.compile(
    rf"\b(?:born|birthday|dob|d\.o\.b\.?|né|née|nee|naissance|anniversaire|nac[ií]|naci[oó]|"
    rf"nacid[oa]|cumpleaños|nacimiento)\W{{1,3}}(?:(?:on|le|el|the|en|es|is)\s+)*"
    rf"(?P<date>{_DAY}{_ORD}\s+(?:of\s+|de\s+)?(?:{_MONTHS})\b)", re.I)


def _dates_of_birth(text: str) -> Iterator[Finding]:
    for m in _BIRTH_CUE.finditer(text):
        yield _finding(text, m.start("date"), m.end("date"), "date", "cue")


def _addresses(text: str) -> Iterator[Finding]:
    for i, pattern in enumerate(_ADDRESS):
        for m in pattern.finditer(text):
            end = m.end()
            if "words" in pattern.groupindex and m.group("words") is not None:
                words = _WORD.findall(m.group("words"))
                folded = [_fold(w) for w in words]
                if i == 0 and any(w in _STREET_STOP for w in folded):
                    continue  # "3 people on the road"
                if i == 1:  # cut the street name at the first stop word
                    start_w = m.start("words")
                    for w in _WORD.finditer(m.group("words")):
                        if _fold(w.group()) in _STREET_STOP and w.start() > 0:
                            end = start_w + w.start()
                            break
            yield _finding(text, m.start(), end, "address", "pattern")
    for pattern in _STREET_NAMED:
        for m in pattern.finditer(text):
            yield _finding(text, m.start(), m.end(), "address", "cue")


def _name_findings(text: str, tokens: list[_Token], common: frozenset[str],
                   extra: dict[tuple[str, ...], str]) -> Iterator[Finding]:
    gaz = _gazetteer()
    function = _function_words()
    extra_names = {k for k, v in extra.items() if v == "name"}
    n = len(tokens)

    def known(i: int) -> bool:
        return tokens[i].key in gaz.names

    def unambiguous(i: int) -> bool:
        t = tokens[i]
        return known(i) and t.key not in common and len(t.key) > 2

    def capitalised_mid(i: int) -> bool:
        t = tokens[i]
        return t.cap and not t.initial

    def adjacent(i: int, j: int) -> bool:
        gap = text[tokens[i].end:tokens[j].start]
        return bool(re.fullmatch(r"[ \t]{1,2}|-|['’]", gap))

    # 1. gazetteer: runs of known names; an everyday word needs more evidence
    accepted = [False] * n
    for i in range(n):
        t = tokens[i]
        if not known(i) or (t.key in function and not capitalised_mid(i)):
            continue
        if _month_here(text, tokens, i):
            continue  # "In May we moved", "since June"
        if unambiguous(i) or capitalised_mid(i):
            accepted[i] = True
    for i in range(n):  # everyday-word names next to an accepted or capitalised name
        if accepted[i] or not known(i) or tokens[i].key in function:
            continue
        for j in (i - 1, i + 1):
            if (0 <= j < n and (accepted[j] or (known(j) and tokens[j].cap))
                    and adjacent(min(i, j), max(i, j))
                    and (tokens[i].cap or tokens[max(i, j)].joined or accepted[j])):
                accepted[i] = True
    for i in range(1, n):  # "jean-pierre": two known names joined by a hyphen
        if tokens[i].joined and known(i) and known(i - 1) and (
                text[tokens[i - 1].end:tokens[i].start] == "-"):
            accepted[i] = accepted[i - 1] = True
    yield from _runs(text, tokens, accepted, common, "gazetteer", adjacent)

    # a capitalised word opening a sentence, then a verb of what a person did ("Bintou m'a
    # aidée", "Grace helped me", "Leidy me ayudó")
    for i in range(n - 1):
        t = tokens[i]
        if (t.initial and t.cap and t.key not in function and t.key not in _NOT_PLACE
                and (t.key not in common or known(i))
                and _PERSON_VERB.match(text, t.end)):
            yield Finding(t.start, t.end, "name", t.text, "cue")

    # 2. cues: take the following words
    starts = [t.start for t in tokens]
    for m in _NAME_CUE_STRONG.finditer(text):
        yield from _after_cue(text, tokens, starts, m.end(), common, function, strong=True,
                              nickname=bool(_NICKNAME_CUE.search(m.group())))
    for m in _NAME_CUE_WEAK.finditer(text):
        if _PLACE_NOUN_BEFORE.search(text, max(0, m.start() - 20), m.start()):
            continue  # "a village called Ugbowo": a place
        yield from _after_cue(text, tokens, starts, m.end(), common, function, strong=False,
                              nickname=False)
    for title in (_TITLE, _TITLE_M):
        for m in title.finditer(text):
            strong = not re.fullmatch(r"(?i)(?:chef|patron|jefe|boss|don|dona)\.?\s+", m.group())
            yield from _after_cue(text, tokens, starts, m.end(), common, function, strong=strong,
                                  nickname=False)

    # 3. the caller's names, whatever their case
    if extra_names:
        yield from _extra_matches(text, tokens, extra_names, "name")


def _runs(text: str, tokens: list[_Token], accepted: list[bool], common: frozenset[str],
          source: str, adj: Callable[[int, int], bool]) -> Iterator[Finding]:
    """Join accepted tokens (and capitalised unknown words or particles between or beside
    them: "Amina Diallo", "María de la Cruz") into name findings."""
    particles = {"de", "da", "del", "dos", "das", "van", "von", "al", "el", "bin", "ben", "ibn",
                 "la", "le", "di", "abu", "ould"}
    function = _function_words()
    n = len(tokens)
    i = 0
    while i < n:
        if not accepted[i]:
            i += 1
            continue
        start = end = i
        # extend right over capitalised words and particles followed by a name
        j = end + 1
        while j < n and adj(j - 1, j):
            t = tokens[j]
            if accepted[j] or (t.cap and t.key not in function and t.key not in _NOT_PLACE
                               and t.key not in _INSTITUTIONS
                               and (t.key not in common or tokens[j - 1].cap)):
                end = j
                j += 1
            elif t.key in particles and j + 1 < n and adj(j, j + 1) and (
                    accepted[j + 1] or tokens[j + 1].cap):
                j += 1
            elif (t.key in particles and j + 2 < n and tokens[j + 1].key in particles
                  and adj(j, j + 1) and adj(j + 1, j + 2)
                  and (accepted[j + 2] or tokens[j + 2].cap)):
                j += 2
            else:
                break
        # extend left over one capitalised unknown word ("Svetlana Kovalenko" is known anyway)
        k = start - 1
        if k >= 0 and adj(k, start) and tokens[k].cap and not tokens[k].initial and (
                tokens[k].key not in common and tokens[k].key not in function
                and tokens[k].key not in _TITLES):
            start = k
        if _is_place_after_cue(text, tokens, start, end):
            i = end + 1
            continue  # "à Paris": the place, not the surname
        yield Finding(tokens[start].start, tokens[end].end, "name",
                      text[tokens[start].start:tokens[end].end], source)
        i = end + 1


_PERSON_VERB = re.compile(
    r"\s+(?:helped|told|said|says|gave|took|brought|sold|bought|paid|drove|met|showed|"
    r"promised|called|asked|hit|beat|kept|forced|took|lent|found|rescued|works|worked|lives|"
    r"lived|knows|knew|wants|has\s+been|is\s+still|was\s+also|"
    r"m['’](?:a|avait)|nous\s+(?:a|avait|donnait|disait)|l['’]a|a\s+(?:dit|aidé)|dit|disait|"
    r"me\s+\w+|nos\s+\w+|le\s+dijo|dijo|ayudó|vive|trabaja|sigue)\b", re.I)

#: words that end a name run ("the Grace Church", "Hope Hospital")
_INSTITUTIONS = frozenset(_fold(w) for w in _words_of("""
church mosque temple chapel hospital clinic school college university centre center shelter
house home hotel restaurant bar club shop store market salon farm factory company ltd limited
street road avenue lane square park station airport court police council foundation charity
église mosquée hôpital école centre foyer maison hôtel magasin marché usine société rue gare
iglesia mezquita hospital escuela colegio centro casa hotel tienda mercado fábrica empresa
calle estación fundación roja rouge cross
"""))
_MONTH_WORDS = frozenset(_fold(w) for w in _MONTHS.split("|"))
_BEFORE_MONTH = frozenset(_words_of("""
in since until till from by last next early late mid end of during before after en depuis jusqu
fin début mi desde hasta finales principios mediados de el del le
"""))


def _month_here(text: str, tokens: list[_Token], i: int) -> bool:
    """Is tokens[i] a month name used as a month ("in May", "May 2019", "3 May")?"""
    if tokens[i].key not in _MONTH_WORDS:
        return False
    if i > 0 and tokens[i - 1].key in _BEFORE_MONTH:
        return True
    around = text[max(0, tokens[i].start - 4):tokens[i].end + 6]
    return bool(re.search(r"\d\s*" + re.escape(tokens[i].text) + r"|" + re.escape(tokens[i].text)
                          + r"\s*\d", around))


_ARTICLES = ("le", "la", "el", "the", "les", "los", "las")
_TITLES = frozenset(_fold(w) for w in _words_of("""
mr mrs ms miss mister dr mme mlle monsieur madame mademoiselle sr sra srta señor señora
señorita don doña madam mama auntie aunty uncle oga tonton tata tantie
"""))


def _is_place_after_cue(text: str, tokens: list[_Token], i: int, j: int) -> bool:
    """Are tokens i..j a known place right after "in", "from", "à", "en", "desde"...?"""
    if tuple(t.key for t in tokens[i:j + 1]) not in _gazetteer().places or i == 0:
        return False
    prev = tokens[i - 1]
    return prev.key in _PLACE_CUE_WEAK and bool(
        re.fullmatch(r"\s+|\s*['’]", text[prev.end:tokens[i].start]))


def _after_cue(text: str, tokens: list[_Token], starts: list[int], pos: int,
               common: frozenset[str],
               function: frozenset[str], *, strong: bool, nickname: bool) -> Iterator[Finding]:
    """The name that starts at ``pos`` (1-3 words), if the words look like one."""
    gaz = _gazetteer()
    idx = bisect.bisect_left(starts, pos)
    if idx >= len(tokens) or text[pos:tokens[idx].start].strip(" \t:,\"'«“"):
        return
    taken: list[_Token] = []
    i = idx
    if nickname and tokens[i].key in _ARTICLES and i + 1 < len(tokens):
        taken.append(tokens[i])  # "la flaca", "Le Gros"
        i += 1
    while i < len(tokens) and len(taken) < 3 + (1 if taken and taken[0].key in
                                                 ("le", "la", "el", "the") else 0):
        t = tokens[i]
        if taken and not re.fullmatch(r"[ \t]{1,2}|-|['’]", text[taken[-1].end:t.start]):
            break
        first = not taken or (len(taken) == 1 and taken[0].key in ("le", "la", "el", "the"))
        if first:
            good = t.key not in function and t.key not in _NOT_PLACE and (
                strong or (t.cap and not t.initial)
                or (t.key in gaz.names and len(t.key) > 2 and not _month_here(text, tokens, i))
                or (t.cap and t.key not in common))
            if not good:
                break
        else:
            further = (t.cap or (t.key in gaz.names and t.key not in common)) and (
                t.key not in function)
            if not further and not (t.joined and t.key not in function):
                break
        taken.append(t)
        i += 1
    real = [t for t in taken if t.key not in ("le", "la", "el", "the")]
    if real:
        yield Finding(taken[0].start, taken[-1].end, "name",
                      text[taken[0].start:taken[-1].end], "cue")
        # "with blessing and joy": a known name joined by "and" shares the cue
        if i + 1 < len(tokens) and tokens[i].key in ("and", "et", "y", "e") and (
                tokens[i + 1].key in gaz.names and tokens[i + 1].key not in function):
            t = tokens[i + 1]
            yield Finding(t.start, t.end, "name", t.text, "cue")


def _extra_matches(text: str, tokens: list[_Token], entries: set[tuple[str, ...]],
                   kind: str) -> Iterator[Finding]:
    longest = max(len(e) for e in entries)
    keys = [t.key for t in tokens]
    for i in range(len(tokens)):
        for size in range(min(longest, len(tokens) - i), 0, -1):
            if tuple(keys[i:i + size]) in entries:
                j = i + size - 1
                yield Finding(tokens[i].start, tokens[j].end, kind,
                              text[tokens[i].start:tokens[j].end], "gazetteer")
                break


_PLACE_SUFFIX = frozenset(_fold(w) for w in _words_of("""
state province region county district department governorate oblast city municipality état
région département préfecture ville estado provincia región departamento municipio ciudad
"""))


def _place_findings(text: str, tokens: list[_Token], common: frozenset[str],
                    extra: dict[tuple[str, ...], str]) -> Iterator[Finding]:
    gaz = _gazetteer()
    function = _function_words()
    keys = [t.key for t in tokens]
    n = len(tokens)
    extra_places = {k for k, v in extra.items() if v == "place"}
    if extra_places:
        yield from _extra_matches(text, tokens, extra_places, "place")

    def after_weak_cue(i: int) -> bool:
        return i > 0 and tokens[i - 1].key in _PLACE_CUE_WEAK and bool(
            re.fullmatch(r"\s+|\s*['’]", text[tokens[i - 1].end:tokens[i].start]))

    def contiguous(i: int, j: int) -> bool:
        return all(re.fullmatch(r"[ \t]{1,2}|-|['’]|-\s?|\s?-\s?",
                                text[tokens[k].end:tokens[k + 1].start])
                   for k in range(i, j))

    i = 0
    while i < n:
        hit = 0
        for size in range(min(gaz.longest, n - i), 0, -1):
            key = tuple(keys[i:i + size])
            if key in gaz.places and contiguous(i, i + size - 1):
                hit = size
                break
        if hit:
            first = tokens[i]
            ambiguous = hit == 1 and (first.key in common or first.key in function
                                      or len(first.key) <= 3)
            if hit > 1 and all(k in common or k in function for k in keys[i:i + hit]):
                ambiguous = True
            ok = not ambiguous or (first.cap and (not first.initial or after_weak_cue(i)))
            if ok and (hit > 1 or first.key not in _NOT_PLACE):
                j = i + hit - 1
                if j + 1 < n and keys[j + 1] in _PLACE_SUFFIX and contiguous(j, j + 1):
                    j += 1
                yield Finding(first.start, tokens[j].end, "place",
                              text[first.start:tokens[j].end], "gazetteer")
                i = j + 1
                continue
        i += 1

    # capitalised words after a place cue ("a village near Kumasi", "en Lavapiés")
    for i, t in enumerate(tokens):
        if not t.cap or t.key in function or t.key in _NOT_PLACE or t.key in gaz.names:
            continue
        if t.text.isupper() and len(t.text) <= 6:
            continue  # an acronym (API, UNODC), not a place
        before = text[max(0, t.start - 40):t.start]
        strong = bool(_PLACE_CUE_STRONG.search(before))
        if not strong and not (after_weak_cue(i) and not t.initial and t.key not in common):
            continue
        if strong and t.key in common and t.initial:
            continue
        j = i
        while j + 1 < n and tokens[j + 1].cap and tokens[j + 1].key not in function and (
                contiguous(j, j + 1)):
            j += 1
        yield Finding(t.start, tokens[j].end, "place", text[t.start:tokens[j].end], "cue")


# --------------------------------------------------------------------------- merging


def _rank(f: Finding) -> tuple[int, int, int]:
    return (-(f.end - f.start), _PRIORITY.index(f.kind), _SOURCE_PRIORITY.index(f.source))


def _merge(text: str, findings: list[Finding]) -> list[Finding]:
    """Overlapping findings become one span (their union) with the kind of the strongest."""
    findings = [f for f in findings if f.end > f.start]
    findings.sort(key=lambda f: (f.start, -f.end))
    groups: list[list[Finding]] = []
    end = -1
    for f in findings:
        if groups and f.start < end:
            groups[-1].append(f)
            end = max(end, f.end)
        else:
            groups.append([f])
            end = f.end
    out = []
    for group in groups:
        best = min(group, key=_rank)
        start = min(f.start for f in group)
        stop = max(f.end for f in group)
        out.append(Finding(start, stop, best.kind, text[start:stop], best.source))
    return out
