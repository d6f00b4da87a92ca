from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from . import services
from .access import batches_for, own_agency
from .models import ImportBatch

UPLOAD = "__upload__"
INFER = "__infer__"


def _active_batch_choices(user: Any) -> list[tuple[str, str]]:
    qs = batches_for(user).filter(status=ImportBatch.ACTIVE).order_by("-imported_at")[:200]
    return [("", _("— a new batch —"))] + [
        (b.batch_id, f"{b.batch_id} · {b.source_agency} · {b.file_name}") for b in qs
    ]


class IntakeForm(forms.Form):
    file = forms.FileField(
        label=_("Data file"),
        help_text=_("CSV, Excel (.xlsx), JSON, NDJSON or Parquet."),
    )
    profile = forms.ChoiceField(
        label=_("Mapping profile"),
        help_text=_("How the file's columns map onto the case schema."),
    )
    profile_file = forms.FileField(label=_("Profile file (YAML)"), required=False)
    source_agency = forms.CharField(
        label=_("Source agency"), required=False, max_length=200,
        help_text=_("Leave empty to use the profile's source agency."),
    )
    supersede = forms.ChoiceField(
        label=_("Replaces batch"), required=False,
        help_text=_("Pick a batch only to correct it: it will be kept but marked superseded."),
    )

    def __init__(self, user: Any, *args: Any, fixed_supersede: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        known = services.known_profiles()
        self.fields["profile"].choices = [
            ("", _("— choose how your file is laid out —")),
            *((p.key, p.label) for p in known.values()),
            (UPLOAD, _("Upload a profile file…")),
            (INFER, _("Draft a profile from the file…")),
        ]
        # a reporter's own agency's profile, when there is one; otherwise nothing is chosen
        # for the user (a police officer was offered the UNODC GLOTIP profile first)
        agency = own_agency(user)
        if agency:
            mine = [k for k in known if k.split(":", 1)[1] == agency]
            if mine:
                self.fields["profile"].initial = mine[0]
        self.fields["supersede"].choices = _active_batch_choices(user)
        if own_agency(user) is not None:
            del self.fields["source_agency"]  # reporters import for their own agency only
        if fixed_supersede is not None:
            del self.fields["supersede"]
        self.fixed_supersede = fixed_supersede
        max_mb = services.max_upload_bytes() // (1024 * 1024)
        self.fields["file"].help_text = _(
            "CSV, Excel (.xlsx), JSON, NDJSON or Parquet; at most %(mb)s MB."
        ) % {"mb": max_mb}

    def clean_file(self) -> Any:
        f = self.cleaned_data["file"]
        try:
            services.check_upload(f.name, f.size)
        except services.UploadError as e:
            raise forms.ValidationError(str(e)) from None
        return f

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("profile") == UPLOAD and not data.get("profile_file"):
            self.add_error("profile_file", _("Choose the profile file to upload."))
        return data


class ProfileTextForm(forms.Form):
    text = forms.CharField(
        label=_("Profile (YAML)"),
        widget=forms.Textarea(attrs={"rows": 24, "cols": 90, "spellcheck": "false",
                                     "class": "code-input"}),
    )


class ReplaceFileForm(forms.Form):
    file = forms.FileField(label=_("Corrected file"))

    def clean_file(self) -> Any:
        f = self.cleaned_data["file"]
        try:
            services.check_upload(f.name, f.size)
        except services.UploadError as e:
            raise forms.ValidationError(str(e)) from None
        return f


class CaseFilterForm(forms.Form):
    SORTS = [
        ("-registration_date", _("Newest registration first")),
        ("registration_date", _("Oldest registration first")),
        ("source_agency", _("Source")),
        ("age", _("Age")),
        ("citizenship", _("Citizenship")),
    ]
    source = forms.ChoiceField(label=_("Source"), required=False)
    year = forms.IntegerField(label=_("Year"), required=False, min_value=1900, max_value=2100)
    sex = forms.ChoiceField(label=_("Sex"), required=False)
    age_band = forms.ChoiceField(label=_("Age band"), required=False)
    citizenship = forms.CharField(label=_("Citizenship"), required=False, max_length=3)
    region = forms.CharField(label=_("Region"), required=False, max_length=100)
    form = forms.ChoiceField(label=_("Form of exploitation"), required=False)
    batch = forms.CharField(label=_("Batch"), required=False, max_length=40)
    has_warnings = forms.BooleanField(label=_("Only with warnings"), required=False)
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=SORTS)

    def __init__(self, *args: Any, choices: dict[str, list[str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from tiplab_web.core.labels import label

        field_of = {"sex": "sex", "form": "exploitation_forms"}  # codes shown in words
        for name in ("source", "sex", "age_band", "form"):
            self.fields[name].choices = [("", _("any"))] + [
                (v, label(v, field_of[name]) if name in field_of else v)
                for v in choices[name]]
