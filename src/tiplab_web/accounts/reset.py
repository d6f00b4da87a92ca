"""Password reset by e-mail: rate-limited, single-use tokens that expire, audited, and no
account enumeration.

The request page answers the same whether or not the address belongs to an account
(Django's ``PasswordResetForm``, which mails only a real, active account); requests are
limited per client address and per address
asked for. The link (Django's token: single use, as it changes with the password; valid for
``TIPLAB_PASSWORD_RESET_MINUTES``) leads to a new password checked by the validators.
Setting it signs the account out everywhere (the session hash changes) and does not bypass
the second factor: the next sign-in asks for it as always.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy

from tiplab_web import audit
from tiplab_web.audit import actions
from tiplab_web.core import ratelimit


class ResetRequestView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_sent")
    form_class = PasswordResetForm

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        address = request.POST.get("email", "").strip().lower()
        try:
            ratelimit.check("password_reset", ratelimit.client_ip(request))
            ratelimit.check("password_reset", f"address:{address}")
        except ratelimit.RateLimited as e:
            return render(request, "429.html", {"retry_after": e.retry_after}, status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        users = list(form.get_users(form.cleaned_data["email"]))
        for user in users:  # the address is not written to the log, the account is
            audit.record(self.request, actions.PASSWORD_RESET_REQUESTED, user)
        if not users:
            audit.record(self.request, actions.PASSWORD_RESET_REQUESTED, None,
                         matched=False)
        return super().form_valid(form)


class ResetSentView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_sent.html"


class ResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_done")
    post_reset_login = False

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        audit.record(self.request, actions.PASSWORD_RESET, self.user)
        return response


class ResetDoneView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_done.html"

