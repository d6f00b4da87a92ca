"""The roles of ARCHITECTURE.md and the capability table that maps what may be done to them.

A user holds one organisation and a set of roles (``accounts.RoleGrant``). Views never test
role names directly: they ask ``can(user, "capability")`` (``tiplab_web.core.access``), so the
policy lives in this one table. Add a capability here when an app needs a new one.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

ADMINISTRATOR = "administrator"
ANALYST = "analyst"
DATA_STEWARD = "data_steward"
POLICY_OFFICER = "policy_officer"
AGENCY_REPORTER = "agency_reporter"
STAKEHOLDER = "stakeholder"
#: Survivors never have accounts: they will submit input through one-time codes.
SURVIVOR = "survivor"
#: The public: anyone without an account.
PUBLIC = "public"

ROLE_LABELS = {
    ADMINISTRATOR: _("Administrator"),
    ANALYST: _("Analyst"),
    DATA_STEWARD: _("Data steward"),
    POLICY_OFFICER: _("Policy officer"),
    AGENCY_REPORTER: _("Agency reporter"),
    STAKEHOLDER: _("Stakeholder"),
    SURVIVOR: _("Survivor (anonymous)"),
    PUBLIC: _("Public"),
}

#: Roles a user account can hold.
ACCOUNT_ROLES: tuple[str, ...] = (
    ADMINISTRATOR,
    ANALYST,
    DATA_STEWARD,
    POLICY_OFFICER,
    AGENCY_REPORTER,
    STAKEHOLDER,
)
ROLE_CHOICES = [(r, ROLE_LABELS[r]) for r in ACCOUNT_ROLES]

_SIGNED_IN = frozenset(ACCOUNT_ROLES)

#: capability -> roles that hold it. Least privilege: an administrator manages people,
#: not case data; a policy officer sees aggregate evidence only.
CAPABILITIES: dict[str, frozenset[str]] = {
    "dashboard.view": _SIGNED_IN,
    "account.self": _SIGNED_IN,
    # case-level data (pseudonymised); every view of it is audited
    "cases.view": frozenset({ANALYST, DATA_STEWARD}),
    "cases.import": frozenset({ANALYST, DATA_STEWARD}),
    "cases.export": frozenset({ANALYST, DATA_STEWARD}),
    "cases.reveal_identifiers": frozenset({DATA_STEWARD}),
    # agency submissions: a reporter sees only their own organisation's submissions
    "submissions.create": frozenset({AGENCY_REPORTER}),
    "submissions.view_own": frozenset({AGENCY_REPORTER}),
    # approve or return an agency's submission (only approved data enter the figures)
    "submissions.review": frozenset({DATA_STEWARD}),
    "linkage.run": frozenset({ANALYST, DATA_STEWARD}),
    "linkage.review": frozenset({DATA_STEWARD}),
    "estimates.run": frozenset({ANALYST, DATA_STEWARD}),
    # which estimate is the country's figure (the home page, briefs and plans quote it)
    "estimates.designate": frozenset({DATA_STEWARD}),
    # which link run defines a person in the figures (trends, profiles, routes, hotspots)
    "linkage.designate": frozenset({DATA_STEWARD}),
    # aggregate evidence: estimates, trends, profiles, routes, hotspots
    "insights.view": frozenset({ANALYST, DATA_STEWARD, POLICY_OFFICER}),
    # legal-framework assessment: read by the evidence roles; answered by analysts and
    # policy officers; reviewed by one of them other than the assessor
    "assessment.view": frozenset({ANALYST, DATA_STEWARD, POLICY_OFFICER}),
    "assessment.edit": frozenset({ANALYST, POLICY_OFFICER}),
    "assessment.review": frozenset({ANALYST, POLICY_OFFICER}),
    # National Action Plans: the menu entry (agency reporters see the measures their
    # organisation leads, nothing else); the whole plan; drafting; adoption by the
    # coordinator (the administrator) — who drafts does not adopt
    "plans.list": frozenset({ANALYST, DATA_STEWARD, POLICY_OFFICER, ADMINISTRATOR,
                             AGENCY_REPORTER}),
    "plans.view": frozenset({ANALYST, DATA_STEWARD, POLICY_OFFICER, ADMINISTRATOR}),
    "plans.edit": frozenset({POLICY_OFFICER}),
    "plans.adopt": frozenset({ADMINISTRATOR}),
    "budgets.edit": frozenset({POLICY_OFFICER}),
    # monitoring: agencies report indicator values in rounds (their own organisation's
    # forms); data stewards approve or return them; policy officers open rounds and follow
    # completeness; the evidence roles read them
    "indicators.submit": frozenset({AGENCY_REPORTER, POLICY_OFFICER}),
    "monitoring.view": frozenset({AGENCY_REPORTER, POLICY_OFFICER, ANALYST, DATA_STEWARD,
                                  ADMINISTRATOR}),
    "monitoring.manage": frozenset({POLICY_OFFICER}),
    "monitoring.review": frozenset({DATA_STEWARD}),
    # evaluation: scorecards (read by the evidence roles and the coordinator), periodic reviews
    # and impact evaluations (run by policy officers and analysts)
    "evaluation.view": frozenset({POLICY_OFFICER, ANALYST, DATA_STEWARD, ADMINISTRATOR}),
    "evaluation.review": frozenset({POLICY_OFFICER}),
    "evaluation.impact": frozenset({POLICY_OFFICER, ANALYST}),
    # consultations on a plan: the menu entry (stakeholders and agency reporters see only
    # the consultations their organisation is invited to); taking part; running one (open,
    # moderate, answer); one-time codes for survivors' and the public's input, issued by
    # caseworkers (agency reporters of NGOs and shelters) and the drafting team; reviewing
    # that input before anyone else reads it
    "consultations.view": frozenset({STAKEHOLDER, AGENCY_REPORTER, POLICY_OFFICER, ANALYST,
                                     DATA_STEWARD, ADMINISTRATOR}),
    "consultations.comment": frozenset({STAKEHOLDER, AGENCY_REPORTER, POLICY_OFFICER}),
    "consultations.manage": frozenset({POLICY_OFFICER}),
    "voice.issue_codes": frozenset({POLICY_OFFICER, AGENCY_REPORTER}),
    "voice.review": frozenset({POLICY_OFFICER}),
    # working groups and advisory boards: members see their own groups, the drafting team
    # and the evidence roles see all of them; the drafting team runs them
    "groups.view": frozenset({STAKEHOLDER, AGENCY_REPORTER, POLICY_OFFICER, ANALYST,
                              DATA_STEWARD, ADMINISTRATOR}),
    "groups.manage": frozenset({POLICY_OFFICER}),
    # the safe reporting channel: reports name victims and suspects, so they are read by the
    # role that may see identifiers; a report becomes an intake record through the same role
    "reporting.triage": frozenset({DATA_STEWARD}),
    # publication: analysts prepare releases, data stewards approve them (four eyes), policy
    # officers write briefs from published releases; the public reads /public/ without login
    "publications.view": frozenset({ANALYST, DATA_STEWARD, POLICY_OFFICER, ADMINISTRATOR}),
    "publications.prepare": frozenset({ANALYST, DATA_STEWARD}),
    "publications.approve": frozenset({DATA_STEWARD}),
    "publications.brief": frozenset({ANALYST, POLICY_OFFICER}),
    # the dashboard panel (budget, decisions waiting, the latest brief): the people who work
    # with releases; administrators manage people and find releases in the menu
    "publications.panel": frozenset({ANALYST, DATA_STEWARD, POLICY_OFFICER}),
    # qualitative evidence: interview notes are read redacted by the evidence and policy
    # roles, in full (audited) by the coders and stewards; analysts code them and accept or
    # reject the model's suggestions; analysts and stewards add notes and edit the codebook
    "evidence.view": frozenset({ANALYST, DATA_STEWARD, POLICY_OFFICER}),
    "evidence.read_full": frozenset({ANALYST, DATA_STEWARD}),
    "evidence.code": frozenset({ANALYST}),
    "evidence.manage": frozenset({ANALYST, DATA_STEWARD}),
    # screening free texts (case narratives, advertisements) for trafficking indicators:
    # the texts may name people, so only the case-data roles run and review it
    "screening.view": frozenset({ANALYST, DATA_STEWARD}),
    "screening.run": frozenset({ANALYST, DATA_STEWARD}),
    "screening.review": frozenset({ANALYST, DATA_STEWARD}),
    "audit.view": frozenset({ADMINISTRATOR}),
    # background jobs: everyone who can start one follows their own; administrators keep
    # the queue healthy (every job's metadata, cancel), without its results
    "jobs.view": _SIGNED_IN - {STAKEHOLDER},
    "jobs.operate": frozenset({ADMINISTRATOR}),
    "users.manage": frozenset({ADMINISTRATOR}),
    # API tokens bypass the browser's second factor, so 2FA roles cannot hold them.
    "api.tokens": frozenset({AGENCY_REPORTER, ANALYST}),
}


def roles_with(capability: str) -> frozenset[str]:
    """The roles holding ``capability``; an unknown name is a programming error."""
    try:
        return CAPABILITIES[capability]
    except KeyError:
        raise KeyError(
            f"unknown capability {capability!r}; add it to tiplab_web.core.roles.CAPABILITIES"
        ) from None
