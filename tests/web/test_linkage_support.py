"""Seeded test data for the linkage and estimation pages: a few hundred case records of the
same people seen by three agencies (with spelling noise), imported through the real
``run_import`` pipeline so identifiers are sealed as in production, plus the truth file the
demo simulator would write. Also builders of runs owned by a given user (permission ladder)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from tests.web import test_cases_support as cs

from tiplab.store import run_import
from tiplab_web.cases import services as case_services

AGENCIES = ("police", "ngo", "hotline")
SEEN = {"police": 0.7, "ngo": 0.5, "hotline": 0.35}
_SYL = ("ka", "lo", "mi", "ra", "te", "su", "no", "vi", "da", "be", "zo", "pe", "ni", "ga",
        "ru", "fa", "xe", "to", "li", "ma")
REGIONS = ("RO-B", "RO-CJ")
FORMS = ("Labour exploitation", "Sexual exploitation")
FORM_RECODED = 0.15


def _name(rng: np.random.Generator, syllables: int) -> str:
    return "".join(rng.choice(_SYL, syllables)).capitalize()


def _typo(rng: np.random.Generator, s: str) -> str:
    i = int(rng.integers(1, len(s) - 1))
    return s[:i] + s[i + 1] + s[i] + s[i + 2:]


def people(n: int = 150, seed: int = 7) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        sources = [a for a in AGENCIES if rng.random() < SEEN[a]] or ["police"]
        out.append({
            "id": f"T{i:04d}", "given": _name(rng, 2), "family": _name(rng, 3),
            "dob": f"{int(rng.integers(1,28)):02d}.{int(rng.integers(1,13)):02d}."
                   f"{int(rng.integers(1970, 2005))}",
            "sex": str(rng.choice(["F", "M"], p=[0.7, 0.3])),
            "nat": str(rng.choice(["ROU", "MDA", "UKR", "BGR"])),
            "region": str(rng.choice(REGIONS)), "form": str(rng.choice(FORMS)),
            "year": int(rng.choice([2022, 2023])),
            "phone": f"+999 {int(rng.integers(100000, 999999))}",
            "sources": sources, "noise": rng.random(len(AGENCIES)),
        })
    # siblings: another person with the same family name, phone and nationality and a close
    # birth date -- the pairs a model is unsure about (the review queue's material)
    for j in range(n // 8):
        p = dict(out[j], id=f"S{j:04d}", given=_name(rng, 2),
                 dob=out[j]["dob"][:3] + f"{int(rng.integers(1, 13)):02d}" + out[j]["dob"][5:],
                 sources=list(out[j]["sources"]), noise=rng.random(len(AGENCIES)))
        out.append(p)
    return out


def agency_csv(persons: list[dict[str, Any]], agency: str) -> tuple[str, list[tuple[str, str]]]:
    """The agency's export (the test profile's layout) and its truth rows."""
    rng = np.random.default_rng(len(agency))
    lines, truth = [cs.HEADER], []
    k = AGENCIES.index(agency)
    for n, p in enumerate(x for x in persons if agency in x["sources"]):
        rid = f"{agency[0].upper()}-{n + 1}"
        family = _typo(rng, p["family"]) if p["noise"][k] < 0.15 else p["family"]
        dob = "" if 0.15 <= p["noise"][k] < 0.3 else p["dob"]
        given = _typo(rng, p["given"]) if 0.2 <= p["noise"][k] < 0.3 else p["given"]
        phone = p["phone"] if agency != "ngo" else ""
        # agencies classify one case differently at times (as in tiplab.simulate): the form
        # is weak evidence, never a key
        form = p["form"] if rng.random() >= FORM_RECODED else FORMS[1 - FORMS.index(p["form"])]
        lines.append(f"{rid},15.03.{p['year']},{given},{family},{dob},,{p['sex']},"
                     f"{p['nat']},{p['region']},{form},{phone}\n")
        truth.append((rid, p["id"]))
    return "".join(lines), truth


def profile_for(agency: str) -> str:
    return cs.PROFILE.replace("source_agency: police", f"source_agency: {agency}").replace(
        "profile: test_police", f"profile: test_{agency}")


def seed_records(n: int = 150, seed: int = 7, agencies: tuple[str, ...] = AGENCIES) -> list[str]:
    """Import every agency's export through ``run_import``; write the truth file where the
    demo keeps it. Returns the clear names used (to search files for leaks)."""
    persons = people(n, seed)
    data_dir = Path(settings.DATA_DIR)
    truth_rows = []
    for agency in agencies:
        text, truth = agency_csv(persons, agency)
        path = data_dir / f"linkage-test-{agency}-{seed}.csv"
        path.write_text(text, encoding="utf-8")
        run_import(case_services.store(), path,
                   case_services.parse(profile_for(agency), "test"), user="setup")
        truth_rows += [(agency, rid, tid) for rid, tid in truth]
    tdir = data_dir / "demo" / "truth"
    tdir.mkdir(parents=True, exist_ok=True)
    with (tdir / "records.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["source", "record_id", "true_id"])
        w.writerows(truth_rows)
    return [p["family"] for p in persons] + [p["given"] for p in persons]


# -- runs owned by a user (permission ladder, page tests) -----------------------------------
def make_link_run(world: Any, user: Any, **extra: Any) -> Any:
    """A finished link run of the user's organisation with a one-pair review queue."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tiplab_web.core.access import organisation_of
    from tiplab_web.linkage import services
    from tiplab_web.linkage.models import LinkRun

    run = LinkRun.objects.create(
        organisation=organisation_of(user), created_by=user, status=LinkRun.DONE,
        settings={"sources": ["police", "ngo"], "mode": "clear",
                                "threshold": None,
                                "link_settings": {"review_low": 0.5, "review_high": 0.95}},
        records=3, persons=2, pairs_scored=1, pairs_above_threshold=1,
        records_by_agency={"ngo": 1, "police": 2}, threshold=0.9,
        threshold_choice={"threshold": 0.9, "chosen_by": "max estimated F1", "reason": "r",
                          "assumptions": "a", "tradeoff": [
                              {"threshold": 0.9, "pairs": 1, "expected_matches": 0.9,
                               "precision": 0.9, "recall": 1.0, "f1": 0.947}]},
        capture_patterns=[{"pattern": ["ngo", "police"], "agencies": 2, "persons": 1},
                          {"pattern": ["police"], "agencies": 1, "persons": 1}],
        persons_by_agency_count={"1": 1, "2": 1}, review_pairs=1, **extra)
    out = services.run_dir(run)
    out.mkdir(parents=True, exist_ok=True)
    (out / "threshold.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    pq.write_table(pa.table({"source_l": ["police"], "record_id_l": ["P-1"],
                             "source_r": ["ngo"], "record_id_r": ["N-1"],
                             "match_probability": [0.7], "match_weight": [1.2],
                             "mw_name": [2.0]}), out / "review_queue.parquet")
    pq.write_table(pa.table({"source": ["police", "police", "ngo"],
                             "record_id": ["P-1", "P-2", "N-1"],
                             "person_id": ["Pa", "Pb", "Pa"]}), out / "clusters.parquet")
    pq.write_table(pa.table({"source_l": ["police", "police"], "record_id_l": ["P-1", "P-1"],
                             "source_r": ["ngo", "police"], "record_id_r": ["N-1", "P-2"],
                             "match_probability": [0.7, 0.2], "match_weight": [1.2, -2.0]}),
                   out / "pairs.parquet")
    return run


def sample_pair_kwargs(world: Any, user: Any) -> dict[str, Any]:
    """A finished run with a drawn quality sample (pair 0 exists)."""
    from tiplab_web.linkage import quality

    run = make_link_run(world, user)
    quality.draw(user, run, 20)
    return {"pk": run.pk, "index": 0}


def link_run_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {"pk": make_link_run(world, user).pk}


def review_pair_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {"pk": make_link_run(world, user).pk, "index": 0}


def make_estimation_run(world: Any, user: Any) -> Any:
    from tiplab_web.core.access import organisation_of
    from tiplab_web.estimates import services
    from tiplab_web.estimates.models import EstimationRun

    run = EstimationRun.objects.create(
        organisation=organisation_of(user), created_by=user, status=EstimationRun.DONE,
        input_kind=EstimationRun.SHIPPED, input_name="korea_palembang_3lists.csv",
        input_sha256="0" * 64, parameters={"method": "main", "nboot": 0, "seed": 1},
        result={"overall": {"method": "main", "observed": 10, "estimate": 12.5,
                            "dark_figure": 2.5, "interval": [11.0, 15.0],
                            "interval_type": "log-normal", "terms": [],
                            "minus_infinity_terms": [], "checks": {}, "fit": {}},
                "warnings": [], "list_sizes": {"A": 5, "B": 7}, "charts": ["methods"]})
    out = services.run_dir(run)
    out.mkdir(parents=True, exist_ok=True)
    (out / "methods.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    return run


def estimation_run_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {"pk": make_estimation_run(world, user).pk}


def chart_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {**estimation_run_kwargs(world, user), "name": "methods", "fmt": "svg"}
