"""Forms of the group pages. They parse input; the rules are checked in ``services``, whose
:class:`~tiplab_web.groups.services.GroupError` names the field it is about."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from tiplab_web.accounts.models import Organisation

from .models import ActionItem, Attendance, Decision, Group, Meeting, Membership


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


def _date(label: Any, required: bool = False, **kwargs: Any) -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=DateInput(), **kwargs)


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Group.Kind.choices)
    mandate = forms.CharField(label=_("Mandate and terms of reference"), required=False,
                              widget=forms.Textarea(attrs={"rows": 6}))
    plan = forms.ModelChoiceField(label=_("Plan it follows"), required=False,
                                  queryset=None, empty_label=_("(none)"))
    measures = forms.CharField(
        label=_("Measures it follows"), required=False, max_length=2000,
        help_text=_("Measure ids of that plan, separated by commas, e.g. PV1.1, PR1.2."))
    active_from = _date(_("Active from"))
    active_to = _date(_("Active until"))
    pseudonymous = forms.BooleanField(
        label=_("Members are named by pseudonyms only (a survivor board)"), required=False,
        help_text=_("Members of a survivor board are never named: they are listed by a "
                    "pseudonym and no account is linked to them."))

    def __init__(self, *args: Any, plans: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = plans  # type: ignore[attr-defined]

    @classmethod
    def initial_for(cls, group: Group) -> dict[str, Any]:
        return {"name": group.name, "kind": group.kind, "mandate": group.mandate,
                "plan": group.plan_id, "measures": ", ".join(group.measures or []),
                "active_from": group.active_from, "active_to": group.active_to,
                "pseudonymous": group.pseudonymous}


class MemberForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("Organisation"), required=False,
                                          queryset=Organisation.objects.all(),
                                          empty_label=_("(none)"))
    person = forms.CharField(label=_("Person"), required=False, max_length=200,
                             help_text=_("A name (or, in a survivor board, a pseudonym). "
                                         "Leave empty for the organisation as a whole."))
    username = forms.CharField(label=_("Their account (username), if any"), required=False,
                               max_length=150,
                               help_text=_("Links the membership to an account, so the "
                                           "person sees the group and their action items."))
    role = forms.ChoiceField(label=_("Role in the group"), choices=Membership.Role.choices,
                             initial=Membership.Role.MEMBER)
    start = _date(_("Member since"), help_text=_("Empty: today."))

    def __init__(self, *args: Any, pseudonymous: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if pseudonymous:
            del self.fields["username"]
            self.fields["person"].label = _("Pseudonym")
            self.fields["person"].help_text = _(
                "Members of a survivor board are never named: give a pseudonym only.")

    def clean_username(self) -> Any:
        name = self.cleaned_data.get("username", "").strip()
        if not name:
            return None
        user = get_user_model().objects.filter(username=name, is_active=True).first()
        if user is None:
            raise forms.ValidationError(_("No active account is called %(u)s.") % {"u": name})
        return user


class EndMemberForm(forms.Form):
    end = _date(_("Member until"), help_text=_("Empty: today."))


class MeetingForm(forms.Form):
    date = _date(_("Date"), required=True)
    online = forms.BooleanField(label=_("Online"), required=False)
    place = forms.CharField(label=_("Place"), required=False, max_length=200,
                            help_text=_("Where it meets; for an online meeting, optionally "
                                        "the platform."))
    agenda = forms.CharField(label=_("Agenda"), required=False,
                             widget=forms.Textarea(attrs={"rows": 5}))
    status = forms.ChoiceField(label=_("Status"), choices=Meeting.Status.choices,
                               initial=Meeting.Status.PLANNED)

    @classmethod
    def initial_for(cls, m: Meeting) -> dict[str, Any]:
        return {"date": m.date, "online": m.online, "place": m.place, "agenda": m.agenda,
                "status": m.status}


class MinutesForm(forms.Form):
    minutes = forms.CharField(label=_("Minutes"), required=False, strip=False,
                              widget=forms.Textarea(attrs={"rows": 12}))


class DecisionForm(forms.Form):
    text = forms.CharField(label=_("Decision"), required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))
    measures = forms.CharField(label=_("Measures it concerns"), required=False,
                               max_length=2000,
                               help_text=_("Measure ids of the group's plan, separated by "
                                           "commas."))


class ActionForm(forms.Form):
    description = forms.CharField(label=_("Action"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    owner = forms.ModelChoiceField(label=_("Owner"), required=False, queryset=None,
                                   empty_label=_("(nobody yet)"))
    due = _date(_("Due"))
    decision = forms.ModelChoiceField(label=_("Under the decision"), required=False,
                                      queryset=None, empty_label=_("(none)"))
    measure = forms.ChoiceField(label=_("Measure"), required=False)
    notes = forms.CharField(label=_("Notes"), required=False,
                            widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, meeting: Meeting, measures: dict[str, str],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        owner.queryset = meeting.group.memberships.filter(  # type: ignore[attr-defined]
            end__isnull=True).select_related("organisation")
        owner.label_from_instance = lambda m: m.label  # type: ignore[attr-defined]
        decision = self.fields["decision"]
        decision.queryset = Decision.objects.filter(meeting=meeting)  # type: ignore[attr-defined]
        decision.label_from_instance = (  # type: ignore[attr-defined]
            lambda d: d.text[:80])
        self.fields["measure"].choices = [  # type: ignore[attr-defined]
            ("", _("(none)")), *((k, f"{k} {v}") for k, v in measures.items())]


class ActionUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=ActionItem.Status.choices)
    done_on = _date(_("Done on"), help_text=_("For a done action; empty: today."))
    notes = forms.CharField(label=_("Notes"), required=False,
                            widget=forms.Textarea(attrs={"rows": 3}))


ATTENDANCE_CHOICES = [("", _("(not recorded)")), *Attendance.Status.choices]
