"""Working group pages: the list, a group (members, terms of reference, meetings, open
actions, the measures it follows), a meeting (agenda, minutes, attendance, decisions, action
items, the minutes as a document), an action item, and "my action items". Thin: the rules
and the scoping are in ``services``; a form that fails comes back with the problem next to
its field (status 400), and nothing of it is saved."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tiplab_web.audit.services import record
from tiplab_web.core.access import can, capability_required, organisation_of

from . import documents, services
from .forms import (
    ATTENDANCE_CHOICES,
    ActionForm,
    ActionUpdateForm,
    DecisionForm,
    EndMemberForm,
    GroupForm,
    MeetingForm,
    MemberForm,
    MinutesForm,
)
from .models import ActionItem, Attendance, Group, Meeting

EXPORTS = {
    "html": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


def _plans(user: Any) -> Any:
    from tiplab_web.plans.models import Plan

    org = organisation_of(user)
    return Plan.objects.filter(organisation=org) if org is not None else Plan.objects.none()


def _refuse(form: Any, e: services.GroupError) -> None:
    """Put the service's problem next to its field (or on top of the form)."""
    where = e.field if e.field in getattr(form, "fields", {}) else None
    form.add_error(where, str(e))


# --- the list --------------------------------------------------------------------------------


@require_GET
@capability_required("groups.view")
def index(request: HttpRequest) -> HttpResponse:
    groups = services.with_counts(services.groups_for(request.user)
                                  .select_related("organisation", "plan"))
    return render(request, "groups/index.html", {
        "groups": groups, "can_manage": can(request.user, "groups.manage")})


@require_http_methods(["GET", "POST"])
@capability_required("groups.manage")
def new(request: HttpRequest) -> HttpResponse:
    plans = _plans(request.user)
    form = GroupForm(request.POST or None, plans=plans)
    if request.method == "POST" and form.is_valid():
        try:
            group = services.create_group(request, organisation_of(request.user),
                                          **form.cleaned_data)
        except services.GroupError as e:
            _refuse(form, e)
        else:
            messages.success(request, _("Group created. Add its members next."))
            return redirect("groups:detail", pk=group.pk)
    return render(request, "groups/edit.html", {
        "form": form, "group": None, "plan_measures": _plan_measures(plans)},
        status=400 if request.method == "POST" else 200)


def _plan_measures(plans: Any) -> list[tuple[Any, dict[str, str]]]:
    return [(p, services.measure_titles(p)) for p in plans]


@require_http_methods(["GET", "POST"])
@capability_required("groups.manage")
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    group = services.get_managed_group(request.user, pk)
    plans = _plans(request.user)
    form = GroupForm(request.POST or None, plans=plans,
                     initial=GroupForm.initial_for(group))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_group(request, group, **form.cleaned_data)
        except services.GroupError as e:
            _refuse(form, e)
        else:
            messages.success(request, _("Saved."))
            return redirect("groups:detail", pk=group.pk)
    return render(request, "groups/edit.html", {
        "form": form, "group": group, "plan_measures": _plan_measures(plans)},
        status=400 if request.method == "POST" else 200)


# --- a group ---------------------------------------------------------------------------------


def _detail(request: HttpRequest, group: Group, *, member_form: Any = None,
            meeting_form: Any = None, status: int = 200) -> HttpResponse:
    day = services.today()
    manage = services.may_manage(request.user, group)
    titles = services.measure_titles(group.plan)
    rates = services.member_attendance(group)
    memberships = list(group.memberships.select_related("organisation", "user"))
    members = [{"m": m, "active": m.active_on(day) or m.start > day,
                "rate": rates.get(m.pk)} for m in memberships]
    open_items = list(group.action_items.filter(status=ActionItem.Status.OPEN)
                      .select_related("owner", "owner__organisation", "meeting"))
    meetings = []
    for mt in group.meetings.all():
        meetings.append({"m": mt, "attendance": services.meeting_attendance(mt)})
    return render(request, "groups/detail.html", {
        "group": group, "members": members, "meetings": meetings,
        "open_items": [{"a": a, "overdue": a.overdue_on(day)} for a in open_items],
        "overdue_count": sum(a.overdue_on(day) for a in open_items),
        "measures": [(mid, titles.get(mid, "")) for mid in group.measures or []],
        "can_see_plan": can(request.user, "plans.view") and group.plan is not None
        and group.plan.organisation_id == getattr(organisation_of(request.user), "pk", None),
        "manage": manage,
        "member_form": member_form or (MemberForm(pseudonymous=group.pseudonymous)
                                       if manage else None),
        "meeting_form": meeting_form or (MeetingForm() if manage else None),
        "end_form": EndMemberForm() if manage else None,
        "history": services.history(group) if manage else [],
    }, status=status)


@require_GET
@capability_required("groups.view")
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    group = services.get_group_for(request.user, pk)
    return _detail(request, group)


@require_POST
@capability_required("groups.manage")
def member_add(request: HttpRequest, pk: int) -> HttpResponse:
    group = services.get_managed_group(request.user, pk)
    form = MemberForm(request.POST, pseudonymous=group.pseudonymous)
    if form.is_valid():
        cd = form.cleaned_data
        try:
            services.add_member(request, group, organisation=cd["organisation"],
                                person=cd["person"], user=cd.get("username"), role=cd["role"],
                                start=cd["start"])
        except services.GroupError as e:
            _refuse(form, e)
        else:
            messages.success(request, _("Member added."))
            return redirect(f"{_group_url(group)}#members")
    return _detail(request, group, member_form=form, status=400)


@require_POST
@capability_required("groups.manage")
def member_end(request: HttpRequest, pk: int, member: int) -> HttpResponse:
    group = services.get_managed_group(request.user, pk)
    membership = group.memberships.filter(pk=member).first()
    if membership is None:
        raise Http404
    form = EndMemberForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The end date: %(e)s")
                       % {"e": " ".join(form.errors.get("end", []))})
        return redirect(f"{_group_url(group)}#members")
    try:
        services.end_member(request, membership, form.cleaned_data["end"])
    except services.GroupError as e:
        messages.error(request, _("%(who)s: %(e)s") % {"who": membership.label, "e": e})
    else:
        messages.success(request, _("Membership of %(who)s ended.")
                         % {"who": membership.label})
    return redirect(f"{_group_url(group)}#members")


@require_POST
@capability_required("groups.manage")
def meeting_new(request: HttpRequest, pk: int) -> HttpResponse:
    group = services.get_managed_group(request.user, pk)
    form = MeetingForm(request.POST)
    if form.is_valid():
        try:
            meeting = services.add_meeting(request, group, **form.cleaned_data)
        except services.GroupError as e:
            _refuse(form, e)
        else:
            messages.success(request, _("Meeting added."))
            return redirect("groups:meeting", pk=meeting.pk)
    return _detail(request, group, meeting_form=form, status=400)


def _group_url(group: Group) -> str:
    from django.urls import reverse

    return reverse("groups:detail", kwargs={"pk": group.pk})


# --- a meeting -------------------------------------------------------------------------------


def _meeting(request: HttpRequest, meeting: Meeting, *, forms: dict[str, Any] | None = None,
             status: int = 200) -> HttpResponse:
    group = meeting.group
    day = services.today()
    manage = services.may_manage(request.user, group)
    titles = services.measure_titles(group.plan)
    marks = {a.membership_id: a.status for a in meeting.attendance.all()}
    roll = [{"m": m, "status": marks.get(m.pk, ""),
             "label": dict(Attendance.Status.choices).get(marks.get(m.pk, ""), "–")}
            for m in group.memberships.select_related("organisation")
            if m.active_on(meeting.date) or m.pk in marks]
    forms = forms or {}
    if manage:
        forms.setdefault("meeting", MeetingForm(initial=MeetingForm.initial_for(meeting)))
        forms.setdefault("minutes", MinutesForm(initial={"minutes": meeting.minutes}))
        forms.setdefault("decision", DecisionForm())
        forms.setdefault("action", ActionForm(meeting=meeting, measures=titles))
    items = meeting.action_items.select_related("owner", "owner__organisation", "decision")
    return render(request, "groups/meeting.html", {
        "meeting": meeting, "group": group, "roll": roll, "manage": manage,
        "attendance": services.meeting_attendance(meeting),
        "choices": ATTENDANCE_CHOICES,
        "decisions": [{"d": d, "measures": [(i, titles.get(i, "")) for i in d.measures or []]}
                      for d in meeting.decisions.all()],
        "items": [{"a": a, "overdue": a.overdue_on(day), "title": titles.get(a.measure, ""),
                   "may_update": services.may_update(request.user, a)} for a in items],
        "can_see_plan": can(request.user, "plans.view") and group.plan is not None
        and group.plan.organisation_id == getattr(organisation_of(request.user), "pk", None),
        "forms": forms, "exports": list(EXPORTS),
    }, status=status)


@require_GET
@capability_required("groups.view")
def meeting(request: HttpRequest, pk: int) -> HttpResponse:
    return _meeting(request, services.get_meeting_for(request.user, pk))


def _meeting_url(meeting: Meeting, anchor: str = "") -> str:
    from django.urls import reverse

    url = reverse("groups:meeting", kwargs={"pk": meeting.pk})
    return f"{url}#{anchor}" if anchor else url


@require_POST
@capability_required("groups.manage")
def meeting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    mt = services.get_managed_meeting(request.user, pk)
    form = MeetingForm(request.POST)
    if form.is_valid():
        try:
            services.update_meeting(request, mt, **form.cleaned_data)
        except services.GroupError as e:
            _refuse(form, e)
        else:
            messages.success(request, _("Meeting saved."))
            return redirect(_meeting_url(mt))
    mt.refresh_from_db()
    return _meeting(request, mt, forms={"meeting": form}, status=400)


@require_POST
@capability_required("groups.manage")
def minutes(request: HttpRequest, pk: int) -> HttpResponse:
    mt = services.get_managed_meeting(request.user, pk)
    form = MinutesForm(request.POST)
    if form.is_valid():
        try:
            services.save_minutes(request, mt, form.cleaned_data["minutes"])
        except services.GroupError as e:
            _refuse(form, e)
        else:
            messages.success(request, _("Minutes saved."))
            return redirect(_meeting_url(mt, "minutes"))
    return _meeting(request, mt, forms={"minutes": form}, status=400)


@require_POST
@capability_required("groups.manage")
def attendance(request: HttpRequest, pk: int) -> HttpResponse:
    mt = services.get_managed_meeting(request.user, pk)
    marks: dict[int, str] = {}
    for key, value in request.POST.items():
        if key.startswith("att-"):
            try:
                marks[int(key[4:])] = value
            except ValueError:
                messages.error(request, _("Unknown member in the attendance form."))
                return redirect(_meeting_url(mt, "attendance"))
    if not marks:
        messages.error(request, _("The attendance form was empty: mark each member present, "
                                  "apologies or absent."))
        return redirect(_meeting_url(mt, "attendance"))
    try:
        services.record_attendance(request, mt, marks)
    except services.GroupError as e:
        messages.error(request, _("Attendance not saved: %(e)s") % {"e": e})
    else:
        messages.success(request, _("Attendance saved."))
    return redirect(_meeting_url(mt, "attendance"))


@require_POST
@capability_required("groups.manage")
def decision_add(request: HttpRequest, pk: int) -> HttpResponse:
    mt = services.get_managed_meeting(request.user, pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            services.add_decision(request, mt, **form.cleaned_data)
        except services.GroupError as e:
            _refuse(form, e)
        else:
            messages.success(request, _("Decision recorded."))
            return redirect(_meeting_url(mt, "decisions"))
    return _meeting(request, mt, forms={"decision": form}, status=400)


@require_POST
@capability_required("groups.manage")
def action_add(request: HttpRequest, pk: int) -> HttpResponse:
    mt = services.get_managed_meeting(request.user, pk)
    form = ActionForm(request.POST, meeting=mt,
                      measures=services.measure_titles(mt.group.plan))
    if form.is_valid():
        try:
            services.add_action(request, mt, **form.cleaned_data)
        except services.GroupError as e:
            _refuse(form, e)
        else:
            messages.success(request, _("Action item added."))
            return redirect(_meeting_url(mt, "actions"))
    return _meeting(request, mt, forms={"action": form}, status=400)


@require_GET
@capability_required("groups.view")
def export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    if fmt not in EXPORTS:
        raise Http404(_("Unknown format."))
    mt = services.get_meeting_for(request.user, pk)
    body: str | bytes = {"html": documents.minutes_html, "docx": documents.minutes_docx,
                         "pdf": documents.minutes_pdf}[fmt](mt)
    record(request, "group.minutes_exported", mt, group=mt.group_id, format=fmt)
    response = HttpResponse(body, content_type=EXPORTS[fmt])
    if fmt == "html":
        # the self-contained document has one <style> element: allowed by its hash only
        response._csp_update = {  # type: ignore[attr-defined]
            "style-src": "'self' " + documents.csp_style_source(str(body))}
    else:
        response["Content-Disposition"] = f'attachment; filename="{documents.filename(mt, fmt)}"'
    return response


# --- action items ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@capability_required("groups.view")
def action(request: HttpRequest, pk: int) -> HttpResponse:
    """An action item; its owner (or the group's managers) update its status and notes."""
    item = services.get_action_for(request.user, pk)
    allowed = services.may_update(request.user, item)
    form = None
    status = 200
    if request.method == "POST":
        if not allowed:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        form = ActionUpdateForm(request.POST)
        if form.is_valid():
            try:
                services.update_action(request, item, **form.cleaned_data)
            except services.GroupError as e:
                _refuse(form, e)
            else:
                messages.success(request, _("Action item updated."))
                nxt = request.POST.get("next", "")
                if nxt == "mine":
                    return redirect("groups:mine")
                return redirect("groups:action", pk=item.pk)
        status = 400
    elif allowed:
        form = ActionUpdateForm(initial={"status": item.status, "done_on": item.done_on,
                                         "notes": item.notes})
    titles = services.measure_titles(item.group.plan)
    return render(request, "groups/action.html", {
        "item": item, "group": item.group, "form": form, "may_update": allowed,
        "overdue": item.overdue_on(services.today()),
        "measure_title": titles.get(item.measure, "")}, status=status)


@require_GET
@capability_required("groups.view")
def mine(request: HttpRequest) -> HttpResponse:
    day = services.today()
    items = services.my_actions(request.user).order_by("status", "due", "id")
    return render(request, "groups/mine.html", {
        "items": [{"a": a, "overdue": a.overdue_on(day)} for a in items],
        "open": [a for a in items if a.status == ActionItem.Status.OPEN],
        "statuses": ActionItem.Status.choices})



