"""Root URLconf. Every URL pattern here must have a row in the permission ladder table
(``tests/web/ladder.py``); ``tests/web/test_ladder.py`` fails otherwise."""

import importlib.util

from django.urls import include, path

from tiplab_web.api import api
from tiplab_web.core.anonymous import asset as anonymous_asset
from tiplab_web.core.health import healthz
from tiplab_web.core.language import set_language
from tiplab_web.publications.open_api import open_api

handler400 = "tiplab_web.core.errors.bad_request"
handler404 = "tiplab_web.core.errors.page_not_found"
handler500 = "tiplab_web.core.errors.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", include("tiplab_web.core.urls")),
    path("accounts/", include("tiplab_web.accounts.urls")),
    path("audit/", include("tiplab_web.audit.urls")),
    # Django's set_language, which also remembers the choice on the user's profile
    path("i18n/setlang/", set_language, name="set_language"),
    # the open-data API (read-only, no authentication) before the main API's prefix
    path("api/open/", open_api.urls),
    path("api/", api.urls),
    path("linkage/", include("tiplab_web.linkage.urls")),
    path("estimates/", include("tiplab_web.estimates.urls")),
    path("insights/", include("tiplab_web.insights.urls")),
    path("assessment/", include("tiplab_web.assessment.urls")),
    path("plans/", include("tiplab_web.plans.urls")),
    path("consultations/", include("tiplab_web.consultations.urls")),
    path("groups/", include("tiplab_web.groups.urls")),
    path("monitoring/", include("tiplab_web.monitoring.urls")),
    path("evaluation/", include("tiplab_web.evaluation.urls")),
    path("publications/", include("tiplab_web.publications.urls")),
    path("evidence/", include("tiplab_web.evidence.urls")),
    path("screening/", include("tiplab_web.screening.urls")),
    # the public portal: published releases and plan progress, no login
    path("public/", include("tiplab_web.publications.public_urls")),
    # the anonymous routes (tiplab_web.core.anonymous): no address, agent or cookie kept
    path("voice/", include("tiplab_web.consultations.voice_urls")),
    path("report/", include("tiplab_web.reporting.public_urls")),
    path("a/<str:name>", anonymous_asset, name="anonymous_asset"),
    path("reporting/", include("tiplab_web.reporting.urls")),
    path("jobs/", include("tiplab_web.jobs.urls")),
]

# The cases app's pages, once it has them (namespace "cases").
if importlib.util.find_spec("tiplab_web.cases.urls") is not None:
    urlpatterns.append(path("cases/", include("tiplab_web.cases.urls")))
