from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from tiplab_web.accounts.models import Organisation
from tiplab_web.core.roles import ROLE_CHOICES


class LoginForm(AuthenticationForm):
    pass


class OTPCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Six-digit code from your authenticator app"),
        max_length=8,
        min_length=6,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9]*",
                "autofocus": True,
            }
        ),
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip().replace(" ", "")
        if not code.isdigit():
            raise forms.ValidationError(_("Enter digits only."))
        return code


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.all()
    )
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=ROLE_CHOICES, widget=forms.CheckboxSelectMultiple
    )


class AcceptInvitationForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, email: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        get_user_model().username_validator(username)
        return username

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        elif p1 and data.get("username"):
            user = get_user_model()(username=data["username"], email=self.email)
            try:
                password_validation.validate_password(p1, user)
            except forms.ValidationError as e:
                self.add_error("password1", e)
        return data


class UserEditForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.all()
    )
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=ROLE_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    is_active = forms.BooleanField(label=_("Account active"), required=False)
    reset_two_factor = forms.BooleanField(
        label=_("Reset two-factor authentication (the user enrols a new device at next sign-in)"),
        required=False,
    )


class OrganisationForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = ("name", "kind", "country")

    def clean_country(self) -> str:
        country = self.cleaned_data["country"].strip().upper()
        if len(country) != 2 or not country.isalpha():
            raise forms.ValidationError(_("Use the two-letter ISO 3166-1 code, e.g. FR."))
        return country


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What the token is for, e.g. the reporting system's name."),
    )
    days = forms.TypedChoiceField(
        label=_("Valid for"),
        coerce=int,
        initial=90,
        choices=[(30, _("30 days")), (90, _("90 days")), (365, _("1 year"))],
    )
