"""The import pipeline, storage-agnostic: read -> map -> validate -> a prepared import.

:func:`prepare_import` does all the work that can fail on bad input and returns a
:class:`PreparedImport`; a store (:mod:`tiplab.store`) then writes it in one transaction, so an
import lands whole or not at all.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from tiplab import __version__
from tiplab.ingest.profiles import Profile, load_profile
from tiplab.ingest.readers import RawTable, read_file
from tiplab.ingest.validate import Validated, validate
from tiplab.records.schema import get_schema


@dataclass
class PreparedImport:
    """A validated file, ready to be stored as one batch."""

    path: Path
    profile: Profile
    source_agency: str
    raw: RawTable
    result: Validated
    prepared_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def kind(self) -> str:
        return self.profile.kind

    @property
    def schema_version(self) -> str:
        return get_schema(self.profile.kind).version

    def summary(self) -> dict[str, Any]:
        """The counts the CLI's ``--json`` and the web preview show."""
        r = self.result
        return {
            "file": self.path.name,
            "sha256": self.raw.sha256,
            "bytes": self.raw.size,
            "format": self.raw.format,
            "encoding": self.raw.encoding,
            "delimiter": self.raw.delimiter,
            "profile": self.profile.profile,
            "kind": self.profile.kind,
            "schema_version": self.schema_version,
            "source": self.source_agency,
            "rows": r.rows_read,
            "accepted": r.accepted.num_rows,
            "rejected": r.rejected.num_rows,
            "warnings": r.warnings,
            "censored": r.censored,
            "skipped_empty_rows": self.raw.skipped_empty_rows,
            "reasons": r.reasons,
            "tiplab_version": __version__,
        }


def prepare_import(path: str | os.PathLike[str], profile: Profile | str,
                   source_agency: str | None = None, *,
                   existing_ids: pa.Table | None = None,
                   today: dt.date | None = None,
                   sha256: str | None = None) -> PreparedImport:
    """Read and validate ``path`` with ``profile``.

    ``source_agency`` defaults to the profile's ``source_agency``; ``sha256`` is the file's
    checksum if already computed. Raises
    :class:`tiplab.errors.ReadError` or :class:`tiplab.errors.ProfileError` when the file as a
    whole cannot be read with the profile; row-level problems never raise, they are returned.
    """
    prof = profile if isinstance(profile, Profile) else load_profile(profile)
    source = source_agency or prof.source_agency
    if not source:
        from tiplab.errors import IngestError

        raise IngestError("no source agency: pass --source AGENCY (the profile "
                          f"{prof.profile!r} names none)")
    raw = read_file(path, prof.read, sha256=sha256)
    result = validate(raw, prof, source, today=today, existing_ids=existing_ids)
    return PreparedImport(path=Path(path), profile=prof, source_agency=source, raw=raw,
                          result=result)
