"""Bring a data directory up to the demo state, idempotently (used by `make run`).

Migrates the database, collects static files, imports the real UNODC GLOTIP export, simulates
the synthetic country (seed 42) and imports every agency export through its profile, then
creates one demo user per role, and queues the linkage of the six agencies followed by the
estimate of the hidden number by year (background jobs). Files already imported (same sha256)
are skipped and the jobs are queued once, so running it again changes nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand

from tiplab.errors import DuplicateBatchError
from tiplab.ingest.readers import file_sha256
from tiplab.store import run_import
from tiplab_web.cases.services import prepare_analyses
from tiplab_web.cases.store import DjangoCaseStore

REPO = Path(__file__).resolve().parents[5]
GLOTIP = REPO.parent / "shared" / "data" / "unodc_glotip" / "data_glotip.csv"
#: bootstrap replicates of the demo estimate (its 95% interval)
DEMO_BOOTSTRAP = 1000
#: bootstrap replicates per stratum of the demo's detection gap by region
DEMO_GAP_BOOTSTRAP = 200
#: a pilot of joint labour inspections in four regions from 2021 whose true effect the
#: simulator records (truth/measure.json): the demo's impact evaluation has to find it
DEMO_MEASURE = "XT-03,XT-05,XT-12,XT-17:2021:1.8:labour_inspectorate"


class Command(BaseCommand):
    help = "Set up the demo: migrate, static files, GLOTIP, the synthetic country, demo users."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--victims", type=int, default=20000,
                            help="size of the simulated hidden population")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--glotip", default=str(GLOTIP), help="path of data_glotip.csv")

    def handle(self, *args: Any, **opts: Any) -> None:
        data_dir = Path(settings.DATA_DIR)
        data_dir.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        store = DjangoCaseStore(data_dir)
        glotip = Path(opts["glotip"])
        if glotip.exists():
            self._import(store, glotip, "glotip", None)
        else:
            self.stderr.write(f"GLOTIP file not found at {glotip}; skipped")
        demo = data_dir / "demo"
        if not (demo / "linkage_roles.yaml").exists():
            self.stdout.write(f"simulating the synthetic country into {demo} ...")
            subprocess.run([sys.executable, "-m", "tiplab", "simulate", "--seed",  # noqa: S603
                            str(opts["seed"]), "--victims", str(opts["victims"]), "--years",
                            "2015-2024", "--measure", DEMO_MEASURE, "--out", str(demo),
                            "--json"], check=True,
                           stdout=subprocess.DEVNULL)
        roles = yaml.safe_load((demo / "linkage_roles.yaml").read_text(encoding="utf-8"))
        for agency, entry in roles["inputs"].items():
            self._import(store, demo / entry["file"], str(demo / f"{agency}.profile.yaml"),
                         agency)
        prepare_analyses()  # the demo's first analysis page opens on ready tables
        if "seed_demo_users" in get_commands():
            call_command("seed_demo_users")  # prints the logins
            self._close_the_loop(sorted(roles["inputs"]))
            self._legal_assessments()
            self._plan()
            self._engagement()
            self._qualitative()

    def _qualitative(self) -> None:
        """Qualitative evidence: demo interview notes, coded by two coders, with the model's
        suggestions; and screening of demo advertisements and case narratives (background
        jobs: the model embeds a few thousand sentences)."""
        from django.contrib.auth import get_user_model

        from tiplab_web.evidence.models import Note
        from tiplab_web.jobs.kernel import submit
        from tiplab_web.screening.models import ScreeningBatch

        analyst = get_user_model().objects.get(username="demo-analyst")
        if not Note.objects.exists():
            submit(analyst, "evidence.demo")
            self.stdout.write("queued: the demo interview notes, their codes and suggestions")
        if not ScreeningBatch.objects.exists():
            submit(analyst, "screening.demo")
            self.stdout.write("queued: screening of demo advertisements and case narratives")

    def _close_the_loop(self, agencies: list[str]) -> None:
        """Queue the demo's linkage of the six agencies and, once it is done, the estimate
        of the hidden number by year — the figure the home page leads with. Background jobs:
        the worker that ``make run`` starts does them in a minute or two."""
        from django.contrib.auth import get_user_model

        from tiplab_web.estimates.services import then_estimate
        from tiplab_web.insights.gap import then_gap
        from tiplab_web.linkage.models import LinkRun
        from tiplab_web.linkage.services import start_run, then_designate

        if LinkRun.objects.exists():
            return
        users = get_user_model().objects
        analyst = users.get(username="demo-analyst")
        steward = users.get(username="demo-steward")
        from tiplab_web.evaluation.demo import then_impact
        from tiplab_web.plans.demo import then_cite

        # the demo plan cites the gap and the estimate of record once they exist
        gap = then_gap(["region_of_exploitation"], DEMO_GAP_BOOTSTRAP)
        gap["params"]["then"] = [then_cite()]
        estimate = then_estimate({
            "method": "stepwise", "nboot": DEMO_BOOTSTRAP, "seed": 1234, "by": ["year"],
            "pool_below": 0, "sensitivity": True}, designate_by="demo-steward",
            note="Demo: the linkage of the six agencies, stepwise model, by year.")
        # ... and the demo release (with its brief) is published from the estimate of record
        from tiplab_web.publications.demo import then_release

        estimate["params"]["then"] = [then_cite(), then_release()]
        from tiplab_web.linkage.quality import then_sample

        run = start_run(analyst, agencies, None, then=[
            then_designate(steward, "Demo: the linkage of the six agencies.",
                           then=[gap, then_impact(), then_sample(steward)]),
            estimate])
        self.stdout.write(f"queued: link run #{run.pk} of {', '.join(agencies)} (designated "
                          "by demo-steward: the figures count its persons; a quality sample "
                          "drawn for review), then the "
                          "estimate by year, designated the estimate of record by "
                          "demo-steward (the Jobs page follows them)")

    def _legal_assessments(self) -> None:
        """The illustrative legal-framework assessments of three countries (Palermo), answered
        by demo-analyst and reviewed by demo-policy."""
        from django.contrib.auth import get_user_model

        from tiplab_web.assessment.services import load_demo
        from tiplab_web.core.access import organisation_of

        users = get_user_model().objects
        analyst = users.get(username="demo-analyst")
        n = load_demo(analyst, users.get(username="demo-policy"), organisation_of(analyst))
        if n:
            self.stdout.write(f"loaded {n} illustrative legal-framework assessments "
                              "(United Kingdom, Germany, Japan against the Palermo Protocol)")
        # the vulnerability index of the demo country's regions, with 1,000 replications
        from tiplab_web.insights import vulnerability as vul

        params = vul.params_for(vul.DEMO, {}, 1000)
        if vul.latest(params) == (None, None):
            from tiplab_web.plans.demo import then_cite

            vul.start(analyst, params, then=[then_cite()])
            self.stdout.write("queued: the vulnerability index of the demo regions")

    def _plan(self) -> None:
        """The demo National Action Plan 2025-2028, drafted by demo-policy; its measures
        cite the demo's own evidence (what exists now, the rest when its job is done)."""
        from django.contrib.auth import get_user_model

        from tiplab_web.core.access import organisation_of
        from tiplab_web.plans import demo as plans_demo

        policy = get_user_model().objects.get(username="demo-policy")
        plan = plans_demo.load(policy, organisation_of(policy))
        if plan is not None:
            self.stdout.write(f"loaded the demo National Action Plan ({plan.title})")

    def _engagement(self) -> None:
        """The policy loop's engagement: a consultation on the demo plan with input from
        every stakeholder group (a survivor's reviewed, the public's waiting), the working
        groups that steer it, and anonymous reports in the triage queue."""
        from django.contrib.auth import get_user_model

        from tiplab_web.consultations import demo as consultations_demo
        from tiplab_web.core.access import organisation_of
        from tiplab_web.groups import demo as groups_demo
        from tiplab_web.reporting import demo as reporting_demo

        policy = get_user_model().objects.get(username="demo-policy")
        c = consultations_demo.load(policy)
        if c is not None:
            self.stdout.write(f"opened the demo consultation ({c.contributions.count()} "
                              "contributions, one survivor's input reviewed)")
        group = groups_demo.load(policy, organisation_of(policy))
        if group is not None:
            self.stdout.write(f"loaded the demo working groups ({group.name}, ...)")
        n = reporting_demo.load()
        if n:
            self.stdout.write(f"received {n} demo reports through the safe reporting channel")
        from tiplab_web.monitoring import demo as monitoring_demo

        rounds = monitoring_demo.load(policy)
        if rounds:
            self.stdout.write(f"opened {rounds} demo reporting rounds on the demo plan "
                              "(one agency late, one value returned and corrected)")
        from tiplab_web.evaluation import demo as evaluation_demo

        review = evaluation_demo.load(policy)
        if review is not None:
            self.stdout.write(f"held and completed the demo's {review} (one proposal taken "
                              "into the plan)")
        if evaluation_demo.impact(policy):
            self.stdout.write("queued: the impact evaluation of the labour-inspection pilot")

    def _import(self, store: DjangoCaseStore, path: Path, profile: str,
                source: str | None) -> None:
        if store.find_batch_by_sha256(file_sha256(path)) is not None:
            self.stdout.write(f"{path.name}: already imported")
            return
        try:
            batch, _ = run_import(store, path, profile, source, user="setup_demo")
        except DuplicateBatchError:
            return
        assert batch is not None
        self.stdout.write(json.dumps({"file": path.name, "batch": batch.batch_id,
                                      "rows": batch.rows, "accepted": batch.accepted,
                                      "rejected": batch.rejected}))
