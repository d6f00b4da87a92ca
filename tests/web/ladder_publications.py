"""Permission-ladder rows of the publications app (appended to ``tests/web/ladder.py``).

Releases belong to the organisation that publishes them: outsiders get 404. The public
portal's routes are checked by ``test_public_portal.py`` (no login at all)."""

from __future__ import annotations

from tests.web import publications_support as _pub
from tests.web.ladder import Rung

from tiplab_web.core.roles import ADMINISTRATOR, ANALYST, DATA_STEWARD, POLICY_OFFICER

VIEW = frozenset({ANALYST, DATA_STEWARD, POLICY_OFFICER, ADMINISTRATOR})
PREPARE = frozenset({ANALYST, DATA_STEWARD})
APPROVE = frozenset({DATA_STEWARD})
BRIEF = frozenset({ANALYST, POLICY_OFFICER})


def _public_release(world: object, user: object) -> dict[str, object]:
    return {"identifier": _pub.make_release(user, "published").release.identifier}


def _public_version(world: object, user: object) -> dict[str, object]:
    return {**_public_release(world, user), "number": 1}


ROWS: list[Rung] = [
    Rung("publications:index", allowed=VIEW),
    Rung("publications:ledger", allowed=VIEW),
    Rung("publications:new", allowed=PREPARE),
    Rung("publications:new", "post", allowed=PREPARE, data={"title": ""},
         note="no title: the form again with the error"),
    Rung("publications:release", allowed=VIEW, kwargs=_pub.release_kwargs, outsider=True),
    Rung("publications:new_version", allowed=PREPARE, kwargs=_pub.release_kwargs,
         outsider=True),
    Rung("publications:version", allowed=VIEW, kwargs=_pub.version_kwargs, outsider=True),
    Rung("publications:version_action", "post", allowed=VIEW, outsider=True,
         kwargs=lambda w, u: {**_pub.version_kwargs(w, u), "action": "approve"},
         note="a role that may not approve is told so on the page (the service refuses)"),
    Rung("publications:download", allowed=VIEW, outsider=True, ok=(200, 302, 404),
         kwargs=lambda w, u: {**_pub.published_kwargs(w, u), "key": "key_figures",
                              "fmt": "csv"},
         note="the ladder's version has no files: 404 once allowed"),
    Rung("publications:new_brief", "post", allowed=BRIEF, kwargs=_pub.published_kwargs,
         outsider=True, data={"kind": "brief"}),
    Rung("publications:brief", allowed=VIEW, kwargs=_pub.brief_kwargs, outsider=True),
    Rung("publications:brief_file", allowed=VIEW, outsider=True, ok=(200, 302),
         kwargs=lambda w, u: {**_pub.brief_kwargs(w, u), "fmt": "html"}),
]

# the public portal and the open-data API: no login (the files, charts, brief and plan pages
# need real files or an adopted plan: test_public_portal.py crawls them)
ROWS += [
    Rung("public:index", public=True),
    Rung("public:plans", public=True),
    Rung("public:release", public=True, kwargs=_public_release),
    Rung("public:version", public=True, kwargs=_public_version),
    Rung("open_api:releases", api=True, public=True),
    Rung("open_api:plans", api=True, public=True),
    Rung("open_api:openapi-json", api=True, public=True),
    Rung("open_api:openapi-view", api=True, public=True),
    Rung("open_api:release", api=True, public=True, kwargs=_public_release),
    Rung("open_api:version", api=True, public=True, kwargs=_public_version),
]
