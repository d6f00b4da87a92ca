"""The permission ladder: one row per (URL name, method), for every URL in the project.

For each row, ``test_ladder.py`` checks, for every account role and for anonymous users:

* anonymous → redirected to the login page (pages) or 401 (API), unless ``public``;
* signed-in roles not in ``allowed`` → ``denied`` (403 for role-gated pages; 404 where the
  object is invisible to them);
* ``outsider`` rows: a user of an allowed role who does not own the object → 404;
* roles in ``allowed`` → a success status (``ok``).

Adding a view? Add its row here (``test_every_url_has_a_ladder_row`` fails until you do).
``kwargs`` and ``data`` may be callables ``(world, user) -> dict`` for objects the
requesting user must own. ``world`` is the fixture in ``tests/web/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tiplab_web.core.roles import (
    ACCOUNT_ROLES,
    ADMINISTRATOR,
    AGENCY_REPORTER,
    ANALYST,
)

ALL = frozenset(ACCOUNT_ROLES)
ADMIN = frozenset({ADMINISTRATOR})
TOKEN_HOLDERS = frozenset({ANALYST, AGENCY_REPORTER})

Params = dict[str, Any] | Callable[[Any, Any], dict[str, Any]] | None


@dataclass(frozen=True)
class Rung:
    name: str
    method: str = "get"
    allowed: frozenset[str] = ALL
    public: bool = False
    kwargs: Params = None
    data: Params = None
    denied: int = 403
    outsider: bool = False
    api: bool = False
    ok: tuple[int, ...] = (200, 302)
    note: str = ""
    #: roles refused with another status than ``denied`` (a token holder without the
    #: capability gets 403 where roles without tokens get 401)
    denied_for: tuple[tuple[str, int], ...] = ()

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.name}"


def _token_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {"token_id": world.token_of(user).pk}


def _analyst_kwargs(world: Any, user: Any) -> dict[str, Any]:
    return {"user_id": world.users[ANALYST].pk}


def _user_edit_data(world: Any, user: Any) -> dict[str, Any]:
    return {"organisation": world.home.pk, "roles": [ANALYST], "is_active": "on"}


LADDER: list[Rung] = [
    # core
    Rung("core:home"),
    Rung("core:panel", kwargs={"key": "recent_activity"}),
    Rung("core:confirm_password"),
    Rung(
        "core:confirm_password",
        "post",
        data={"password": "correct horse battery staple 42", "next": "/"},
    ),
    Rung("set_language", "post", public=True, data={"language": "fr", "next": "/"}),
    # accounts
    Rung("accounts:login", public=True),
    Rung("accounts:login", "post", public=True, data={"username": "x", "password": "y"}),
    Rung("accounts:logout", "post", public=True),
    Rung("accounts:password_reset", public=True),
    Rung("accounts:password_reset", "post", public=True, data={"email": "nobody@example.org"}),
    Rung("accounts:password_reset_sent", public=True),
    Rung("accounts:password_reset_confirm", public=True,
         kwargs={"uidb64": "MQ", "token": "bad-token"}, note="an invalid link: says so"),
    Rung("accounts:password_reset_done", public=True),
    Rung("accounts:security"),
    Rung("core:glossary"),
    Rung("accounts:end_sessions", "post", data={"others": "1"}),
    Rung("accounts:recovery_codes", "post"),
    Rung("accounts:user_reset_2fa", "post", allowed=ADMIN, kwargs=_analyst_kwargs,
         note="the analyst holds no second factor: nothing to remove, back to the page"),
    Rung("accounts:user_sign_out", "post", allowed=ADMIN, kwargs=_analyst_kwargs),
    Rung("accounts:otp_enrol"),
    Rung("accounts:otp_verify"),
    Rung("accounts:invitation", public=True, kwargs=lambda w, u: {"token": w.invitation_token}),
    Rung("accounts:users", allowed=ADMIN),
    Rung("accounts:user_invite", allowed=ADMIN),
    Rung(
        "accounts:user_invite",
        "post",
        allowed=ADMIN,
        data=lambda w, u: {
            "email": "someone@example.org",
            "organisation": w.home.pk,
            "roles": [ANALYST],
        },
    ),
    Rung("accounts:user_edit", allowed=ADMIN, kwargs=_analyst_kwargs),
    Rung("accounts:user_edit", "post", allowed=ADMIN, kwargs=_analyst_kwargs, data=_user_edit_data),
    Rung("accounts:organisations", allowed=ADMIN),
    Rung(
        "accounts:organisations",
        "post",
        allowed=ADMIN,
        data={"name": "Labour Inspectorate", "kind": "labour_inspectorate", "country": "zz"},
    ),
    Rung("accounts:tokens", allowed=TOKEN_HOLDERS),
    Rung("accounts:tokens", "post", allowed=TOKEN_HOLDERS, data={"name": "etl", "days": 30}),
    Rung(
        "accounts:token_revoke", "post", allowed=TOKEN_HOLDERS, kwargs=_token_kwargs, outsider=True
    ),
    # audit
    Rung("audit:log", allowed=ADMIN),
    Rung("audit:export", allowed=ADMIN),
    # API (Bearer tokens; only token-holding roles can authenticate)
    Rung("api:health", api=True, public=True),
    Rung("healthz", public=True, data={"only": "database,disk"},
         note="the other checks depend on the shared test data directory (test_operations)"),
    Rung("api:me", api=True, allowed=TOKEN_HOLDERS, denied=401),
    Rung("api:openapi-json", api=True, public=True),
    Rung("api:openapi-view", api=True, public=True),
]

#: URL names that need no ladder row, with the reason.
EXEMPT: dict[str, str] = {
    "api:api-root": "Ninja's bare /api/ root; answers 404 in the error shape (test_api.py)",
}


# --- cases app: data intake, import history, case browser, API (appended) ------------------
from tests.web import test_cases_support as _cs  # noqa: E402

from tiplab_web.core.roles import DATA_STEWARD  # noqa: E402

INTAKE = frozenset({ANALYST, DATA_STEWARD, AGENCY_REPORTER})
CASE_VIEWERS = frozenset({ANALYST, DATA_STEWARD})
STEWARD = frozenset({DATA_STEWARD})


def _intake_post(world: Any, user: Any) -> dict[str, Any]:
    return {"file": _cs.upload("police.csv", _cs.BAD), "profile": "__infer__"}


def _api_submit(world: Any, user: Any) -> dict[str, Any]:
    return {"file": _cs.upload("police.csv", _cs.FIXED),
            "profile_file": _cs.upload("p.yaml", _cs.PROFILE)}


LADDER += [
    Rung("cases:intake", allowed=INTAKE),
    Rung("cases:intake", "post", allowed=INTAKE, data=_intake_post),
    Rung("cases:intake_preview", allowed=INTAKE, kwargs=_cs.upload_kwargs, outsider=True),
    Rung("cases:intake_profile", allowed=INTAKE, kwargs=_cs.upload_without_profile_kwargs,
         outsider=True),
    Rung("cases:intake_profile", "post", allowed=INTAKE, kwargs=_cs.upload_kwargs,
         data={"text": _cs.PROFILE}, outsider=True),
    Rung("cases:intake_replace", "post", allowed=INTAKE, kwargs=_cs.upload_kwargs,
         data=lambda w, u: {"file": _cs.upload("fixed.csv", _cs.FIXED)}, outsider=True),
    Rung("cases:intake_confirm", "post", allowed=INTAKE,
         kwargs=_cs.upload_without_profile_kwargs, outsider=True,
         note="without a profile it sends the user to the profile page: no import starts"),
    Rung("cases:batches", allowed=INTAKE),
    # Batches are scoped by agency, not owner: analysts see every agency, so no outsider
    # rows here; reporter isolation is tested in test_cases_intake.py.
    Rung("cases:batch", allowed=INTAKE, kwargs=_cs.batch_kwargs),
    Rung("cases:batch_rejects", allowed=INTAKE, kwargs=_cs.batch_kwargs),
    Rung("cases:batch_supersede", allowed=INTAKE, kwargs=_cs.batch_kwargs),
    Rung("cases:batch_supersede", "post", allowed=INTAKE, kwargs=_cs.batch_kwargs,
         data=_intake_post),
    Rung("cases:submissions", allowed=STEWARD),
    Rung("cases:batch_approve", "post", allowed=STEWARD, kwargs=_cs.batch_kwargs,
         note="an approved batch: refused with a message, back to the batch"),
    Rung("cases:batch_return", "post", allowed=STEWARD, kwargs=_cs.batch_kwargs,
         data={"comment": "ladder"},
         note="an approved batch: refused with a message, back to the batch"),
    Rung("cases:list", allowed=CASE_VIEWERS),
    Rung("cases:detail", allowed=CASE_VIEWERS, kwargs=_cs.record_kwargs),
    Rung("cases:reveal", allowed=STEWARD, kwargs=_cs.record_kwargs),
    Rung("cases:reveal", "post", allowed=STEWARD, kwargs=_cs.record_kwargs),
    Rung("api:list_batches", api=True, allowed=TOKEN_HOLDERS, denied=401),
    Rung("api:get_batch", api=True, allowed=TOKEN_HOLDERS, denied=401, kwargs=_cs.batch_kwargs),
    Rung("api:get_rejects", api=True, allowed=TOKEN_HOLDERS, denied=401,
         kwargs=_cs.batch_kwargs),
    Rung("api:submit_batch", "post", api=True, allowed=TOKEN_HOLDERS, denied=401,
         data=_api_submit, ok=(201,)),
    Rung("api:preview_batch", "post", api=True, allowed=TOKEN_HOLDERS, denied=401,
         data=_api_submit, ok=(200,)),
    Rung("api:submit_batch_job", "post", api=True, allowed=TOKEN_HOLDERS, denied=401,
         data=_api_submit, ok=(202,)),
]


# --- linkage and estimates apps (appended) --------------------------------------------------
from tests.web import test_linkage_support as _ls  # noqa: E402

from tiplab_web.core.roles import POLICY_OFFICER  # noqa: E402

LINKERS = frozenset({ANALYST, DATA_STEWARD})
INSIGHTS = frozenset({ANALYST, DATA_STEWARD, POLICY_OFFICER})

LADDER += [
    Rung("linkage:runs", allowed=LINKERS),
    Rung("linkage:runs", "post", allowed=LINKERS, data={"threshold": "0.9"},
         note="no agency chosen: the form comes back with an error, no run starts"),
    Rung("linkage:run", allowed=LINKERS, kwargs=_ls.link_run_kwargs, outsider=True),
    Rung("linkage:run_status", allowed=LINKERS, kwargs=_ls.link_run_kwargs, outsider=True),
    Rung("linkage:threshold_chart", allowed=LINKERS, kwargs=_ls.link_run_kwargs,
         outsider=True),
    Rung("linkage:review", allowed=STEWARD, kwargs=_ls.link_run_kwargs, outsider=True),
    Rung("linkage:review_pair", allowed=STEWARD, kwargs=_ls.review_pair_kwargs,
         outsider=True),
    Rung("linkage:review_pair", "post", allowed=STEWARD, kwargs=_ls.review_pair_kwargs,
         data={"decision": "non-match"}, outsider=True),
    Rung("linkage:sample", allowed=STEWARD, kwargs=_ls.link_run_kwargs, outsider=True),
    Rung("linkage:sample", "post", allowed=STEWARD, kwargs=_ls.link_run_kwargs,
         data={"size": "20"}, outsider=True, note="draws a sample; back to the sample page"),
    Rung("linkage:sample_pair", allowed=STEWARD, kwargs=_ls.sample_pair_kwargs,
         outsider=True),
    Rung("linkage:sample_pair", "post", allowed=STEWARD, kwargs=_ls.sample_pair_kwargs,
         data={"label": "unsure"}, outsider=True),
    Rung("linkage:designate", "post", allowed=STEWARD, kwargs=_ls.link_run_kwargs,
         outsider=True, note="the figures count this run's persons; back to the run"),
    Rung("linkage:withdraw", "post", allowed=STEWARD, data={"note": "ladder"},
         note="back to the list (withdrawn, or nothing designated)"),
    Rung("linkage:relink", "post", allowed=STEWARD,
         note="nothing designated: back to the list with the reason"),
    Rung("estimates:runs", allowed=INSIGHTS),
    Rung("estimates:new", allowed=LINKERS),
    Rung("estimates:new", "post", allowed=LINKERS, data={"input_kind": "shipped"},
         note="no table chosen: the form comes back with an error, no run starts"),
    Rung("estimates:run", allowed=INSIGHTS, kwargs=_ls.estimation_run_kwargs, outsider=True),
    Rung("estimates:run_status", allowed=INSIGHTS, kwargs=_ls.estimation_run_kwargs,
         outsider=True),
    Rung("estimates:run_json", allowed=INSIGHTS, kwargs=_ls.estimation_run_kwargs,
         outsider=True),
    Rung("estimates:chart", allowed=INSIGHTS, kwargs=_ls.chart_kwargs, outsider=True),
    Rung("estimates:designate", "post", allowed=STEWARD, kwargs=_ls.estimation_run_kwargs,
         outsider=True, note="a run that cannot be designated comes back with the reason"),
    Rung("estimates:withdraw", "post", allowed=STEWARD, data={"note": "ladder"},
         note="nothing designated: nothing to withdraw, back to the list"),
]


# --- insights app: trends, hotspots, profiles, routes (appended) ---------------------------
_NO_DATA = "404 when the ladder's data directory has no records; pages themselves say so"
LADDER += [
    Rung("insights:trends", allowed=INSIGHTS),
    Rung("insights:trends_chart", allowed=INSIGHTS, kwargs={"fmt": "svg"}, ok=(200, 404),
         note=_NO_DATA),
    Rung("insights:trends_export", allowed=INSIGHTS, ok=(200, 404), note=_NO_DATA),
    Rung("insights:hotspots", allowed=INSIGHTS),
    Rung("insights:hotspots_geojson", allowed=INSIGHTS, ok=(200, 404), note=_NO_DATA),
    Rung("insights:hotspots_map", allowed=INSIGHTS, kwargs={"fmt": "png"}, ok=(200, 404),
         note=_NO_DATA),
    Rung("insights:hotspots_export", allowed=INSIGHTS, ok=(200, 404), note=_NO_DATA),
    Rung("insights:hotspots_emerging_export", allowed=INSIGHTS, ok=(200, 404),
         note=_NO_DATA),
    Rung("insights:profiles", allowed=INSIGHTS),
    Rung("insights:profiles_export", allowed=INSIGHTS, ok=(200, 404), note=_NO_DATA),
    Rung("insights:routes", allowed=INSIGHTS),
    Rung("insights:routes_map", allowed=INSIGHTS, kwargs={"fmt": "svg"}, ok=(200, 404),
         note=_NO_DATA),
    Rung("insights:routes_export", allowed=INSIGHTS, ok=(200, 404), note=_NO_DATA),
    Rung("insights:routes_changes_export", allowed=INSIGHTS, ok=(200, 404), note=_NO_DATA,
         data={"a_start": "2016", "a_end": "2019", "b_start": "2020", "b_end": "2023"}),
    Rung("insights:gap", allowed=INSIGHTS),
    Rung("insights:gap", "post", allowed=INSIGHTS,
         note="no designated link run: the page says so, no job starts"),
    Rung("insights:gap_export", allowed=INSIGHTS, ok=(200, 404), note=_NO_DATA),
    Rung("insights:vulnerability", allowed=INSIGHTS),
    Rung("insights:vulnerability", "post", allowed=INSIGHTS,
         note="no indicator table in the test's data directory: the page says so"),
    Rung("insights:vulnerability_upload", "post", allowed=LINKERS,
         note="no file: back to the page with the error"),
    Rung("insights:vulnerability_export", allowed=INSIGHTS, ok=(200, 404), note=_NO_DATA),
    Rung("insights:vulnerability_figure", allowed=INSIGHTS,
         kwargs={"name": "sensitivity", "fmt": "svg"}, ok=(200, 404), note=_NO_DATA),
    Rung("insights:gap_map", allowed=INSIGHTS, kwargs={"fmt": "svg"}, ok=(200, 404),
         note=_NO_DATA),
]


# --- background jobs (appended) -------------------------------------------------------------
from tiplab_web.core.roles import STAKEHOLDER  # noqa: E402

# Everyone who can start a job follows their own; administrators operate the queue and see
# every job, so the outsider rows (another organisation's job → 404) are in test_jobs.py.
JOB_USERS = ALL - {STAKEHOLDER}
LADDER += [
    Rung("jobs:list", allowed=JOB_USERS),
    Rung("jobs:detail", allowed=JOB_USERS, kwargs=_cs.job_kwargs),
    Rung("jobs:status", allowed=JOB_USERS, kwargs=_cs.job_kwargs),
    Rung("jobs:cancel", "post", allowed=JOB_USERS, kwargs=_cs.running_job_kwargs, ok=(302,)),
    Rung("jobs:retry", "post", allowed=JOB_USERS, kwargs=_cs.failed_job_kwargs, ok=(302,),
         note="the retried import fails at once (its upload is gone): still a redirect"),
    Rung("api:list_jobs", api=True, allowed=TOKEN_HOLDERS, denied=401),
    Rung("api:job", api=True, allowed=TOKEN_HOLDERS, denied=401, kwargs=_cs.job_kwargs),
    Rung("api:cancel_job", "post", api=True, allowed=TOKEN_HOLDERS, denied=401,
         kwargs=_cs.running_job_kwargs, ok=(200,)),
    Rung("api:retry_job", "post", api=True, allowed=TOKEN_HOLDERS, denied=401,
         kwargs=_cs.failed_job_kwargs, ok=(200,)),
]

# --- legal-framework assessment (appended) -----------------------------------------------------
from tests.web import test_assessment_support as _as  # noqa: E402

LEGAL_VIEW = INSIGHTS
LEGAL_EDIT = frozenset({ANALYST, POLICY_OFFICER})
LADDER += [
    Rung("assessment:index", allowed=LEGAL_VIEW),
    Rung("assessment:new", "post", allowed=LEGAL_EDIT,
         data={"country": "FRA", "instrument": "palermo", "date": "2026-02-01"}),
    Rung("assessment:import", "post", allowed=LEGAL_EDIT,
         note="no file: back to the list with the error"),
    Rung("assessment:harmonise", allowed=LEGAL_VIEW),
    Rung("assessment:harmonise_export", allowed=LEGAL_VIEW, ok=(200, 404),
         note="404 (in words) with fewer than two countries assessed"),
    Rung("assessment:instruments", allowed=LEGAL_VIEW),
    Rung("assessment:instruments", "post", allowed=LEGAL_EDIT,
         note="no file: the page comes back with the error"),
    Rung("assessment:detail", allowed=LEGAL_VIEW, kwargs=_as.assessment_kwargs, outsider=True),
    Rung("assessment:answer", "post", allowed=LEGAL_EDIT, kwargs=_as.answer_kwargs,
         data={"answer": "yes", "statute": "Act 2026"}, outsider=True),
    Rung("assessment:review", "post", allowed=LEGAL_EDIT, kwargs=_as.assessment_kwargs,
         outsider=True, note="the assessor cannot review their own: back with the message"),
    Rung("assessment:reassess", "post", allowed=LEGAL_EDIT, kwargs=_as.assessment_kwargs,
         data={"date": "2026-03-01"}, outsider=True),
    Rung("assessment:upload", "post", allowed=LEGAL_EDIT, kwargs=_as.assessment_kwargs,
         outsider=True),
    Rung("assessment:export", allowed=LEGAL_VIEW, kwargs=_as.export_kwargs, outsider=True),
    Rung("assessment:gaps_csv", allowed=LEGAL_VIEW, kwargs=_as.assessment_kwargs,
         outsider=True),
]

# --- National Action Plans (appended) ----------------------------------------------------------
from tests.web import test_plans_support as _pl  # noqa: E402

PLANS_LIST = frozenset({ANALYST, DATA_STEWARD, POLICY_OFFICER, ADMINISTRATOR, AGENCY_REPORTER})
PLANS_VIEW = frozenset({ANALYST, DATA_STEWARD, POLICY_OFFICER, ADMINISTRATOR})
PLANS_EDIT = frozenset({POLICY_OFFICER})
LADDER += [
    Rung("plans:index", allowed=PLANS_LIST,
         note="agency reporters see the measures their organisation leads"),
    Rung("plans:new", "post", allowed=PLANS_EDIT,
         data={"ident": "nap-new", "title": "New", "country": "Utopia", "start_year": 2025,
               "end_year": 2027, "currency": "EUR", "pillars": "4p"}),
    Rung("plans:import", "post", allowed=PLANS_EDIT, note="no file: back with the error"),
    Rung("plans:detail", allowed=PLANS_VIEW, kwargs=_pl.plan_kwargs, outsider=True),
    Rung("plans:narrative", "post", allowed=PLANS_EDIT, kwargs=_pl.plan_kwargs,
         data={"narrative": "Vision."}, outsider=True),
    Rung("plans:objective_new", "post", allowed=PLANS_EDIT, kwargs=_pl.plan_kwargs,
         data={"ident": "O2", "pillar": "prevention", "title": "Prevent"}, outsider=True),
    Rung("plans:measure_new", allowed=PLANS_EDIT, kwargs=_pl.plan_kwargs, outsider=True),
    Rung("plans:measure_new", "post", allowed=PLANS_EDIT, kwargs=_pl.plan_kwargs,
         outsider=True, ok=(400,), note="an empty form: 400 with the errors"),
    Rung("plans:measure", allowed=PLANS_EDIT, kwargs=_pl.measure_kwargs, outsider=True),
    Rung("plans:measure", "post", allowed=PLANS_EDIT, kwargs=_pl.measure_kwargs,
         outsider=True, ok=(400,), note="an empty form: 400 with the errors"),
    Rung("plans:measure_delete", "post", allowed=PLANS_EDIT, kwargs=_pl.measure_kwargs,
         outsider=True),
    Rung("plans:measure_status", "post", allowed=PLANS_EDIT, kwargs=_pl.measure_kwargs,
         outsider=True, data={"status": "in_progress"}),
    Rung("plans:cite", allowed=PLANS_EDIT, kwargs=_pl.measure_kwargs, outsider=True,
         data={"kind": "legal_gap"}),
    Rung("plans:cite", "post", allowed=PLANS_EDIT, kwargs=_pl.measure_kwargs, outsider=True,
         data={"kind": "legal_gap", "pick": "99"}, note="nothing to pick: the page again"),
    Rung("plans:uncite", "post", allowed=PLANS_EDIT, kwargs=_pl.measure_kwargs,
         outsider=True, data={"key": "none"}),
    Rung("plans:from_gap", allowed=PLANS_EDIT, kwargs=_pl.plan_kwargs, outsider=True),
    Rung("plans:from_gap", "post", allowed=PLANS_EDIT, kwargs=_pl.plan_kwargs, outsider=True,
         data={"pick": "99", "objective": "O1"}),
    Rung("plans:transition", "post", allowed=PLANS_EDIT, kwargs=_pl.plan_kwargs,
         outsider=True, data={"to": "consultation"}),
    Rung("plans:adopt", "post", allowed=ADMIN, kwargs=_pl.plan_kwargs, outsider=True,
         data={"to": "adopted"}),
    Rung("plans:new_version", "post", allowed=PLANS_EDIT, kwargs=_pl.plan_kwargs,
         outsider=True, note="a draft: back with the message"),
    Rung("plans:versions", allowed=PLANS_VIEW, kwargs=_pl.plan_kwargs, outsider=True),
    Rung("plans:export", allowed=PLANS_VIEW, kwargs=_pl.export_kwargs, outsider=True),
    Rung("plans:agreement", "post", allowed=PLANS_EDIT, kwargs=_pl.plan_kwargs, outsider=True,
         data={"ident": "a1", "title": "JIT", "kind": "bilateral", "partners": "X",
               "scope": "jit", "status": "signed"}),
    Rung("plans:budget", allowed=PLANS_VIEW, kwargs=_pl.plan_kwargs, outsider=True),
    Rung("plans:budget_chart", allowed=PLANS_VIEW, kwargs=_pl.plan_kwargs, outsider=True),
    Rung("plans:spend", "post", allowed=PLANS_EDIT, kwargs=_pl.plan_kwargs, outsider=True,
         data={"line": "M1|2025-government", "period": "2025", "committed": "100",
               "disbursed": "50"}),
    Rung("plans:scenario", "post", allowed=PLANS_EDIT, kwargs=_pl.plan_kwargs, outsider=True,
         note="no file: back with the error"),
    Rung("api:list_plans", api=True, allowed=frozenset({ANALYST}), denied=401,
         denied_for=((AGENCY_REPORTER, 403),)),
    Rung("api:get_plan", api=True, allowed=frozenset({ANALYST}), denied=401,
         kwargs=lambda w, u: {"ident": _pl.make_plan(u).ident}, ok=(200,),
         denied_for=((AGENCY_REPORTER, 403),)),
    Rung("api:plan_revisions", api=True, allowed=frozenset({ANALYST}), denied=401,
         kwargs=lambda w, u: {"ident": _pl.make_plan(u).ident}, ok=(200,),
         denied_for=((AGENCY_REPORTER, 403),)),
    Rung("api:put_plan", "put", api=True, allowed=frozenset(), denied=401,
         kwargs=lambda w, u: {"ident": _pl.make_plan(u).ident},
         denied_for=((AGENCY_REPORTER, 403), (ANALYST, 403)),
         note="no token holder drafts plans (policy officers hold no tokens)"),
]

# --- working groups and the safe reporting channel (rows in their own modules) -----------------
from tests.web.ladder_groups import ROWS as _GROUP_ROWS  # noqa: E402
from tests.web.ladder_reporting import ROWS as _REPORTING_ROWS  # noqa: E402

LADDER += _GROUP_ROWS + _REPORTING_ROWS

# --- consultations and survivors' voice (appended) ---------------------------------------------
from tests.web import test_consultations_support as _co  # noqa: E402

CONS_VIEW = frozenset({ANALYST, DATA_STEWARD, POLICY_OFFICER, ADMINISTRATOR, AGENCY_REPORTER,
                       STAKEHOLDER})
#: roles of the drafting organisation that see its consultations; stakeholders and agency
#: reporters see only those their organisation is invited to (404 otherwise)
CONS_OWN = frozenset({ANALYST, DATA_STEWARD, POLICY_OFFICER, ADMINISTRATOR})
CONS_NOT_INVITED = ((STAKEHOLDER, 404), (AGENCY_REPORTER, 404))
CODES = frozenset({POLICY_OFFICER, AGENCY_REPORTER})
LADDER += [
    Rung("consultations:index", allowed=CONS_VIEW),
    Rung("consultations:new", allowed=PLANS_EDIT, kwargs=lambda w, u: {
        "plan_pk": _pl.make_plan(u).pk}, outsider=True),
    Rung("consultations:new", "post", allowed=PLANS_EDIT, kwargs=lambda w, u: {
        "plan_pk": _pl.make_plan(u).pk}, outsider=True,
        data={"title": "Second", "opens_on": "2026-01-01", "closes_on": "2026-02-01"}),
    Rung("consultations:detail", allowed=CONS_OWN, kwargs=_co.consultation_kwargs,
         outsider=True, denied_for=CONS_NOT_INVITED),
    Rung("consultations:unit", allowed=CONS_OWN, kwargs=_co.unit_kwargs, outsider=True,
         denied_for=CONS_NOT_INVITED),
    Rung("consultations:contribute", "post", allowed=PLANS_EDIT, kwargs=_co.unit_kwargs,
         outsider=True, denied_for=((STAKEHOLDER, 404), (AGENCY_REPORTER, 404)),
         data={"kind": "comment", "body": "A comment"}),
    Rung("consultations:contributions", allowed=CONS_OWN, kwargs=_co.consultation_kwargs,
         outsider=True, denied_for=CONS_NOT_INVITED),
    Rung("consultations:react", "post", allowed=PLANS_EDIT, kwargs=_co.contribution_kwargs,
         outsider=True, denied_for=CONS_NOT_INVITED, data={"stance": "support"}),
    Rung("consultations:hide", "post", allowed=PLANS_EDIT, kwargs=_co.contribution_kwargs,
         outsider=True, data={"reason": "off topic"}),
    Rung("consultations:respond", "post", allowed=PLANS_EDIT, kwargs=_co.contribution_kwargs,
         outsider=True, data={"outcome": "accepted", "reason": "Done"}),
    Rung("consultations:invite", "post", allowed=PLANS_EDIT, kwargs=_co.consultation_kwargs,
         outsider=True),
    Rung("consultations:close", "post", allowed=PLANS_EDIT, kwargs=_co.consultation_kwargs,
         outsider=True),
    Rung("consultations:participation", allowed=CONS_OWN, kwargs=_co.consultation_kwargs,
         outsider=True, denied_for=CONS_NOT_INVITED),
    Rung("consultations:report", allowed=CONS_OWN, kwargs=_co.report_kwargs, outsider=True,
         denied_for=CONS_NOT_INVITED),
    Rung("consultations:codes", allowed=CODES),
    Rung("consultations:codes", "post", allowed=CODES,
         data={"target": "q:support-services", "n": "2", "days": "30",
               "group": "survivor_board", "fmt": "html"}),
    Rung("consultations:revoke", "post", allowed=CODES, kwargs=_co.batch_kwargs),
    Rung("consultations:review_queue", allowed=PLANS_EDIT),
    Rung("consultations:review", allowed=PLANS_EDIT, kwargs=_co.answer_kwargs, outsider=True),
    Rung("consultations:review", "post", allowed=PLANS_EDIT, kwargs=_co.answer_kwargs,
         outsider=True, data={"decision": "reject", "note": "identifying"}),
    Rung("consultations:questionnaire", allowed=CONS_VIEW,
         kwargs={"key": "barriers-to-justice"}),
    # the survivors' pages: no account, anonymous routes
    Rung("voice:start", public=True),
    Rung("voice:start", "post", public=True, data={"code": "WRONG-CODE-0000"}),
    Rung("voice:consent", "post", public=True, data={"t": "bad"}),
    Rung("voice:send", "post", public=True, data={"t": "bad"}),
    Rung("anonymous_asset", public=True, kwargs={"name": "anonymous.css"}),
]
LADDER += [
    Rung("api:list_consultations", api=True, allowed=TOKEN_HOLDERS, denied=401),
    Rung("api:contributions", api=True, allowed=frozenset({ANALYST}), denied=401,
         kwargs=_co.consultation_kwargs, ok=(200,),
         denied_for=((AGENCY_REPORTER, 404),),
         note="an agency reporter sees only consultations its organisation is invited to"),
    Rung("api:participation", api=True, allowed=frozenset({ANALYST}), denied=401,
         kwargs=_co.consultation_kwargs, ok=(200,), denied_for=((AGENCY_REPORTER, 404),)),
]

# --- monitoring and evaluation (rows in their own modules) ----------------------------------------
from tests.web.ladder_evaluation import ROWS as _EVALUATION_ROWS  # noqa: E402
from tests.web.ladder_monitoring import ROWS as _MONITORING_ROWS  # noqa: E402

LADDER += _MONITORING_ROWS + _EVALUATION_ROWS

# --- publications: releases, ledger, briefs (rows in their own module) ------------------------
from tests.web.ladder_publications import ROWS as _PUBLICATION_ROWS  # noqa: E402

LADDER += _PUBLICATION_ROWS

# --- qualitative evidence and screening (rows in their own modules) -------------------------
from tests.web.ladder_evidence import ROWS as _EVIDENCE_ROWS  # noqa: E402
from tests.web.ladder_screening import ROWS as _SCREENING_ROWS  # noqa: E402

LADDER += _EVIDENCE_ROWS + _SCREENING_ROWS
_PORTAL = "no login; needs real files or an adopted plan: crawled by test_public_portal.py"
EXEMPT.update({
    "open_api:api-root": "Ninja's bare /api/open/ root; answers 404 in the error shape",
    "open_api:item_rows": _PORTAL, "open_api:plan_progress": _PORTAL,
    "public:download": _PORTAL, "public:chart": _PORTAL, "public:brief": _PORTAL,
    "public:plan": _PORTAL, "public:not_found": "always 404 (the portal's own, cookie-free)",
})
