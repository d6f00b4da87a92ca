"""Small pure functions that build SQL text (testable without a database)."""

from __future__ import annotations


def ident(name: str) -> str:
    """Quote an identifier for DuckDB."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: object) -> str:
    """A SQL literal for a str, int, float, bool or None."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def lit_list(values: object) -> str:
    items = list(values)  # type: ignore[call-overload]
    if not items:
        return "[]::VARCHAR[]"
    return "[" + ", ".join(lit(v) for v in items) + "]"
