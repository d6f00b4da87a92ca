"""Write ``src/tiplab/privacy/gazetteers/ambiguous.txt``: gazetteer names and places that are
everyday words.

A one-word entry of the name or place gazetteer that the project's own prose writes in lower
case (mid-sentence, so not a proper noun) is an everyday word of that language: the English
docs (``docs/*.md``, ``README.md``) and the French and Spanish interface translations
(``msgstr`` of ``src/tiplab_web/locale/*/LC_MESSAGES/django.po``). Such entries are then
masked only with more evidence. The labelled set is not read, so the figures measured on it
stay honest. Run from the repository root, after changing a gazetteer:

    python tests/results/redaction/ambiguous_words.py
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from tiplab.privacy import redact as r

ROOT = Path(__file__).resolve().parents[3]
OUT = ROOT / "src/tiplab/privacy/gazetteers/ambiguous.txt"


def _no_code(markdown: str) -> str:
    """Markdown without code blocks, inline code and links' targets (identifiers, not prose)."""
    markdown = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    markdown = re.sub(r"`[^`]*`", " ", markdown)
    return re.sub(r"\]\([^)]*\)", "]", markdown)


def _prose() -> list[str]:
    docs = [*sorted(ROOT.glob("docs/*.md")), ROOT / "README.md"]
    texts = [_no_code(p.read_text(encoding="utf-8")) for p in docs]
    for po in sorted(ROOT.glob("src/tiplab_web/locale/*/LC_MESSAGES/django.po")):
        body = po.read_text(encoding="utf-8")
        for m in re.finditer(r'^msgstr\s+"(.*)"\n((?:".*"\n)*)', body, re.M):
            texts.append(m.group(1) + "".join(re.findall(r'^"(.*)"$', m.group(2), re.M)))
    return texts


def main() -> None:
    gaz = r._gazetteer()
    single = gaz.names | {k[0] for k in gaz.places if len(k) == 1}
    already = r._common_words(None) - r._words("ambiguous.txt")
    seen: Counter[str] = Counter()
    for text in _prose():
        for m in re.finditer(r"(?<=[a-zà-ÿ,] )[a-zà-ÿ]+\b", text):
            key = r._fold(m.group())
            if key in single and key not in already and len(key) >= 3:
                seen[key] += 1
    words = sorted(seen)
    header = OUT.read_text(encoding="utf-8").split("\n# ---\n")[0]
    OUT.write_text(header + "\n# ---\n" + "\n".join(words) + "\n", encoding="utf-8")
    print(f"{len(words)} words -> {OUT}")


if __name__ == "__main__":
    main()
