"""The home dashboard, lazily loaded panels, and the confirm-password page."""

from __future__ import annotations

from django.contrib.auth import logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from tiplab_web import audit
from tiplab_web.core import panels, ratelimit
from tiplab_web.core.access import can, login_required
from tiplab_web.core.forms import ConfirmPasswordForm
from tiplab_web.core.reauth import SESSION_KEY, mark_password_confirmed

MAX_REAUTH_FAILURES = 5


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    items = []
    for panel in panels.visible_panels(request):
        html = "" if panel.lazy else panels.render_panel(request, panel)
        items.append(panels.RenderedPanel(panel, html))
    return render(request, "core/home.html", {"panels": items})


@require_GET
@login_required
def panel(request: HttpRequest, key: str) -> HttpResponse:
    found = panels.get(key)
    if found is None or not can(request.user, found.capability):
        raise Http404
    return HttpResponse(panels.render_panel(request, found))


def _safe_next(request: HttpRequest, raw: str | None) -> str:
    if raw and url_has_allowed_host_and_scheme(
        raw, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return raw
    return "/"


@require_http_methods(["GET", "POST"])
@login_required
def confirm_password(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = ConfirmPasswordForm(request.user, request.POST or None)
    if request.method == "POST":
        try:
            ratelimit.check("reauth", str(request.user.pk))
        except ratelimit.RateLimited as e:
            return render(
                request,
                "core/confirm_password.html",
                {"form": form, "next": next_url, "retry_after": e.retry_after},
                status=429,
            )
        if form.is_valid():
            mark_password_confirmed(request)
            request.session.pop("tiplab_reauth_failures", None)
            audit.record(request, "auth.reauth")
            return redirect(next_url)
        failures = request.session.get("tiplab_reauth_failures", 0) + 1
        request.session["tiplab_reauth_failures"] = failures
        audit.record(request, "auth.reauth_failed", failures=failures)
        if failures >= MAX_REAUTH_FAILURES:
            audit.record(request, "auth.logout", reason="too many failed re-authentications")
            logout(request)
            request.session.pop(SESSION_KEY, None)
            return redirect("accounts:login")
    return render(
        request,
        "core/confirm_password.html",
        {"form": form, "next": next_url, "title": _("Confirm your password")},
    )


@require_GET
@login_required
def glossary(request: HttpRequest) -> HttpResponse:
    from tiplab_web.core.glossary import TERMS

    return render(request, "core/glossary.html", {"terms": TERMS})
