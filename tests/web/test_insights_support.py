"""Demo-like data for the analytics pages: a small simulated country (police and NGO exports,
its regions and adjacency) and GLOTIP's rows for two countries, imported through the real
``run_import`` into a fresh data directory per test."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

from tiplab.store import run_import
from tiplab_web.cases import services as case_services

REPO = Path(__file__).resolve().parents[2]
GLOTIP_CSV = REPO.parent / "shared" / "data" / "unodc_glotip" / "data_glotip.csv"
GLOTIP_COUNTRIES = ("GBR", "ROU")


def simulate(out: Path) -> Path:
    """``tiplab simulate`` at a small size (once per session) plus a GLOTIP extract."""
    subprocess.run([sys.executable, "-m", "tiplab", "simulate", "--seed", "7",
                    "--victims", "2500", "--years", "2016-2023", "--agencies",
                    "police,ngo_shelters,immigration", "--out", str(out / "demo"), "--json"],
                   check=True, stdout=subprocess.DEVNULL)
    with GLOTIP_CSV.open(encoding="utf-8", newline="") as src, \
            (out / "glotip_extract.csv").open("w", encoding="utf-8", newline="") as dst:
        reader = csv.reader(src)
        writer = csv.writer(dst)
        writer.writerow(next(reader))
        writer.writerows(r for r in reader if r[0] in GLOTIP_COUNTRIES)
    return out


def load(tmp_path: Path, simulated_country: Path) -> Path:
    """Fill ``tmp_path`` (already ``settings.DATA_DIR``; database access needed) with the
    simulated country's records and the GLOTIP extract."""
    shutil.copytree(simulated_country / "demo", tmp_path / "demo")
    store = case_services.store()
    run_import(store, simulated_country / "glotip_extract.csv", "glotip", None, user="setup")
    for agency in ("police", "ngo_shelters", "immigration"):
        files = [f for f in (tmp_path / "demo").iterdir()
                 if f.stem == agency and f.suffix != ".yaml"]
        run_import(store, files[0], str(tmp_path / "demo" / f"{agency}.profile.yaml"), agency,
                   user="setup")
    return tmp_path


def glotip_value(country: str, year: int, indicator: str = "Detected trafficking victims"
                 ) -> int:
    """The source CSV's Total/Total count, read independently of tiplab."""
    with GLOTIP_CSV.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh)
                if r["Iso3_code"] == country and r["Indicator"] == indicator
                and r["Dimension"] == "Total" and r["Sex"] == "Total" and r["Age"] == "Total"
                and r["Year"] == str(year)]
    assert len(rows) == 1, rows
    return int(rows[0]["txtVALUE"].replace(",", ""))  # the CSV writes "10,627"
