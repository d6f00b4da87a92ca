"""Import one batch after another into TIPLAB_DATA_DIR until STOP_FILE exists (or FILES are
done), printing ``committed <batch id> <records>`` after each: the writer a backup must stay
consistent against.

Usage: python tests/unit/backup/import_loop.py STOP_FILE [--files 40] [--rows 3000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("stop", type=Path)
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--rows", type=int, default=3000)
    args = ap.parse_args()

    from tests.unit.ingest.factories import police_profile, row, write_csv

    from tiplab.config import data_dir
    from tiplab.store import open_store, run_import

    store = open_store(data_dir())
    work = store.data_dir.parent / "import-loop"
    work.mkdir(exist_ok=True)
    profile = police_profile()
    for i in range(args.files):
        if args.stop.exists():
            break
        path = write_csv(work / f"f{i}.csv", [row(Case_No=f"F{i}-{j}", First_name=f"N{j}")
                                              for j in range(args.rows)])
        batch, _ = run_import(store, path, profile, "Police", user="loop")
        assert batch is not None
        print("committed", batch.batch_id, batch.accepted, flush=True)


if __name__ == "__main__":
    main()
