"""Make the estimation test helpers and the reference numbers (tests/results) importable."""

from __future__ import annotations

import sys
from pathlib import Path

_here = Path(__file__).resolve().parent
for p in (_here, _here.parents[1]):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))
