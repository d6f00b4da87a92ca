"""URLconf for API tests: the project's URLs plus a test-only API at /api/_test/ that
raises each kind of error, handled by the same error handlers as the real API."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path
from ninja import NinjaAPI, Schema

from tiplab_web.api import install_error_handlers, require, token_auth
from tiplab_web.urls import urlpatterns as project_urlpatterns

test_api = NinjaAPI(title="test", urls_namespace="api_test", auth=token_auth, docs_url=None)
install_error_handlers(test_api)


class Numbers(Schema):
    n: int


@test_api.post("/echo")
def echo(request, body: Numbers):
    return {"n": body.n}


@test_api.get("/admin-only")
def admin_only(request):
    require(request, "users.manage")
    return {"ok": True}


@test_api.get("/missing")
def missing(request):
    raise Http404("no such submission")


@test_api.get("/denied")
def denied(request):
    raise PermissionDenied


@test_api.get("/boom", auth=None)
def boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("api/_test/", test_api.urls), *project_urlpatterns]
