"""Ingest agency exports: readers, mapping profiles, validation, the import pipeline."""

from tiplab.ingest.infer import infer_profile
from tiplab.ingest.pipeline import PreparedImport, prepare_import
from tiplab.ingest.profiles import Profile, builtin_profiles, load_profile, parse_profile
from tiplab.ingest.readers import RawTable, read_file
from tiplab.ingest.validate import REASONS, Validated, validate

__all__ = [
    "REASONS", "PreparedImport", "Profile", "RawTable", "Validated", "builtin_profiles",
    "infer_profile", "load_profile", "parse_profile", "prepare_import", "read_file", "validate",
]
