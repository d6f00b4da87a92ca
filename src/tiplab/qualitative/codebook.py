"""The codebook: the codes an analyst applies to spans of interview notes.

The shipped codebook (package data ``data/codebook.yaml``, written by
``scripts/make_codebook.py`` from the project's reference file) holds the 11 ILO indicators of
forced labour (``FL01``-``FL11``), the ILO-European Commission operational indicators of
trafficking with their strength (``OP.D1.JOB`` ...), and themes written for tiplab:
vulnerabilities (``VU.*``), recruitment (``RE.*``), barriers to justice (``BJ.*``) and service
gaps (``SG.*``). An organisation may edit it; every change goes through :meth:`Codebook.from_dict`
or :func:`load_codebook`, which refuse a duplicate key, an empty label, an unknown group or a
bad strength with a message that says where.

The codebook is a guide for human coders and for the suggestion model; it is not a legal
test. Indicators support screening and referral, never a determination that someone is or is
not a victim.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from tiplab.errors import TiplabError

__all__ = ["FIELDS", "GROUPS", "STRENGTHS", "Code", "Codebook", "CodebookError",
           "UnknownCode", "default_codebook", "load_codebook"]

GROUPS = ("forced_labour", "operational", "vulnerability", "recruitment", "barriers",
          "service_gaps")
STRENGTHS = ("strong", "medium", "weak")
#: the fields of one code in the YAML / dict form, in the order written
FIELDS = ("key", "label", "group", "description", "cues", "strength", "strengths", "related",
          "source")
_KEY = re.compile(r"[A-Z][A-Z0-9]*(?:\.[A-Z0-9][A-Z0-9_]*)*")


class CodebookError(TiplabError):
    """A codebook is malformed (duplicate key, empty label, unknown group, bad strength...)."""


class UnknownCode(CodebookError, KeyError):
    """A key that is not in the codebook (also a :class:`KeyError`)."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Code:
    """One code of the codebook.

    Parameters
    ----------
    key : str
        Unique, upper-case, dot-separated: ``"FL02"``, ``"OP.D1.JOB"``, ``"VU.DEBT"``.
    label : str
        Short name shown to coders ("Deception").
    group : str
        One of :data:`GROUPS`.
    description : str
        What the code means, one or two sentences (the zero-shot model reads it too).
    cues : tuple of str
        English cue phrases (heuristics for the keyword baseline; may be empty).
    strength : str, optional
        For operational indicators, the strength in the adult labour-exploitation list
        ("strong", "medium", "weak"); ``None`` otherwise.
    source : str
        Where the code comes from.
    strengths : tuple of (profile, strength)
        Strength per ILO-EC profile (``adult_labour``, ``child_labour``); a profile whose list
        does not hold the indicator is left out.
    related : tuple of str
        Keys of related codes (an operational indicator's ILO forced-labour indicators).
    """

    key: str
    label: str
    group: str
    description: str
    cues: tuple[str, ...] = ()
    strength: str | None = None
    source: str = ""
    strengths: tuple[tuple[str, str], ...] = ()
    related: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problem = _code_problem(self)
        if problem:
            raise CodebookError(f"code {self.key!r}: {problem}")

    def as_dict(self) -> dict[str, Any]:
        """The YAML/JSON form (lists, not tuples)."""
        return {"key": self.key, "label": self.label, "group": self.group,
                "description": self.description, "cues": list(self.cues),
                "strength": self.strength,
                "strengths": {p: s for p, s in self.strengths},
                "related": list(self.related), "source": self.source}


def _code_problem(c: Code) -> str | None:
    """What is wrong with a code (and how to fix it), or ``None``."""
    if not isinstance(c.key, str) or not _KEY.fullmatch(c.key):
        return ("bad key: use upper-case letters, digits and dots, starting with a letter "
                "(e.g. 'FL02', 'VU.DEBT')")
    if not isinstance(c.label, str) or not c.label.strip():
        return "empty label: give the code a short name"
    if c.group not in GROUPS:
        return f"unknown group {c.group!r}: use one of {', '.join(GROUPS)}"
    if not isinstance(c.description, str):
        return "the description must be text"
    if not isinstance(c.cues, tuple) or not all(isinstance(q, str) and q.strip()
                                                for q in c.cues):
        return "cues must be a list of non-empty phrases"
    if c.strength is not None and c.strength not in STRENGTHS:
        return (f"bad strength {c.strength!r}: use one of {', '.join(STRENGTHS)}, or leave it "
                "empty")
    for item in c.strengths:
        if (not isinstance(item, tuple) or len(item) != 2 or not isinstance(item[0], str)
                or item[1] not in STRENGTHS):
            return (f"bad strength {item!r} in strengths: give each profile one of "
                    f"{', '.join(STRENGTHS)}")
    if not isinstance(c.related, tuple) or not all(isinstance(r, str) for r in c.related):
        return "related must be a list of code keys"
    if not isinstance(c.source, str):
        return "the source must be text"
    return None


@dataclass(frozen=True)
class Codebook:
    """A named, versioned set of codes with unique keys."""

    name: str
    version: str
    codes: tuple[Code, ...]
    source: str = ""
    _index: dict[str, Code] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise CodebookError("the codebook has no name: give it one ('name: ...')")
        if not isinstance(self.version, str) or not self.version.strip():
            raise CodebookError(f"codebook {self.name!r} has no version: give it one "
                                "('version: \"1\"')")
        codes = tuple(self.codes)
        object.__setattr__(self, "codes", codes)
        seen: dict[str, int] = {}
        for i, c in enumerate(codes):
            if not isinstance(c, Code):
                raise CodebookError(f"codes[{i}] is not a Code")
            if c.key in seen:
                raise CodebookError(f"duplicate code key {c.key!r}: codes[{seen[c.key]}] and "
                                    f"codes[{i}]; give each code its own key")
            seen[c.key] = i
        object.__setattr__(self, "_index", {c.key: c for c in codes})

    def get(self, key: str) -> Code:
        """The code with this key; :class:`UnknownCode` if there is none."""
        try:
            return self._index[key]
        except KeyError:
            raise UnknownCode(f"unknown code {key!r}: it is not in codebook {self.name!r} "
                              f"version {self.version!r}") from None

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def __len__(self) -> int:
        return len(self.codes)

    def keys(self) -> tuple[str, ...]:
        """The keys, in codebook order."""
        return tuple(c.key for c in self.codes)

    def groups(self) -> dict[str, tuple[Code, ...]]:
        """Codes by group, groups in :data:`GROUPS` order (groups with no code left out)."""
        out: dict[str, tuple[Code, ...]] = {}
        for g in GROUPS:
            members = tuple(c for c in self.codes if c.group == g)
            if members:
                out[g] = members
        return out

    def as_dict(self) -> dict[str, Any]:
        """The YAML/JSON form; :meth:`from_dict` reads it back."""
        out: dict[str, Any] = {"name": self.name, "version": self.version}
        if self.source:
            out["source"] = self.source
        out["codes"] = [c.as_dict() for c in self.codes]
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, lines: list[int] | None = None) -> Codebook:
        """A validated codebook from its dict form.

        Parameters
        ----------
        d : mapping
            ``{"name": ..., "version": ..., "codes": [{"key": ..., ...}, ...]}``.
        lines : list of int, optional
            The line of each code in its file, used in error messages.

        Raises
        ------
        CodebookError
            On a missing or unknown field, a duplicate key, an empty label, an unknown group
            or a bad strength; the message names the code and its position.
        """
        if not isinstance(d, Mapping):
            raise CodebookError("a codebook must be a mapping with 'name', 'version' and "
                                "'codes'")
        unknown = sorted(set(d) - {"name", "version", "codes", "source"})
        if unknown:
            raise CodebookError(f"unknown codebook field(s) {', '.join(map(repr, unknown))}: "
                                "use name, version, codes (and optionally source)")
        raw = d.get("codes")
        if not isinstance(raw, list) or not raw:
            raise CodebookError("the codebook has no codes: give a list under 'codes'")

        def where(i: int) -> str:
            line = f", line {lines[i]}" if lines and i < len(lines) else ""
            key = raw[i].get("key") if isinstance(raw[i], Mapping) else None
            return f"codes[{i}]" + (f" (key {key!r}{line})" if key else line)

        first: dict[str, int] = {}
        codes: list[Code] = []
        for i, item in enumerate(raw):
            if not isinstance(item, Mapping):
                raise CodebookError(f"{where(i)}: a code must be a mapping with key, label, "
                                    "group and description")
            extra = sorted(set(item) - set(FIELDS))
            if extra:
                raise CodebookError(f"{where(i)}: unknown field(s) "
                                    f"{', '.join(map(repr, extra))}; use {', '.join(FIELDS)}")
            missing = [f for f in ("key", "label", "group") if item.get(f) is None]
            if missing:
                raise CodebookError(f"{where(i)}: missing {', '.join(missing)}")
            key = item["key"]
            if key in first:
                j = first[key]
                raise CodebookError(
                    f"duplicate code key {key!r}: {where(j)} and {where(i)}; give each code "
                    "its own key")
            first[key] = i
            try:
                codes.append(_code_from(item))
            except CodebookError as e:
                raise CodebookError(f"{where(i)}: {_strip_prefix(str(e))}") from e
            except (TypeError, ValueError, AttributeError) as e:
                raise CodebookError(f"{where(i)}: malformed field ({e})") from e
        version = d.get("version")
        source = d.get("source")
        return cls(name=str(d.get("name") or ""),
                   version="" if version is None else str(version), codes=tuple(codes),
                   source=source.strip() if isinstance(source, str) else "")

    def content_hash(self) -> str:
        """sha256 of the canonical JSON form (provenance of suggestions and classifiers)."""
        blob = json.dumps(self.as_dict(), sort_keys=True, ensure_ascii=False,
                          separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _strip_prefix(message: str) -> str:
    return re.sub(r"^code '[^']*': ", "", message)


def _text(item: Mapping[str, Any], name: str) -> str:
    value = item.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CodebookError(f"{name} must be text, not {type(value).__name__}")
    return value.strip()


def _code_from(item: Mapping[str, Any]) -> Code:
    cues = item.get("cues") or []
    if isinstance(cues, str) or not isinstance(cues, list):
        raise CodebookError("cues must be a list of phrases")
    strengths = item.get("strengths") or {}
    if not isinstance(strengths, Mapping):
        raise CodebookError("strengths must be a mapping of profile to strength")
    related = item.get("related") or []
    if isinstance(related, str) or not isinstance(related, list):
        raise CodebookError("related must be a list of code keys")
    strength = item.get("strength")
    return Code(key=item["key"], label=_text(item, "label"), group=item["group"],
                description=_text(item, "description"),
                cues=tuple(q.strip() if isinstance(q, str) else q for q in cues),
                strength=strength.strip().lower() if isinstance(strength, str) else strength,
                source=_text(item, "source"),
                strengths=tuple((str(p), s) for p, s in strengths.items() if s is not None),
                related=tuple(related))


def _code_lines(text: str) -> list[int]:
    """The 1-based line of each item under ``codes`` (for error messages)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    if not isinstance(node, yaml.MappingNode):
        return []
    for k, v in node.value:
        if getattr(k, "value", None) == "codes" and isinstance(v, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in v.value]
    return []


def load_codebook(path_or_text: str | Path) -> Codebook:
    """A codebook from a YAML file or YAML text.

    Parameters
    ----------
    path_or_text : str or Path
        A :class:`~pathlib.Path`, a string naming an existing ``.yaml``/``.yml`` file, or the
        YAML text itself.

    Raises
    ------
    CodebookError
        When the file cannot be read, is not YAML, or the codebook is invalid; the message
        names the file and the line of the offending code.
    """
    label = "the codebook text"
    if isinstance(path_or_text, Path) or (
            isinstance(path_or_text, str) and "\n" not in path_or_text
            and path_or_text.strip().lower().endswith((".yaml", ".yml"))):
        path = Path(path_or_text)
        label = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise CodebookError(f"cannot read the codebook {path}: {e}") from e
    else:
        text = str(path_or_text)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise CodebookError(f"{label} is not valid YAML: {e}") from e
    try:
        return Codebook.from_dict(data, lines=_code_lines(text))
    except CodebookError as e:
        raise CodebookError(f"{label}: {e}") from e


@lru_cache(maxsize=1)
def default_codebook() -> Codebook:
    """The shipped codebook (ILO indicators and tiplab's themes)."""
    text = resources.files("tiplab.qualitative").joinpath("data", "codebook.yaml").read_text(
        encoding="utf-8")
    return load_codebook(text)
