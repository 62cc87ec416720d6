"""Running processes in the UI: the instance page (drawing, the current step's items,
branch choice, pause / resume / cancel, step history) and the processes section of
a customer's 360° page with the "start a process" form.

Seeing an instance: whoever may see its customer. Working on it: activities.edit.
Every write is a plain form POST that redirects back with a message (no JavaScript
needed); errors come back as messages too, except a field's value: its errors show
at the field (the page again, status 422).

Each item of the current step shows its real work: the task, the e-mail (sent, or
"Write e-mail" opening the compose page with the template, the person and
``process_item``), the appointment ("Schedule appointment" opening the new
appointment page prefilled), the field with its value and a form to fill it; and
the fields the step needs with their values."""

import uuid as uuid_module

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from kontor.core.access import customer_get, customer_kind, get_object_for_user, require, user_can
from kontor.core.permissions import Capability
from kontor.mail.models import EmailTemplate
from kontor.processes.forms.instances import FieldValueForm
from kontor.processes.models import (
    ActivityType,
    InstanceStatus,
    ProcessInstance,
    ProcessVersion,
    StepRun,
    StepRunItem,
    StepRunStatus,
    Transition,
    VersionStatus,
)
from kontor.processes.services import engine
from kontor.processes.services import instances as services
from kontor.processes.services import items as item_fields


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


def _errors(request: HttpRequest, exc: ValidationError) -> None:
    for error in exc.messages:
        messages.error(request, error)


def _lock_version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST["lock_version"])
    except (KeyError, ValueError):
        return None


def _instance(request: HttpRequest, uuid) -> ProcessInstance:
    require(request.user, Capability.CUSTOMERS_VIEW)
    return get_object_for_user(
        ProcessInstance,
        request.user,
        uuid=uuid,
        related=("version__process", "person", "organization", "current_step"),
    )


def _templates_usable(user, items) -> dict[str, EmailTemplate]:
    """The e-mail items' templates the user may write with, by uuid (one query)."""
    keys = set()
    for item in items:
        config = item.activity.config if isinstance(item.activity.config, dict) else {}
        if item.activity.kind == ActivityType.EMAIL and isinstance(config.get("template"), str):
            keys.add(config["template"])
    valid = []
    for key in keys:
        try:
            valid.append(uuid_module.UUID(key))
        except ValueError:
            continue
    if not valid:
        return {}
    rows = EmailTemplate.objects.filter(uuid__in=valid, archived=False).filter(
        Q(owner__isnull=True) | Q(owner=user)
    )
    return {str(t.uuid): t for t in rows}


def _field_form(request, spec, *, prefix: str):
    """The form to fill ``spec`` in, None when it cannot be (or not by this user:
    customer fields need customers.edit, a note only activities.edit)."""
    if spec is None or not (spec.note or user_can(request.user, Capability.CUSTOMERS_EDIT)):
        return None
    field = spec.formfield()
    if field is None:
        return None
    initial = {"value": spec.value} if spec.filled else {}
    return FieldValueForm(field=field, prefix=prefix, initial=initial)


def _decorate(request, instance, active, items, can_work: bool, bound: dict) -> list:
    """What each item shows: its field and form, its links, why it is still open."""
    templates = _templates_usable(request.user, items)
    for item in items:
        activity = item.activity
        config = activity.config if isinstance(activity.config, dict) else {}
        item.field = item.form = item.compose_url = item.schedule_url = None
        item.reason = ""
        if activity.kind == ActivityType.FIELD:
            item.field = item_fields.item_field(instance, activity)
            if can_work and not item.done_at:
                item.form = bound.get(f"item-{item.pk}") or _field_form(
                    request, item.field, prefix=f"item-{item.pk}"
                )
        elif activity.kind == ActivityType.EMAIL and not item.mail_id and not item.done_at:
            if item_fields.mail_sends(config):
                item.reason = item_fields.mail_problem(
                    instance, config, sender=active.assignee
                ) or _("It was not sent by itself; write it here.")
            if can_work and instance.person_id:
                query = {
                    "person": instance.person.uuid,
                    "process_item": item.pk,
                    "next": instance.get_absolute_url(),
                }
                if str(config.get("template")) in templates:
                    query["template"] = config["template"]
                item.compose_url = f"{reverse('mail:compose')}?{urlencode(query)}"
        elif (
            activity.kind == ActivityType.APPOINTMENT
            and not item.appointment_id
            and can_work
            and not item.done_at
        ):
            subject = engine.subject_of(instance)
            query = {
                "person" if instance.person_id else "organization": subject.uuid,
                "title": activity.title,
                "process_item": item.pk,
                "next": instance.get_absolute_url(),
            }
            minutes = config.get("duration_minutes")
            if isinstance(minutes, int) and not isinstance(minutes, bool) and minutes > 0:
                query["duration"] = minutes
            item.schedule_url = f"{reverse('activities:appointment_create')}?{urlencode(query)}"
    return items


def _needed_fields(request, instance, active, can_work: bool, bound: dict) -> list:
    """The fields the current step needs: {"spec", "form" (None when not to fill)}."""
    rows = []
    for index, path_ in enumerate((active.step.required_fields or []) if active else []):
        spec = item_fields.field_spec(instance, path_)
        if spec is None or spec.note:
            continue
        form = None
        if can_work and not spec.filled:
            form = bound.get(path_) or _field_form(request, spec, prefix=f"field-{index}")
        rows.append({"spec": spec, "form": form})
    return rows


def _detail_page(
    request: HttpRequest, instance: ProcessInstance, bound: dict | None = None, status=200
) -> HttpResponse:
    bound = bound or {}
    runs = list(
        instance.step_runs.select_related("step", "assignee", "finished_by").order_by(
            "entered_at", "id"
        )
    )
    active = next((r for r in runs if r.status == StepRunStatus.ACTIVE), None)
    items = (
        list(
            active.items.select_related(
                "activity", "task", "appointment", "mail", "done_by"
            ).order_by("activity__position", "id")
        )
        if active
        else []
    )
    can_work = (
        user_can(request.user, Capability.ACTIVITIES_EDIT) and instance.status not in engine.ENDED
    )
    context = {
        "instance": instance,
        "process": instance.version.process,
        "subject": engine.subject_of(instance),
        "runs": runs,
        "active": active,
        "items": _decorate(request, instance, active, items, can_work, bound),
        "fields": _needed_fields(request, instance, active, can_work, bound),
        "choices": engine.choices_for(instance, active, items),
        "can_work": can_work,
        "cancel_form": CancelForm(),
    }
    return render(request, "processes/instance_detail.html", context, status=status)


@login_required
@require_GET
def instance_detail(request: HttpRequest, uuid) -> HttpResponse:
    return _detail_page(request, _instance(request, uuid))


def _do(request: HttpRequest, instance: ProcessInstance, action, success: str) -> HttpResponse:
    require(request.user, Capability.ACTIVITIES_EDIT)
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
    item = get_object_or_404(
        StepRunItem.objects.select_related("step_run"), pk=item_id, step_run__instance=instance
    )
    done = request.POST.get("done") != "0"
    service = services.item_done if done else services.item_undone
    return _do(
        request,
        instance,
        lambda: service(actor=request.user, item=item, lock_version=_lock_version(request)),
        _("Marked as done.") if done else _("Marked as not done."),
    )


def _fill(request: HttpRequest, instance, spec, key: str, prefix: str, service) -> HttpResponse:
    """Fill in a field from its form: the value is checked by the engine; its errors
    show at the field, nothing is written."""
    require(request.user, Capability.ACTIVITIES_EDIT)
    field = spec.formfield() if spec is not None else None
    if field is None:
        messages.error(request, _("This field cannot be filled in here."))
        return redirect(instance.get_absolute_url())
    form = FieldValueForm(request.POST, field=field, prefix=prefix)
    try:
        service(form.raw_value())
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            _errors(request, exc)
            return redirect(instance.get_absolute_url())
        for name, errors in exc.message_dict.items():
            for error in errors:
                form.add_error("value" if name == "value" else None, error)
        return _detail_page(request, _instance(request, instance.uuid), {key: form}, status=422)
    messages.success(request, _("Saved."))
    return redirect(instance.get_absolute_url())


@login_required
@require_POST
def instance_item_value(request: HttpRequest, uuid, item_id: int) -> HttpResponse:
    instance = _instance(request, uuid)
    item = get_object_or_404(
        StepRunItem.objects.select_related("activity", "step_run"),
        pk=item_id,
        step_run__instance=instance,
    )
    prefix = f"item-{item.pk}"
    return _fill(
        request,
        instance,
        item_fields.item_field(instance, item.activity),
        prefix,
        prefix,
        lambda value: services.item_fill(
            actor=request.user, item=item, value=value, lock_version=_lock_version(request)
        ),
    )


@login_required
@require_POST
def instance_field(request: HttpRequest, uuid) -> HttpResponse:
    """Fill in one of the fields the current step needs (POST field=<path>)."""
    instance = _instance(request, uuid)
    active = engine.active_run(instance)
    needed = list((active.step.required_fields or []) if active else [])
    path_ = request.POST.get("field", "")
    if path_ not in needed:
        raise Http404
    return _fill(
        request,
        instance,
        item_fields.field_spec(instance, path_),
        path_,
        f"field-{needed.index(path_)}",
        lambda value: services.field_fill(
            actor=request.user,
            instance=instance,
            field=path_,
            value=value,
            lock_version=_lock_version(request),
        ),
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
        lambda: services.step_choose(
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
            lambda: services.instance_resume(actor=request.user, instance=instance),
            _("Process resumed."),
        )
    return _do(
        request,
        instance,
        lambda: services.instance_pause(actor=request.user, instance=instance),
        _("Process paused."),
    )


@login_required
@require_POST
def instance_cancel(request: HttpRequest, uuid) -> HttpResponse:
    instance = _instance(request, uuid)
    return _do(
        request,
        instance,
        lambda: services.instance_cancel(
            actor=request.user, instance=instance, reason=request.POST.get("reason", "")
        ),
        _("Process cancelled."),
    )


# --- The 360° section ------------------------------------------------------------------


def instances_of(subject, *, user):
    """The instances on ``subject`` that ``user`` may see: on an organization's page
    not those that also name a person of another team, on a person's page not those
    that also name another team's organization (ProcessInstanceQuerySet.visible_to)."""
    field = customer_kind(subject)  # "person" / "organization"
    return (
        ProcessInstance.objects.visible_to(user)
        .filter(**{field: subject})
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
    rows = list(instances_of(subject, user=request.user))
    due = {
        run.instance_id: run.due_at
        for run in StepRun.objects.filter(
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


def _section_or_start(request: HttpRequest, subject, kind: str) -> HttpResponse:
    if request.method == "GET":
        return _section(request, subject, kind)
    require(request.user, Capability.ACTIVITIES_EDIT)
    form = StartForm(request.POST, kind=kind, auto_id="id_start_%s")
    if form.is_valid():
        try:
            instance = services.instance_start(
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
    require(request.user, Capability.CUSTOMERS_VIEW)
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405)
    subject = customer_get(request.user, uuid)
    return _section_or_start(request, subject, customer_kind(subject))


urlpatterns: list = [
    path("instances/<uuid:uuid>/", instance_detail, name="instance_detail"),
    path("instances/<uuid:uuid>/items/<int:item_id>/", instance_item, name="instance_item"),
    path(
        "instances/<uuid:uuid>/items/<int:item_id>/value/",
        instance_item_value,
        name="instance_item_value",
    ),
    path("instances/<uuid:uuid>/fields/", instance_field, name="instance_field"),
    path("instances/<uuid:uuid>/choose/", instance_choose, name="instance_choose"),
    path("instances/<uuid:uuid>/pause/", instance_pause, name="instance_pause"),
    path("instances/<uuid:uuid>/cancel/", instance_cancel, name="instance_cancel"),
    path("customers/<uuid:uuid>/", customer_processes, name="customer_processes"),
]
