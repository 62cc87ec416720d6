"""Trade-fair quick capture: a phone-friendly page to record a visitor in under half a
minute. While the user types, ``capture_matches`` offers known persons and
organizations ("Already known: … — use this record"); saving calls
``capture_record`` and shows the empty form again for the next visitor."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kontor.activities.forms.capture import CaptureForm
from kontor.activities.models import Activity, Task
from kontor.activities.services.capture import (
    CaptureMatches,
    capture_matches,
    capture_record,
    resolve_choice,
)
from kontor.core.access import user_can
from kontor.core.permissions import Capability
from kontor.customers.models import Organization, Person

TEMPLATE = "activities/capture.html"
SESSION_EVENT = "activities.capture.event"
SESSION_LAST = "activities.capture.last"


def _require(request: HttpRequest) -> None:
    if not user_can(request.user, Capability.ACTIVITIES_EDIT):
        raise PermissionDenied


def _choices(request: HttpRequest, matches: CaptureMatches) -> dict[str, str]:
    """Which radio button is checked: the user's choice while it is still offered (or
    "new"), else the preselected strong match, else none."""
    chosen = {}
    for name, candidates, preselected in (
        ("person", matches.persons, matches.person),
        ("organization", matches.organizations, matches.organization),
    ):
        value = request.POST.get(name, "")
        offered = {str(c.record.uuid) for c in candidates}
        if value == "new" or value in offered:
            chosen[name] = value
        elif preselected is not None:
            chosen[name] = str(preselected.uuid)
        else:
            chosen[name] = ""
    return chosen


def _url(obj) -> str:
    # The detail pages of activities and tasks come with their own views; until a
    # name is there, the confirmation shows the entry without a link.
    try:
        return obj.get_absolute_url()
    except NoReverseMatch:
        return ""


def _last_capture(request: HttpRequest) -> dict | None:
    """The confirmation of the capture just saved (popped: shown once)."""
    last = request.session.pop(SESSION_LAST, None)
    if not last:
        return None
    user = request.user
    person = Person.objects.visible_to(user).filter(uuid=last["person"]).first()
    if person is None:
        return None
    organization = (
        Organization.objects.visible_to(user).filter(uuid=last["organization"]).first()
        if last.get("organization")
        else None
    )
    activity = Activity.objects.visible_to(user).filter(uuid=last["activity"]).first()
    task = Task.objects.visible_to(user).filter(uuid=last["task"]).first()
    return {
        "person": person,
        "organization": organization,
        "activity": activity,
        "activity_url": _url(activity) if activity else "",
        "task": task,
        "task_url": _url(task) if task else "",
        "created_person": last["created_person"],
        "created_organization": last["created_organization"],
    }


@login_required
@require_http_methods(["GET", "POST"])
def capture(request: HttpRequest) -> HttpResponse:
    _require(request)
    user = request.user
    matches = CaptureMatches()
    if request.method == "POST":
        form = CaptureForm(request.POST, user=user)
        matches = capture_matches(user=user, data=form.probe_data())
        if form.is_valid():
            response = _save(request, form, matches)
            if response is not None:
                return response
    else:
        form = CaptureForm(user=user, initial={"event": request.session.get(SESSION_EVENT, "")})
    context = {
        "form": form,
        "matches": matches,
        "chosen": _choices(request, matches),
        "last": _last_capture(request) if request.method == "GET" else None,
    }
    return render(request, TEMPLATE, context)


def _save(request: HttpRequest, form: CaptureForm, matches: CaptureMatches) -> HttpResponse | None:
    """Save and redirect to the empty form; None (errors on ``form``) if it cannot."""
    user = request.user
    try:
        person = resolve_choice(Person, user=user, value=request.POST.get("person"), field="person")
        organization = resolve_choice(
            Organization, user=user, value=request.POST.get("organization"), field="organization"
        )
    except ValidationError as exc:
        form.add_error(None, exc.messages)
        return None
    # Known records on offer and none chosen (typed faster than the lookup, or no
    # JavaScript): ask, rather than make a duplicate.
    unanswered = [
        name
        for name, offered in (("person", matches.persons), ("organization", matches.organizations))
        if offered and not request.POST.get(name)
    ]
    if unanswered:
        form.add_error(None, _("Already known? Choose a record below or “create new”."))
        return None
    try:
        result = capture_record(
            actor=user,
            data=form.capture_data(person=person, organization=organization),
            via="ui",
        )
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, messages)
        return None
    request.session[SESSION_EVENT] = form.cleaned_data["event"]
    request.session[SESSION_LAST] = {
        "person": str(result.person.uuid),
        "organization": str(result.organization.uuid) if result.organization else "",
        "activity": str(result.activity.uuid),
        "task": str(result.task.uuid),
        "created_person": result.created_person,
        "created_organization": result.created_organization,
    }
    return redirect("activities:capture")


@login_required
@require_POST
def capture_matches_view(request: HttpRequest) -> HttpResponse:
    """As the user types: the known records that look like the visitor."""
    _require(request)
    form = CaptureForm(request.POST, user=request.user)
    matches = capture_matches(user=request.user, data=form.probe_data())
    return render(
        request,
        f"{TEMPLATE}#matches",
        {"matches": matches, "chosen": _choices(request, matches)},
    )


urlpatterns = [
    path("activities/capture/", capture, name="capture"),
    path("activities/capture/matches/", capture_matches_view, name="capture_matches"),
]
