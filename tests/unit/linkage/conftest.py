"""Shared, seeded fixtures: a simulated multi-agency dataset and its linkage results."""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow as pa
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from factories import Dataset, link_inputs, make_dataset

from tiplab.linkage import LinkInput, LinkResult, LinkSettings, encode, link

KEY_A = b"A" * 16 + b"test-key-one-not-secret"
KEY_B = b"B" * 16 + b"test-key-two-not-secret"

#: Hand-built records: (id, given, family, dob, sex, citizenship, phone).
HAND_A = [
    ("a1", "Mohammed", "Al Hassan", "1990-03-05", "M", "SYR", None),
    ("a2", "Олександр", "Петренко", "1985-11-02", "M", "UKR", None),
    ("a3", "Ioana", "Popescu", "1992-07-14", "F", "ROU", "0721555111"),
    ("a4", "Yusuf", "Okafor", "1988", "M", "NGA", "08012345678"),
    ("a5", "Ioana", "Popescu", "1971-01-30", "F", "ROU", "0744999222"),
]
HAND_B = [
    ("b1", "Muhammad", "Alhassan", "1990-03-05", "male", "Syria", None),
    ("b2", "Oleksandr", "Petrenko", "1985-02-11", "m", "Ukraine", None),
    ("b3", "Popescu", "Ioana", "1992-07-14", "f", "Romania", None),
    ("b4", "Youssef", "Okafor", "1988-04-09", "m", "Nigeria", "+234 801 234 5678"),
]
#: (left, right, same person?)
HAND_PAIRS = [
    ("a1", "b1", True),
    ("a2", "b2", True),
    ("a3", "b3", True),
    ("a4", "b4", True),
    ("a3", "a5", False),
    ("a5", "b3", False),
]


def hand_inputs() -> list[LinkInput]:
    out = []
    for name, rows in (("hand_a", HAND_A), ("hand_b", HAND_B)):
        cols = list(zip(*rows, strict=True))
        t = pa.table(
            {
                "id": list(cols[0]),
                "given": list(cols[1]),
                "family": list(cols[2]),
                "dob": list(cols[3]),
                "sex": list(cols[4]),
                "nat": list(cols[5]),
                "tel": list(cols[6]),
            }
        )
        out.append(
            LinkInput(
                name,
                t,
                "id",
                {
                    "first_name": "given",
                    "last_name": "family",
                    "birth_date": "dob",
                    "sex": "sex",
                    "citizenship": "nat",
                    "phone": "tel",
                },
            )
        )
    return out


@pytest.fixture(scope="session")
def dataset() -> Dataset:
    return make_dataset(1500, seed=11)


@pytest.fixture(scope="session")
def clear_result(dataset: Dataset) -> LinkResult:
    return link([*link_inputs(dataset), *hand_inputs()], LinkSettings())  # type: ignore[list-item]


@pytest.fixture(scope="session")
def encoded_inputs(dataset: Dataset) -> list[LinkInput]:
    out = []
    for inp in [*link_inputs(dataset), *hand_inputs()]:
        enc = encode(inp, KEY_A)  # type: ignore[arg-type]
        out.append(LinkInput(inp.source, enc, "record_id", encoded=True))  # type: ignore[attr-defined]
    return out


@pytest.fixture(scope="session")
def encoded_result(encoded_inputs: list[LinkInput]) -> LinkResult:
    return link(encoded_inputs, LinkSettings())
