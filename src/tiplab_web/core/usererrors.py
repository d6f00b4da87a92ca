"""Error messages for web pages: the words of ``tiplab``'s errors, in the user's terms.

The library's messages are written for the command line: they name the file by its path
(``/srv/tiplab-data/uploads/intake/…/police.csv``), may carry the wording of the library that
failed underneath (DuckDB's "Invalid Input Error: Error when sniffing file", Python's
"'utf-8' codec can't decode byte 0xe0") and suggest command-line flags. A web page shows
the name the user gave the file, plain words for what is wrong, and buttons instead of flags.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _


def _roots() -> list[str]:
    roots = {str(settings.DATA_DIR), tempfile.gettempdir(), str(Path(settings.BASE_DIR).parent)}
    roots |= {"/tmp", "/var", "/srv", "/home", "/opt", "/usr", "/work", "/root", "/mnt"}  # noqa: S108 - matched, not used
    return sorted((r.rstrip("/") for r in roots if r and r != "/"), key=len, reverse=True)


def _path_pattern() -> re.Pattern[str]:
    alternatives = "|".join(re.escape(r) for r in _roots())
    # a path starts at one of the server's roots and runs until a space, quote, comma or colon
    return re.compile(rf"(?<![\w/])(?:{alternatives})(?:/[^\s'\",:;()]*)?")


def _not_utf8(m: re.Match[str]) -> str:
    return _("the file is not UTF-8 text (save it as \"CSV UTF-8\" and upload it again)")


def _not_a_number(m: re.Match[str]) -> str:
    return _("'%(value)s' is not a number") % {"value": m.group("value")}


def _not_a_table(m: re.Match[str]) -> str:
    return _("the file could not be read as a table; is it a CSV file with a header row, or "
             "a spreadsheet or binary file saved under a .csv name?")


#: library wording -> plain words (first match of each pattern; order matters)
_REWRITES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"'[\w-]+' codec can't decode byte 0x[0-9a-f]+ in position \d+"
                r"(?::[^;\n]*)?", re.IGNORECASE), _not_utf8),
    (re.compile(r"could not convert string to float: '(?P<value>[^']*)'"), _not_a_number),
    (re.compile(r"invalid literal for int\(\) with base \d+: '(?P<value>[^']*)'"),
     _not_a_number),
    (re.compile(r"(?:cannot parse as CSV[^\n]*?)?\b(?:Invalid Input|Conversion|Parser|Binder|"
                r"IO|Invalid|Catalog) Error:.*", re.DOTALL), _not_a_table),
]

#: command-line advice that a page replaces with a button or a link
_CLI_ADVICE = re.compile(
    r"\s*(?:To correct that batch, )?import the corrected file with --supersede \S+\.?"
    r"|\s*\(?(?:use|pass|run with|rerun with) --[\w-]+[^.;)]*\)?\.?", re.IGNORECASE)


def for_page(error: BaseException | str, *, files: Mapping[Any, str] | None = None) -> str:
    """``error``'s message as a web page shows it.

    ``files`` maps server paths (``Path`` or ``str``) to the names the user knows them by
    (an upload's original file name); any other server path is shortened to its file name.
    """
    text = str(error)
    for path, name in (files or {}).items():
        text = text.replace(str(path), name)
    text = _path_pattern().sub(lambda m: Path(m.group(0)).name or "…", text)
    for pattern, plain in _REWRITES:
        text = pattern.sub(plain, text, count=1)
    text = _CLI_ADVICE.sub("", text).strip()
    return text or _("The file could not be processed.")
