"""Sign-in, two-factor, invitations, user management and API tokens. Views stay thin:
they parse forms, call ``services``, and map its named errors to responses."""

from __future__ import annotations

import base64
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from tiplab_web import audit
from tiplab_web.accounts import security, services
from tiplab_web.accounts.access import get_account_for, get_api_token_for
from tiplab_web.accounts.forms import (
    AcceptInvitationForm,
    InviteForm,
    LoginForm,
    OrganisationForm,
    OTPCodeForm,
    TokenForm,
    UserEditForm,
)
from tiplab_web.accounts.models import ApiToken, Invitation, Organisation, RoleGrant
from tiplab_web.audit import actions
from tiplab_web.core import ratelimit
from tiplab_web.core.access import capability_required, login_required
from tiplab_web.core.reauth import require_recent_password

User = get_user_model()


def _next(request: HttpRequest, default: str = "/") -> str:
    raw = request.POST.get("next") or request.GET.get("next")
    if raw and url_has_allowed_host_and_scheme(
        raw, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return raw
    return default


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            ratelimit.check("login", ratelimit.client_ip(request))
        except ratelimit.RateLimited as e:
            return render(request, "429.html", {"retry_after": e.retry_after}, status=429)
        return super().post(request, *args, **kwargs)


class LogoutView(auth_views.LogoutView):
    http_method_names = ("post", "options")


# --- two-factor ------------------------------------------------------------------------


def _qr_svg(uri: str) -> str:
    # Inline SVG, no style attributes: the Content-Security-Policy forbids inline styles.
    return segno.make(uri, error="m").svg_inline(
        scale=5, border=2, dark="#000", light="#fff", title=_("QR code for your authenticator app")
    )


@require_http_methods(["GET", "POST"])
@login_required
def otp_enrol(request: HttpRequest) -> HttpResponse:
    user = request.user
    if services.has_confirmed_totp(user):
        if user.is_verified():
            messages.info(request, _("Two-factor authentication is already set up."))
            return redirect("core:home")
        return redirect_with_next("accounts:otp_verify", request)
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    form = OTPCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            audit.record(request, actions.OTP_ENROLLED, device)
            messages.success(request, _("Two-factor authentication is set up."))
            return render(request, "accounts/recovery_codes.html", {
                "codes": security.new_codes(request, user), "next": _next(request)})
        audit.record(request, actions.OTP_FAILED, stage="enrolment")
        form.add_error(
            "code", _("That code is not right. Check your device's clock and try the current code.")
        )
    return render(
        request,
        "accounts/otp_enrol.html",
        {
            "form": form,
            "qr_svg": _qr_svg(device.config_url),
            "secret": base64.b32encode(device.bin_key).decode(),
            "next": _next(request, ""),
        },
    )


def redirect_with_next(url_name: str, request: HttpRequest) -> HttpResponse:
    target = reverse(url_name)
    nxt = _next(request, "")
    return redirect(target + ("?" + urlencode({"next": nxt}) if nxt else ""))


@require_http_methods(["GET", "POST"])
@login_required
def otp_verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not services.has_confirmed_totp(user):
        return redirect_with_next("accounts:otp_enrol", request)
    if user.is_verified():
        return redirect(_next(request))
    if request.method == "POST" and "recovery_code" in request.POST:
        code = request.POST.get("recovery_code", "")
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is not None and security.looks_like_code(code) and security.use_code(
                request, user, code):
            otp_login(request, device)  # the code stands in for the authenticator, once
            left = security.remaining(user)
            messages.warning(request, _(
                "You signed in with a recovery code; %(n)s remain. Make new ones, or set up "
                "your authenticator again, on the Security page.") % {"n": left})
            return redirect(_next(request))
        audit.record(request, actions.OTP_FAILED, stage="recovery code")
        messages.error(request, _("That recovery code is not right, or was used already."))
    form = OTPCodeForm(request.POST if "code" in request.POST else None)
    if request.method == "POST" and form.is_valid():
        device = match_token(user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            audit.record(request, actions.OTP_VERIFIED, device)
            return redirect(_next(request))
        audit.record(request, actions.OTP_FAILED, stage="sign-in")
        form.add_error(
            "code",
            _(
                "That code is not right, or too many attempts were made. "
                "Wait a moment and try the current code."
            ),
        )
    return render(request, "accounts/otp_verify.html", {"form": form, "next": _next(request, "")})


# --- invitations -----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    try:
        inv = services.usable_invitation(token)
    except services.InvitationInvalid:
        raise Http404 from None
    form = AcceptInvitationForm(request.POST or None, email=inv.email)
    if request.method == "POST" and form.is_valid():
        try:
            services.accept_invitation(
                request,
                token,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
            )
        except services.UsernameTaken as e:
            form.add_error("username", str(e))
        except services.InvitationInvalid:
            raise Http404 from None
        else:
            messages.success(request, _("Your account is ready. Sign in with your new password."))
            return redirect("accounts:login")
    return render(request, "accounts/invitation.html", {"form": form, "invitation": inv})


# --- user management (administrators) ----------------------------------------------------


@require_GET
@capability_required("users.manage")
def users(request: HttpRequest) -> HttpResponse:
    people = (
        User.objects.select_related("profile__organisation")
        .prefetch_related(Prefetch("role_grants", queryset=RoleGrant.objects.all()))
        .order_by("username")
    )
    with_2fa = set(TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True))
    pending = Invitation.objects.filter(accepted_at__isnull=True).select_related("organisation")
    return render(
        request,
        "accounts/users.html",
        {
            "people": people,
            "with_2fa": with_2fa,
            "invitations": [i for i in pending if i.is_usable],
            "organisations": Organisation.objects.all(),
        },
    )


@require_http_methods(["GET", "POST"])
@capability_required("users.manage")
def user_invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _inv, _link = services.invite(request, **form.cleaned_data)
        except services.AccountsError as e:
            form.add_error(None, str(e))
        else:
            messages.success(
                request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]}
            )
            return redirect("accounts:users")
    return render(request, "accounts/invite.html", {"form": form})


@require_http_methods(["GET", "POST"])
@capability_required("users.manage")
@require_recent_password()
def user_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    account = get_account_for(request.user, user_id)
    profile = getattr(account, "profile", None)
    initial = {
        "organisation": profile.organisation if profile else None,
        "roles": list(account.role_grants.values_list("role", flat=True)),
        "is_active": account.is_active,
    }
    form = UserEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        if account.pk == request.user.pk and "administrator" not in form.cleaned_data["roles"]:
            form.add_error("roles", _("You cannot remove your own administrator role."))
        else:
            services.update_user(request, account, **form.cleaned_data)
            messages.success(
                request, _("Saved changes to %(user)s.") % {"user": account.get_username()}
            )
            return redirect("accounts:users")
    return render(request, "accounts/user_edit.html", {
        "form": form, "account": account,
        "active_sessions": len(security.active_sessions(account)),
        "has_second_factor": TOTPDevice.objects.filter(user=account, confirmed=True).exists()})


@require_http_methods(["GET", "POST"])
@capability_required("users.manage")
def organisations(request: HttpRequest) -> HttpResponse:
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        org = services.create_organisation(request, **form.cleaned_data)
        messages.success(request, _("Organisation %(name)s added.") % {"name": org.name})
        return redirect("accounts:organisations")
    return render(
        request,
        "accounts/organisations.html",
        {"form": form, "organisations": Organisation.objects.all()},
    )


# --- API tokens --------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@capability_required("api.tokens")
def tokens(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        _token, created = services.create_token(request, **form.cleaned_data)
        form = TokenForm()
    response = render(
        request,
        "accounts/tokens.html",
        {"form": form, "created": created, "tokens": ApiToken.objects.filter(owner=request.user)},
    )
    if created:
        response["Cache-Control"] = "no-store"  # the token is shown once and never cached
    return response


@require_POST
@capability_required("api.tokens")
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_api_token_for(request.user, token_id)
    services.revoke_token(request, token)
    messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    return redirect("accounts:tokens")
