"""Bring a data directory to a realistic state, in a process of its own (run by the tests with
``DJANGO_SETTINGS_MODULE=tiplab_web.settings.dev`` and ``TIPLAB_DATA_DIR``; PostgreSQL when
``TIPLAB_DATABASE_URL`` says so).

Three agencies' exports of the same people (names, dates of birth, phones; a rejected row each)
imported through ``run_import``, one of them superseded; users and audit entries; a finished
link run with its files and a review decision; an estimation run with its files; a local
mapping profile. Prints one JSON object describing what it made.

Usage: python tests/unit/backup/seed_site.py [--people N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=60)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    from tiplab.config import data_dir
    from tiplab.store import open_store

    store = open_store(data_dir())  # sets Django up (and migrates) on TIPLAB_DATA_DIR
    from django.contrib.auth import get_user_model
    from tests.web import test_linkage_support as ls

    from tiplab.store import run_import
    from tiplab_web import audit
    from tiplab_web.accounts.models import Organisation, Profile
    from tiplab_web.cases import services as case_services
    from tiplab_web.linkage.models import LinkDecision

    persons = ls.people(args.people, args.seed)
    work = store.data_dir.parent / f"{store.data_dir.name}-incoming"  # not in the data dir
    work.mkdir(parents=True, exist_ok=True)
    batches = {}
    for agency in ls.AGENCIES:
        text, _ = ls.agency_csv(persons, agency)
        text += f"X-{agency},15.03.2023,Rejected,Row,01.01.1990,,Q,ROU,RO-B,Sexual exploitation,\n"
        path = work / f"{agency}.csv"
        path.write_text(text, encoding="utf-8")
        batch, _ = run_import(store, path, case_services.parse(ls.profile_for(agency), "t"),
                              user="seed")
        batches[agency] = batch.batch_id
    # the hotline re-sends its export without its last record: the first batch is superseded
    text, _ = ls.agency_csv(persons, "hotline")
    path = work / "hotline-v2.csv"
    path.write_text("".join(text.splitlines(keepends=True)[:-1]), encoding="utf-8")
    batch, _ = run_import(store, path, case_services.parse(ls.profile_for("hotline"), "t"),
                          user="seed", supersede=batches["hotline"])
    batches["hotline"] = batch.batch_id

    org = Organisation.objects.create(name="Rapporteur", kind=Organisation.Kind.COORDINATOR,
                                      country="ZZ")
    user = get_user_model().objects.create_user("steward", password="x" * 20)
    Profile.objects.create(user=user, organisation=org)
    for b in batches.values():
        audit.record(user, "cases.import", ("cases.importbatch", b), via="seed")

    class World:  # what make_link_run reads from the test fixture
        pass

    run = ls.make_link_run(World(), user)
    first = persons[0]
    decision = LinkDecision.objects.create(
        source_l="police", record_id_l="P-1", source_r="ngo", record_id_r="N-1",
        decision=LinkDecision.MATCH, match_probability=0.7, run=run, decided_by=user)
    audit.record(user, "linkage.decide", decision, run=run.pk, decision="match")
    estimation = ls.make_estimation_run(World(), user)
    (store.data_dir / "profiles").mkdir(exist_ok=True)
    (store.data_dir / "profiles" / "local.yaml").write_text(ls.profile_for("ngo"),
                                                           encoding="utf-8")
    json.dump({"batches": batches, "link_run": run.pk, "estimation_run": estimation.pk,
               "decision": decision.pk, "names": [first["family"], first["given"]]},
              sys.stdout)


if __name__ == "__main__":
    main()
