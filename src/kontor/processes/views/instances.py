"""Running processes in the UI: the instance page (drawing, the current step's items,
branch choice, pause / resume / cancel, step history) and the processes section of
a customer's 360° page with the "start a process" form.

Seeing an instance: whoever may see its customer. Working on it: activities.edit.
Every write is a plain form POST that redirects back with a message (no JavaScript
needed); errors come back as messages too."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from kontor.core.access import get_object_for_user, user_can
from kontor.core.permissions import Capability
from kontor.customers.models import Organization, Person
from kontor.processes.models import (
    InstanceStatus,
    ProcessInstance,
    ProcessVersion,
    StepRunItem,
    StepRunStatus,
    Transition,
    VersionStatus,
)
from kontor.processes.services import instances as engine


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class StartForm(forms.Form):
    version = forms.ModelChoiceField(
        label=gettext_lazy("Process"), queryset=ProcessVersion.objects.none(), to_field_name="pk"
    )

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].queryset = startable(kind)
        self.fields["version"].label_from_instance = lambda v: v.process.name


def startable(kind: str):
    return (
        ProcessVersion.objects.filter(
            status=VersionStatus.PUBLISHED, process__archived=False, process__subject_kind=kind
        )
        .select_related("process")
        .order_by("process__name", "process_id")
    )


def _require(request: HttpRequest, capability: str) -> None:
    if not user_can(request.user, capability):
        raise PermissionDenied


def _errors(request: HttpRequest, exc: ValidationError) -> None:
    for error in exc.messages:
        messages.error(request, error)


def _lock_version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST["lock_version"])
    except (KeyError, ValueError):
        return None


def _instance(request: HttpRequest, uuid) -> ProcessInstance:
    _require(request, Capability.CUSTOMERS_VIEW)
    return get_object_for_user(
        ProcessInstance,
        request.user,
        uuid=uuid,
        related=("version__process", "person", "organization", "current_step"),
    )


@login_required
@require_GET
def instance_detail(request: HttpRequest, uuid) -> HttpResponse:
    instance = _instance(request, uuid)
    runs = list(
        instance.step_runs.select_related("step", "assignee", "finished_by").order_by(
            "entered_at", "id"
        )
    )
    active = next((r for r in runs if r.status == StepRunStatus.ACTIVE), None)
    items = (
        list(
            active.items.select_related("activity", "task", "done_by").order_by(
                "activity__position", "id"
            )
        )
        if active
        else []
    )
    context = {
        "instance": instance,
        "process": instance.version.process,
        "subject": engine.subject_of(instance),
        "runs": runs,
        "active": active,
        "items": items,
        "choices": engine.choices_for(instance, active),
        "can_work": user_can(request.user, Capability.ACTIVITIES_EDIT)
        and instance.status not in engine.ENDED,
        "cancel_form": CancelForm(),
    }
    return render(request, "processes/instance_detail.html", context)


def _do(request: HttpRequest, instance: ProcessInstance, action, success: str) -> HttpResponse:
    _require(request, Capability.ACTIVITIES_EDIT)
    try:
        action()
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, success)
    return redirect(instance.get_absolute_url())


@login_required
@require_POST
def instance_item(request: HttpRequest, uuid, item_id: int) -> HttpResponse:
    instance = _instance(request, uuid)
    item = get_object_or_404(StepRunItem, pk=item_id, step_run__instance=instance)
    done = request.POST.get("done") != "0"
    service = engine.item_done if done else engine.item_undone
    return _do(
        request,
        instance,
        lambda: service(actor=request.user, item=item, lock_version=_lock_version(request)),
        _("Marked as done.") if done else _("Marked as not done."),
    )


@login_required
@require_POST
def instance_choose(request: HttpRequest, uuid) -> HttpResponse:
    instance = _instance(request, uuid)
    try:
        transition = Transition.objects.get(
            pk=int(request.POST.get("transition", "")), version=instance.version
        )
    except (ValueError, Transition.DoesNotExist) as exc:
        raise Http404 from exc
    return _do(
        request,
        instance,
        lambda: engine.step_choose(
            actor=request.user,
            instance=instance,
            transition=transition,
            lock_version=_lock_version(request),
        ),
        _("The process moved on."),
    )


@login_required
@require_POST
def instance_pause(request: HttpRequest, uuid) -> HttpResponse:
    instance = _instance(request, uuid)
    if instance.status == InstanceStatus.PAUSED:
        return _do(
            request,
            instance,
            lambda: engine.instance_resume(actor=request.user, instance=instance),
            _("Process resumed."),
        )
    return _do(
        request,
        instance,
        lambda: engine.instance_pause(actor=request.user, instance=instance),
        _("Process paused."),
    )


@login_required
@require_POST
def instance_cancel(request: HttpRequest, uuid) -> HttpResponse:
    instance = _instance(request, uuid)
    return _do(
        request,
        instance,
        lambda: engine.instance_cancel(
            actor=request.user, instance=instance, reason=request.POST.get("reason", "")
        ),
        _("Process cancelled."),
    )


# --- The 360° section ------------------------------------------------------------------


def instances_of(subject):
    field = "person" if isinstance(subject, Person) else "organization"
    return (
        ProcessInstance.objects.filter(**{field: subject})
        .select_related("version__process", "current_step")
        .annotate(
            running_first=Case(
                When(status=InstanceStatus.RUNNING, then=Value(0)),
                When(status=InstanceStatus.PAUSED, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("running_first", "-started_at", "-id")
    )


def _section(request: HttpRequest, subject, kind: str, form: StartForm | None = None):
    rows = list(instances_of(subject))
    due = {
        run.instance_id: run.due_at
        for run in engine.StepRun.objects.filter(
            instance__in=[r.pk for r in rows], status=StepRunStatus.ACTIVE
        )
    }
    for row in rows:
        row.due_at = due.get(row.pk)
    can_start = user_can(request.user, Capability.ACTIVITIES_EDIT)
    context = {
        "record": subject,
        "instances": rows,
        "can_start": can_start,
        "form": (form or StartForm(kind=kind, auto_id="id_start_%s")) if can_start else None,
        "start_url": reverse("processes:customer_processes", args=[subject.uuid]),
    }
    return render(request, "processes/instance_section.html#section", context)


def _customer(request: HttpRequest, subject, kind: str) -> HttpResponse:
    if request.method == "GET":
        return _section(request, subject, kind)
    _require(request, Capability.ACTIVITIES_EDIT)
    form = StartForm(request.POST, kind=kind, auto_id="id_start_%s")
    if form.is_valid():
        try:
            instance = engine.instance_start(
                actor=request.user,
                version_or_process=form.cleaned_data["version"],
                **{kind: subject},
            )
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("Process started."))
            return redirect(instance.get_absolute_url())
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect(subject.get_absolute_url())


@login_required
def customer_processes(request: HttpRequest, uuid) -> HttpResponse:
    """The section of the person or organization with this uuid."""
    _require(request, Capability.CUSTOMERS_VIEW)
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405)
    try:
        return _customer(request, get_object_for_user(Person, request.user, uuid=uuid), "person")
    except Http404:
        subject = get_object_for_user(Organization, request.user, uuid=uuid)
        return _customer(request, subject, "organization")


urlpatterns: list = [
    path("instances/<uuid:uuid>/", instance_detail, name="instance_detail"),
    path("instances/<uuid:uuid>/items/<int:item_id>/", instance_item, name="instance_item"),
    path("instances/<uuid:uuid>/choose/", instance_choose, name="instance_choose"),
    path("instances/<uuid:uuid>/pause/", instance_pause, name="instance_pause"),
    path("instances/<uuid:uuid>/cancel/", instance_cancel, name="instance_cancel"),
    path("customers/<uuid:uuid>/", customer_processes, name="customer_processes"),
]
