"""The user's Security page (sessions, recovery codes) and an administrator's reset of a
user's second factor or sessions. The work is in ``security``."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tiplab_web.accounts import security
from tiplab_web.accounts.access import get_account_for
from tiplab_web.core.access import capability_required, login_required
from tiplab_web.core.reauth import require_recent_password


@require_GET
@login_required
def security_page(request: HttpRequest) -> HttpResponse:
    sessions = security.active_sessions(request.user)
    return render(request, "accounts/security.html", {
        "sessions": [{"s": s, "client": security.browser_of(s.user_agent),
                      "current": s.session_key == request.session.session_key}
                     for s in sessions],
        "remaining": security.remaining(request.user),
        "idle_minutes": request.session.get_expiry_age() // 60,
    })


@require_POST
@login_required
def end_sessions(request: HttpRequest) -> HttpResponse:
    """End one of the user's sessions (``session``) or all but this one (``others``)."""
    if request.POST.get("others"):
        n = security.sign_out_everywhere(request, request.user, keep=request.session.session_key)
    else:
        key = request.POST.get("session", "")
        n = security.sign_out(request, request.user,
                              [key] if key and key != request.session.session_key else [])
    messages.success(request, _("Signed out of %(n)s other session(s).") % {"n": n})
    return redirect("accounts:security")


@require_POST
@login_required
@require_recent_password()
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes (the old ones stop working), shown once."""
    return render(request, "accounts/recovery_codes.html", {
        "codes": security.new_codes(request, request.user), "next": ""})


@require_POST
@capability_required("users.manage")
@require_recent_password()
def user_reset_second_factor(request: HttpRequest, user_id: int) -> HttpResponse:
    account = get_account_for(request.user, user_id)
    if account.pk == request.user.pk:
        messages.error(request, _("You cannot reset your own second factor here: ask another "
                                  "administrator."))
    else:
        security.reset_second_factor(request, account)
        messages.success(request, _("%(user)s's second factor was removed; they set up a new "
                                    "one at their next sign-in, and were signed out everywhere.")
                         % {"user": account.get_username()})
    return redirect("accounts:user_edit", user_id=account.pk)


@require_POST
@capability_required("users.manage")
def user_sign_out(request: HttpRequest, user_id: int) -> HttpResponse:
    account = get_account_for(request.user, user_id)
    keep = request.session.session_key if account.pk == request.user.pk else None
    n = security.sign_out_everywhere(request, account, keep=keep)
    messages.success(request, _("%(user)s was signed out of %(n)s session(s).")
                     % {"user": account.get_username(), "n": n})
    return redirect("accounts:user_edit", user_id=account.pk)
