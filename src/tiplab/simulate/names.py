"""Name tables and their spelling variants, drawn and rendered without a loop per record.

Every name of :mod:`tiplab.simulate.namelists` becomes one row of a *variant matrix*: the
canonical Latin spelling, the native script, two other transliterations, a nickname, two
one-edit typos and a Latin-1 safe form. Python touches only the few hundred distinct names
(to make typos, for example); records pick a column per row with NumPy and Arrow's ``take``.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass
class NameTable:
    """One kind of name (given or family) across languages."""

    variants: pa.Array  # flattened (n_names x N_VARIANTS) strings
    latin1_variants: pa.Array  # same, every entry encodable in cp1252
    offsets: dict[tuple[str, str], tuple[int, int]]  # (language, sex|'family') -> start, n

    def render(self, idx: np.ndarray, slot: np.ndarray, latin1: bool = False) -> pa.Array:
        flat = self.latin1_variants if latin1 else self.variants
        return pc.take(flat, pa.array(idx.astype(np.int64) * N_VARIANTS + slot))


def _row(entry: NameEntry, rng: np.random.Generator) -> list[str]:
    if isinstance(entry, str):
        native, latin, alts = entry, entry, []
    else:
        native, latin, *alts = entry
    alt1 = alts[0] if alts else latin
    alt2 = alts[1] if len(alts) > 1 else alt1
    nick = NICKNAMES.get(latin, latin)
    return [latin, native, alt1, alt2, nick, _typo(latin, rng), _typo(latin, rng)]


def _latin1(text: str) -> str:
    try:
        text.encode("cp1252")
        return text
    except UnicodeEncodeError:
        return anyascii(text)


def build_tables(seed: int) -> tuple[NameTable, NameTable]:
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
            )
        )
    return tables[0], tables[1]


def draw(
    table: NameTable, groups: np.ndarray, keys: list[tuple[str, str]], rng: np.random.Generator
) -> np.ndarray:
    """Draw a name index per record; ``groups`` indexes ``keys`` (language, kind).

    Earlier names of a list are more common (u**1.6 skews the pick), as real name
    frequencies are.
    """
    start = np.array([table.offsets[k][0] for k in keys])
    count = np.array([table.offsets[k][1] for k in keys])
    u = rng.random(len(groups)) ** 1.6
    return np.asarray(start[groups] + np.floor(u * count[groups]).astype(np.int64))


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
