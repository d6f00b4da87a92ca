"""Files the policy stores write: whole or not at all."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml


def write_text_whole(path: Path, text: str) -> Path:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``: a
    crash leaves the previous file (or none), never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_yaml(source: str | Path, name: str | None,
              error: Callable[[list[str], str | None], Exception],
              suffixes: tuple[str, ...] = (".yaml", ".yml")
              ) -> tuple[yaml.Node | None, Any, str | None, Path | None]:
    """YAML (or JSON) text, or a file named by a path (a ``str`` without a newline ending in
    one of ``suffixes``): its node tree (for line numbers), its data, its name for messages
    and its path. Unreadable or malformed input raises ``error(problems, name)``."""
    path: Path | None = None
    if isinstance(source, Path) or ("\n" not in source
                                    and source.lower().endswith(suffixes)):
        path = Path(source)
        name = name or str(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as e:
            raise error([f"cannot read the file: {e}"], name) from e
    else:
        text = str(source)
    try:
        return yaml.compose(text), yaml.safe_load(text), name, path
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise error([f"{where}not valid YAML ({getattr(e, 'problem', e)})"], name) from e
