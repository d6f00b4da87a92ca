"""Coding units and language: split a note into sentences, guess the language it is written in.

A **coding unit** is a sentence, a bullet point or a transcript turn. :func:`sentences` keeps
abbreviations (Mr., Dr., e.g., No. 5), decimal numbers (3.5) and quotations ("Go!" he said)
inside their sentence, and makes a unit boundary at a paragraph break, a bullet, a speaker
turn ("Q:", "A:", "Interviewer:") and a short heading line. Hard-wrapped lines are joined.
Offsets point into the original text, so a unit's span can be stored and shown again.

:func:`detect_language` guesses the language from frequent function words (English, French,
Spanish, Portuguese, German, Italian, Dutch) or, for other scripts, from the script (Cyrillic,
Arabic, Hebrew, Greek, Chinese, Japanese, Korean, Thai, Devanagari...). It says ``None`` when
the text is too short or the evidence is weak. Only English notes can get model suggestions
(:data:`MODEL_LANGUAGES`); other languages are coded by hand.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["MODEL_LANGUAGES", "LanguageGuess", "Span", "detect_language", "sentences"]

#: languages the embedded model can code (all-MiniLM-L6-v2 is an English model)
MODEL_LANGUAGES = ("en",)


@dataclass(frozen=True)
class Span:
    """A coding unit: ``text == source[start:end]``."""

    start: int
    end: int
    text: str


# --------------------------------------------------------------------------- sentences

#: always followed by more of the same sentence
_TITLES = frozenset(("mr", "mrs", "ms", "dr", "prof", "sr", "sra", "srta", "mme", "mlle", "mm",
                     "st", "jr", "messrs", "rev", "gen", "col", "capt", "lt", "sgt", "insp",
                     "supt", "det", "e.g", "i.e", "cf", "vs", "approx", "ca", "viz", "resp",
                     "dept", "est"))
#: abbreviations before a number ("No. 5", "p. 12", "art. 4")
_BEFORE_NUMBER = frozenset(("no", "nos", "nr", "nº", "n°", "p", "pp", "art", "tel", "fig", "vol",
                            "ch", "sec", "para", "ref"))
#: abbreviations that may end a sentence: a boundary only if a capital follows
_MAYBE_END = frozenset(("etc", "ltd", "inc", "co", "corp", "a.m", "p.m", "u.s", "u.k", "al"))

_TERMINAL = re.compile(r"[.!?…]+|(?<![.!?…])\.\.\.")
_CLOSERS = "\"'”’»)]"
_BULLET = re.compile(r"[ \t]*(?:[-*•–—·▪◦►‣]|\(?\d{1,2}[.)]|\(?[a-z][)])[ \t]+")
_TURN = re.compile(
    r"[ \t]*(?:Q|A|I|R|P|Int|Resp|Interviewer|Interviewee|Respondent|Participant|Survivor|"
    r"Interpreter|Translator|Caseworker|Case\s+worker|Officer|Client|Victim|Witness|Moderator|"
    r"Enquêteur|Enquêtrice|Enquêté|Enquêtée|Entrevistador|Entrevistadora|Entrevistado|"
    r"Entrevistada|Pregunta|Respuesta|Question|Réponse|Speaker\s*\d+|[PR]\d{1,3})"
    r"[ \t]*[:：]")


def _line_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line, without its line break."""
    out = []
    pos = 0
    for m in re.finditer(r"\r\n|\r|\n|\u2028|\u2029", text):
        out.append((pos, m.start()))
        pos = m.end()
    out.append((pos, len(text)))
    return out


def _blocks(text: str) -> list[tuple[int, int]]:
    """Paragraphs, bullets, turns and headings: (start, end) in ``text``; hard-wrapped lines
    of one paragraph stay together."""
    blocks: list[tuple[int, int]] = []
    cur: tuple[int, int] | None = None
    prev_line = ""
    for s, e in _line_spans(text):
        line = text[s:e]
        stripped = line.strip()
        if not stripped:
            if cur:
                blocks.append(cur)
            cur, prev_line = None, ""
            continue
        starts_new = (
            cur is None
            or _BULLET.match(line) is not None
            or _TURN.match(line) is not None
            or prev_line.endswith((":", ".", "!", "?", "…", "»", "\"", "”"))
            or (len(prev_line) < 40 and not prev_line.endswith((",", ";", "-", "–"))
                and stripped[0].isupper()))
        if starts_new:
            if cur:
                blocks.append(cur)
            cur = (s, e)
        else:
            assert cur is not None
            cur = (cur[0], e)
        prev_line = stripped
    if cur:
        blocks.append(cur)
    return blocks


def _word_before(text: str, pos: int) -> str:
    m = re.search(r"[^\s\"'“‘«(\[]+$", text[:pos])
    return m.group().lower() if m else ""


def _is_boundary(text: str, m: re.Match[str], end: int, block_end: int) -> bool:
    """Does the sentence end after the terminal punctuation ``m`` (closers up to ``end``)?"""
    k = end
    while k < block_end and text[k].isspace():
        k += 1
    if k >= block_end:
        return True
    nxt = text[k]
    punct = m.group()
    word = _word_before(text, m.start())
    closed = end > m.end()
    if punct == ".":
        bare = word.rstrip(".")
        if bare in _TITLES:
            return False
        if len(bare) == 1 and bare.isalpha() and text[m.start() - 1].isupper() and (
                nxt.isupper()):
            return False  # an initial: "J. Smith"
        if bare in _BEFORE_NUMBER and nxt.isdigit():
            return False
        if (bare in _MAYBE_END or re.fullmatch(r"(?:[a-z]\.)+[a-z]", bare)) and not (
                nxt.isupper()):
            return False
    # '"Go!" he said', 'and then... he left': the sentence goes on
    return not ((closed or punct in ("…", "...") or punct.startswith("..")) and nxt.islower())


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def sentences(text: str) -> list[Span]:
    """The coding units of ``text`` (sentences, bullets, transcript turns), in order.

    Parameters
    ----------
    text : str
        A note or transcript, any language written with sentence punctuation.

    Returns
    -------
    list of Span
        Units with offsets into ``text``; surrounding white space and bullet markers are left
        out, speaker labels ("A:") are kept. Units with no letter or digit are dropped.

    Notes
    -----
    A period after a known abbreviation (Mr., Dr., e.g.), an initial ("J. Smith"), or
    "No."/"p." before a number does not end a sentence; nor does terminal punctuation inside
    a word or number (3.5, www.site.com), nor "?"/"!" inside a quotation followed by a
    lower-case word. Spanish "¿"/"¡" open a sentence after the previous one's end.
    """
    out: list[Span] = []
    for b_start, b_end in _blocks(text):
        bullet = _BULLET.match(text, b_start, b_end)
        start = bullet.end() if bullet else b_start
        cuts: list[int] = []
        for m in _TERMINAL.finditer(text, start, b_end):
            end = m.end()
            while end < b_end and (text[end] in _CLOSERS or (
                    text[end] == " " and end + 1 < b_end and text[end + 1] in "»")):
                end += 1
            if end < b_end and not text[end].isspace():
                continue  # inside a word or number: 3.5, e.g.x, www.a.com
            if _is_boundary(text, m, end, b_end):
                cuts.append(end)
        pos = start
        for cut in [*cuts, b_end]:
            s, e = _trim(text, pos, cut)
            if e > s and any(ch.isalnum() for ch in text[s:e]):
                out.append(Span(s, e, text[s:e]))
            pos = cut
    return out


# --------------------------------------------------------------------------- language


@dataclass(frozen=True)
class LanguageGuess:
    """The guessed language (ISO 639-1), how sure, and whether the model can code it."""

    code: str | None
    confidence: float
    supported: bool


_STOPWORDS: dict[str, frozenset[str]] = {lang: frozenset(words.split()) for lang, words in {
    "en": """the and of to a in is was were it that he she they i my me we you his her him
        them with for on at from this have had has not but be been are did do what when who
        would could there their our your after before because about into out up then so
        just said told took went came never always only very all no""",
    "fr": """le la les un une des du de et est était sont il elle ils elles je j me m mon
        ma mes nous vous on lui leur que qui qu ne pas plus avec pour dans sur par au aux
        ce cette ces se s y en a avait été ai sa son ses très mais ou où comme quand tout
        rien jamais aussi chez après avant parce l d n c t""",
    "es": """el la los las un una unos unas de del y es era son fue yo me mi mis nos
        nosotros usted ella ellos ellas que qué con por para sin sobre en al se su sus le
        les lo no sí pero muy también cuando donde porque como todo nada nunca había hay
        estaba están después antes desde hasta""",
    "pt": """o a os as um uma uns umas de do da dos das e é era são foi eu me meu minha
        nós você ele ela eles elas que com por para sem sobre em no na nos nas ao se seu
        sua não sim mas muito também quando onde porque como tudo nada nunca havia tinha
        estava depois antes até""",
    "de": """der die das den dem des ein eine einen einem und ist war sind ich mich mir
        mein meine wir uns sie er es ihr ihm ihn nicht kein keine mit für von zu auf in im
        an am bei nach aus aber auch wenn wo weil wie alles nichts nie hatte hat haben
        wurde sehr noch dann schon""",
    "it": """il lo la i gli le un una uno di del della dei delle e è era sono fu io mi
        mio mia noi voi lui lei loro che con per senza su in nel nella al alla si suo sua
        non sì ma molto anche quando dove perché come tutto niente mai aveva ho ha stato
        dopo prima fino""",
    "nl": """de het een en is was zijn ik mij me mijn wij we ons jij je u hij zij ze hem
        haar niet geen met voor van te op in aan bij naar uit maar ook als waar omdat hoe
        alles niets nooit had heeft hebben werd er dat die wat wie toen nog al""",
}.items()}

#: Unicode script ranges -> the language a note in that script most likely is
_SCRIPTS: list[tuple[str, str, tuple[tuple[int, int], ...]]] = [
    ("cyrillic", "ru", ((0x0400, 0x052F),)),
    ("arabic", "ar", ((0x0600, 0x06FF), (0x0750, 0x077F), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))),
    ("hebrew", "he", ((0x0590, 0x05FF),)),
    ("greek", "el", ((0x0370, 0x03FF),)),
    ("kana", "ja", ((0x3040, 0x30FF),)),
    ("hangul", "ko", ((0xAC00, 0xD7AF), (0x1100, 0x11FF), (0x3130, 0x318F))),
    ("han", "zh", ((0x4E00, 0x9FFF), (0x3400, 0x4DBF))),
    ("thai", "th", ((0x0E00, 0x0E7F),)),
    ("devanagari", "hi", ((0x0900, 0x097F),)),
    ("bengali", "bn", ((0x0980, 0x09FF),)),
    ("tamil", "ta", ((0x0B80, 0x0BFF),)),
    ("georgian", "ka", ((0x10A0, 0x10FF),)),
    ("armenian", "hy", ((0x0530, 0x058F),)),
    ("ethiopic", "am", ((0x1200, 0x137F),)),
    ("khmer", "km", ((0x1780, 0x17FF),)),
    ("myanmar", "my", ((0x1000, 0x109F),)),
]
_MIN_LETTERS = 12
_MIN_WORDS = 4
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


def _script_of(ch: str) -> str:
    cp = ord(ch)
    for name, _, ranges in _SCRIPTS:
        if any(a <= cp <= b for a, b in ranges):
            return name
    return "latin" if "LATIN" in unicodedata.name(ch, "") else "other"


def _refine(script: str, code: str, text: str) -> str:
    """A closer guess within a script, from letters only some of its languages use."""
    if script == "cyrillic":
        if re.search(r"[іїєґІЇЄҐ]", text):
            return "uk"
        if re.search(r"[ўЎ]", text):
            return "be"
        if re.search(r"[ђћџљњЂЋЏЉЊ]", text):
            return "sr"
    if script == "arabic" and re.search(r"[پچژگ]", text):
        return "ur" if re.search(r"[ٹڈڑںے]", text) else "fa"
    return code


def detect_language(text: str) -> LanguageGuess:
    """Guess the language of ``text``.

    Parameters
    ----------
    text : str
        A note, or any part of one; a few sentences are enough.

    Returns
    -------
    LanguageGuess
        ``code`` is an ISO 639-1 code, or ``None`` when the text is too short (under
        4 words or 12 letters) or no language stands out; ``confidence`` is in [0, 1];
        ``supported`` is whether the model can suggest codes for it (:data:`MODEL_LANGUAGES`).

    Notes
    -----
    Text in Latin script is scored by frequent function words of English, French, Spanish,
    Portuguese, German, Italian and Dutch: the share of the text's words on each list, and
    the margin of the best over the runner-up. Other scripts are named by the script most of
    the letters are in (Cyrillic counts as Russian unless Ukrainian, Belarusian or Serbian
    letters appear; Arabic script as Arabic unless Persian or Urdu letters appear). A Latin
    text in another language (Romanian, Tagalog...) gets ``None``.
    """
    letters = [ch for ch in text if ch.isalpha()]
    words = [w.casefold() for w in _WORD.findall(text)]
    if len(letters) < _MIN_LETTERS:
        return LanguageGuess(None, 0.0, False)
    counts: dict[str, int] = {}
    for ch in letters:
        s = _script_of(ch)
        counts[s] = counts.get(s, 0) + 1
    script, n = max(counts.items(), key=lambda kv: kv[1])
    share = n / len(letters)
    if script == "han" and counts.get("kana"):
        script, share = "kana", (counts["kana"] + n) / len(letters)  # Japanese mixes both
    if script not in ("latin", "other"):
        code = next(c for name, c, _ in _SCRIPTS if name == script)
        code = _refine(script, code, text)
        conf = round(share, 3)
        return LanguageGuess(code if conf >= 0.5 else None, conf, code in MODEL_LANGUAGES
                             and conf >= 0.5)
    if len(words) < _MIN_WORDS:
        return LanguageGuess(None, 0.0, False)
    hits = {lang: sum(w.replace("’", "'").split("'")[0] in sw or w in sw for w in words)
            for lang, sw in _STOPWORDS.items()}
    ranked = sorted(hits.items(), key=lambda kv: -kv[1])
    (best, b), (_, second) = ranked[0], ranked[1]
    coverage = b / len(words)
    if b < 2 or coverage < 0.15:
        return LanguageGuess(None, round(coverage, 3), False)
    margin = (b - second) / b
    # enough function words (coverage ~0.3-0.5 in running text) and a clear margin
    conf = round(min(1.0, coverage / 0.3) * min(1.0, 0.2 + margin * 1.6), 3)
    if conf < 0.5:
        return LanguageGuess(None, conf, False)
    return LanguageGuess(best, conf, best in MODEL_LANGUAGES)
