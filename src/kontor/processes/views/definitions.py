"""The process editor: the list (/processes/), a process's page with its versions,
and full-page forms for the version, steps, transitions and activities.

Everyone with customers.view may look; processes.manage edits. Published versions
and versions with instances are frozen: their page offers "Edit" (a POST that makes —
or reuses — the open draft, an exact copy, and goes there), so editing a published
process always happens on a new draft and running instances finish on their version.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kontor.core.access import EditConflict, require, require_that
from kontor.core.forms import add_service_errors
from kontor.core.permissions import Capability
from kontor.processes import queries, triggers
from kontor.processes.forms.definitions import (
    ActivityForm,
    ProcessCreateForm,
    ProcessForm,
    StepForm,
    TransitionForm,
    VersionForm,
)
from kontor.processes.models import Process, ProcessVersion, Step, TriggerKind, VersionStatus
from kontor.processes.services import definitions as services
from kontor.processes.validation import validate_version


def _version_url(version: ProcessVersion) -> str:
    url = reverse("processes:process_detail", args=[version.process.uuid])
    return f"{url}?{urlencode({'version': version.number})}"


def _version_page(name: str, process: Process, version: ProcessVersion, **params) -> str:
    """A page about this version of the process (drawing, BPMN, requirements)."""
    url = reverse(f"processes:{name}", args=[process.uuid])
    return f"{url}?{urlencode({'version': version.number, **params})}"


def _editable_version(request: HttpRequest, uuid, number: int) -> tuple[Process, ProcessVersion]:
    require(request.user, Capability.PROCESSES_MANAGE)
    process = queries.process_get(user=request.user, uuid=uuid)
    return process, queries.version_shown(process, number)


def _frozen_redirect(request: HttpRequest, version: ProcessVersion) -> HttpResponse:
    messages.error(request, str(services.VersionFrozen(version).messages[0]))
    return redirect(_version_url(version))


def _service_error(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


# --- List and create ---------------------------------------------------------------------


@login_required
@require_GET
def process_list(request: HttpRequest) -> HttpResponse:
    require_that(queries.can_view(request.user))
    archived = request.GET.get("archived") == "1"
    processes = list(queries.process_list(user=request.user, archived=archived))
    for process in processes:
        # The published version's trigger; before the first publication the draft's.
        trigger = process.published_trigger or process.latest_trigger
        process.trigger_label = TriggerKind(trigger).label if trigger else "—"
    context = {
        "processes": processes,
        "archived": archived,
        "can_manage": queries.can_manage(request.user),
    }
    return render(request, "processes/process_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def process_create(request: HttpRequest) -> HttpResponse:
    require(request.user, Capability.PROCESSES_MANAGE)
    form = ProcessCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            process = services.process_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Process created as draft version 1."))
            return redirect(process.get_absolute_url())
    return render(
        request,
        "processes/process_form.html",
        {"form": form, "process": None},
        status=422 if request.method == "POST" else 200,
    )


# --- One process -------------------------------------------------------------------------


@login_required
@require_GET
def process_detail(request: HttpRequest, uuid) -> HttpResponse:
    require_that(queries.can_view(request.user))
    process = queries.process_get(user=request.user, uuid=uuid)
    number = request.GET.get("version")
    try:
        number = int(number) if number else None
    except ValueError:
        number = None
    version = queries.version_shown(process, number)
    versions = queries.versions_of(process)
    shown = next(v for v in versions if v.pk == version.pk)
    frozen = shown.status != VersionStatus.DRAFT or shown.instance_count > 0
    open_draft = next(
        (v for v in versions if v.status == VersionStatus.DRAFT and not v.instance_count), None
    )
    can_manage = queries.can_manage(request.user)
    context = {
        "process": process,
        "version": shown,
        "versions": versions,
        "steps": queries.version_steps(shown),
        "problems": validate_version(shown),
        "frozen": frozen,
        "open_draft": open_draft,
        "can_manage": can_manage,
        "can_edit": can_manage and not frozen,
        "trigger_waiting": not triggers.is_available(shown.trigger),
        "drawing_url": _version_page("process_drawing", process, shown),
        "bpmn_url": _version_page("process_bpmn_export", process, shown),
        "requirements_pdf_url": _version_page("requirements_pdf", process, shown),
        "requirements_docx_url": _version_page("requirements_docx", process, shown),
        "acceptance_url": _version_page("acceptance", process, shown),
        "figures_url": _version_page("process_figures", process, shown),
    }
    return render(request, "processes/process_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def process_edit(request: HttpRequest, uuid) -> HttpResponse:
    require(request.user, Capability.PROCESSES_MANAGE)
    process = queries.process_get(user=request.user, uuid=uuid)
    form = ProcessForm(request.POST or None, initial={"name": process.name})
    if request.method == "POST" and form.is_valid():
        try:
            services.process_update(
                actor=request.user,
                process=process,
                name=form.cleaned_data["name"],
                owner=process.owner,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect(process.get_absolute_url())
    return render(
        request,
        "processes/process_form.html",
        {"form": form, "process": process},
        status=422 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def process_archive(request: HttpRequest, uuid) -> HttpResponse:
    require(request.user, Capability.PROCESSES_MANAGE)
    process = queries.process_get(user=request.user, uuid=uuid)
    archived = request.POST.get("archived", "1") == "1"
    services.process_archive(actor=request.user, process=process, archived=archived)
    messages.success(request, _("Process archived.") if archived else _("Process restored."))
    return redirect(process.get_absolute_url())


@login_required
@require_POST
def process_new_draft(request: HttpRequest, uuid) -> HttpResponse:
    """ "Edit" on a frozen version: the open draft (made now as an exact copy of the
    latest version if there is none) — then the editor shows it."""
    require(request.user, Capability.PROCESSES_MANAGE)
    process = queries.process_get(user=request.user, uuid=uuid)
    draft = services.version_new_draft(actor=request.user, process=process)
    draft.process = process
    messages.success(
        request,
        _("You are editing draft version %(number)s. Running instances keep their version.")
        % {"number": draft.number},
    )
    return redirect(_version_url(draft))


# --- The version -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def version_edit(request: HttpRequest, uuid, number: int) -> HttpResponse:
    process, version = _editable_version(request, uuid, number)
    if services.version_is_frozen(version):
        return _frozen_redirect(request, version)
    initial = {
        "goal": version.goal,
        "description": version.description,
        "trigger": version.trigger,
        "trigger_config": version.trigger_config,
        "lock_version": version.lock_version,
    }
    form = VersionForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                services.version_update(actor=request.user, version=version, **form.cleaned_data)
            except EditConflict as exc:
                form.data = form.data.copy()
                form.data["lock_version"] = exc.current_version
                form.add_error(None, str(exc) + " " + _("Saving again keeps your values."))
                status = 409
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Changes saved."))
                return redirect(_version_url(version))
    return render(
        request,
        "processes/version_form.html",
        {"form": form, "process": process, "version": version},
        status=status,
    )


@login_required
@require_POST
def version_publish(request: HttpRequest, uuid, number: int) -> HttpResponse:
    _process, version = _editable_version(request, uuid, number)
    try:
        services.version_publish(actor=request.user, version=version)
    except services.VersionInvalid:
        messages.error(request, _("Not published: solve the problems listed below first."))
    except ValidationError as exc:
        _service_error(request, exc)
    else:
        messages.success(
            request,
            _("Version %(number)s is published: new instances start on it.")
            % {"number": version.number},
        )
    return redirect(_version_url(version))


# --- Steps -------------------------------------------------------------------------------


def _edit_page(request, version, form, *, save, success: str, template: str, context: dict):
    """An editor form page: on a valid POST run ``save(form)`` (the service call), say
    ``success`` and go back to the version; otherwise the form again, with the
    service's errors at their fields (422 after a POST)."""
    if request.method == "POST" and form.is_valid():
        try:
            save(form)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, success)
            return redirect(_version_url(version))
    context = {"form": form, "version": version, **context}
    status = 422 if request.method == "POST" else 200
    return render(request, f"processes/{template}", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def step_create(request: HttpRequest, uuid, number: int) -> HttpResponse:
    process, version = _editable_version(request, uuid, number)
    if services.version_is_frozen(version):
        return _frozen_redirect(request, version)
    return _edit_page(
        request,
        version,
        StepForm(request.POST or None),
        save=lambda form: services.step_create(
            actor=request.user, version=version, key=form.cleaned_data["key"], **form.service_data()
        ),
        success=_("Step added."),
        template="step_form.html",
        context={"process": process, "step": None},
    )


@login_required
@require_http_methods(["GET", "POST"])
def step_edit(request: HttpRequest, uuid, number: int, key: str) -> HttpResponse:
    process, version = _editable_version(request, uuid, number)
    step = queries.step_get(version, key)
    if services.version_is_frozen(version):
        return _frozen_redirect(request, version)
    return _edit_page(
        request,
        version,
        StepForm(request.POST or None, initial=StepForm.initial_for(step), editing=True),
        save=lambda form: services.step_update(
            actor=request.user, step=step, **form.service_data()
        ),
        success=_("Changes saved."),
        template="step_form.html",
        context={"process": process, "step": step},
    )


def _write(request: HttpRequest, version: ProcessVersion, call, success: str) -> HttpResponse:
    """A one-button write (delete, move): run it, say how it went, back to the version."""
    try:
        call()
    except ValidationError as exc:
        _service_error(request, exc)
    else:
        messages.success(request, success)
    return redirect(_version_url(version))


@login_required
@require_POST
def step_delete(request: HttpRequest, uuid, number: int, key: str) -> HttpResponse:
    _process, version = _editable_version(request, uuid, number)
    step = queries.step_get(version, key)
    return _write(
        request,
        version,
        lambda: services.step_delete(actor=request.user, step=step),
        _("Step deleted."),
    )


def _move_target(request: HttpRequest, current: int) -> int:
    return current - 1 if request.POST.get("direction") == "up" else current + 1


@login_required
@require_POST
def step_move(request: HttpRequest, uuid, number: int, key: str) -> HttpResponse:
    _process, version = _editable_version(request, uuid, number)
    step = queries.step_get(version, key)
    position = _move_target(request, step.position)
    return _write(
        request,
        version,
        lambda: services.step_move(actor=request.user, step=step, position=position),
        _("Step moved."),
    )


# --- Transitions -------------------------------------------------------------------------


def _steps(version: ProcessVersion) -> list[Step]:
    return list(Step.objects.filter(version=version).order_by("position", "id"))


@login_required
@require_http_methods(["GET", "POST"])
def transition_create(request: HttpRequest, uuid, number: int, key: str) -> HttpResponse:
    process, version = _editable_version(request, uuid, number)
    source = queries.step_get(version, key)
    if services.version_is_frozen(version):
        return _frozen_redirect(request, version)
    return _edit_page(
        request,
        version,
        TransitionForm(request.POST or None, steps=_steps(version)),
        save=lambda form: services.transition_create(
            actor=request.user, source=source, **form.service_data()
        ),
        success=_("Way on added."),
        template="step_transition_form.html",
        context={"process": process, "source": source, "transition": None},
    )


@login_required
@require_http_methods(["GET", "POST"])
def transition_edit(request: HttpRequest, uuid, number: int, pk: int) -> HttpResponse:
    process, version = _editable_version(request, uuid, number)
    transition = queries.transition_get(version, pk)
    if services.version_is_frozen(version):
        return _frozen_redirect(request, version)
    form = TransitionForm(
        request.POST or None,
        steps=_steps(version),
        initial=TransitionForm.initial_for(transition),
    )
    return _edit_page(
        request,
        version,
        form,
        save=lambda form: services.transition_update(
            actor=request.user, transition=transition, **form.service_data()
        ),
        success=_("Changes saved."),
        template="step_transition_form.html",
        context={"process": process, "source": transition.source, "transition": transition},
    )


@login_required
@require_POST
def transition_delete(request: HttpRequest, uuid, number: int, pk: int) -> HttpResponse:
    _process, version = _editable_version(request, uuid, number)
    transition = queries.transition_get(version, pk)
    return _write(
        request,
        version,
        lambda: services.transition_delete(actor=request.user, transition=transition),
        _("Way on removed."),
    )


# --- Activities --------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def step_activity_create(request: HttpRequest, uuid, number: int, key: str) -> HttpResponse:
    process, version = _editable_version(request, uuid, number)
    step = queries.step_get(version, key)
    if services.version_is_frozen(version):
        return _frozen_redirect(request, version)
    return _edit_page(
        request,
        version,
        ActivityForm(request.POST or None),
        save=lambda form: services.step_activity_create(
            actor=request.user, step=step, **form.cleaned_data
        ),
        success=_("Activity added."),
        template="step_activity_form.html",
        context={"process": process, "step": step, "activity": None},
    )


@login_required
@require_http_methods(["GET", "POST"])
def step_activity_edit(request: HttpRequest, uuid, number: int, pk: int) -> HttpResponse:
    process, version = _editable_version(request, uuid, number)
    activity = queries.activity_get(version, pk)
    if services.version_is_frozen(version):
        return _frozen_redirect(request, version)
    return _edit_page(
        request,
        version,
        ActivityForm(request.POST or None, initial=ActivityForm.initial_for(activity)),
        save=lambda form: services.step_activity_update(
            actor=request.user, activity=activity, **form.cleaned_data
        ),
        success=_("Changes saved."),
        template="step_activity_form.html",
        context={"process": process, "step": activity.step, "activity": activity},
    )


@login_required
@require_POST
def step_activity_delete(request: HttpRequest, uuid, number: int, pk: int) -> HttpResponse:
    _process, version = _editable_version(request, uuid, number)
    activity = queries.activity_get(version, pk)
    return _write(
        request,
        version,
        lambda: services.step_activity_delete(actor=request.user, activity=activity),
        _("Activity deleted."),
    )


@login_required
@require_POST
def step_activity_move(request: HttpRequest, uuid, number: int, pk: int) -> HttpResponse:
    _process, version = _editable_version(request, uuid, number)
    activity = queries.activity_get(version, pk)
    position = _move_target(request, activity.position)
    return _write(
        request,
        version,
        lambda: services.step_activity_move(
            actor=request.user, activity=activity, position=position
        ),
        _("Activity moved."),
    )


_V = "<uuid:uuid>/versions/<int:number>/"

urlpatterns: list = [
    path("", process_list, name="process_list"),
    path("new/", process_create, name="process_create"),
    path("<uuid:uuid>/", process_detail, name="process_detail"),
    path("<uuid:uuid>/edit/", process_edit, name="process_edit"),
    path("<uuid:uuid>/archive/", process_archive, name="process_archive"),
    path("<uuid:uuid>/drafts/", process_new_draft, name="process_new_draft"),
    path(f"{_V}edit/", version_edit, name="version_edit"),
    path(f"{_V}publish/", version_publish, name="version_publish"),
    path(f"{_V}steps/new/", step_create, name="step_create"),
    path(f"{_V}steps/<slug:key>/edit/", step_edit, name="step_edit"),
    path(f"{_V}steps/<slug:key>/delete/", step_delete, name="step_delete"),
    path(f"{_V}steps/<slug:key>/move/", step_move, name="step_move"),
    path(f"{_V}steps/<slug:key>/ways/new/", transition_create, name="transition_create"),
    path(f"{_V}ways/<int:pk>/edit/", transition_edit, name="transition_edit"),
    path(f"{_V}ways/<int:pk>/delete/", transition_delete, name="transition_delete"),
    path(
        f"{_V}steps/<slug:key>/activities/new/",
        step_activity_create,
        name="step_activity_create",
    ),
    path(f"{_V}activities/<int:pk>/edit/", step_activity_edit, name="step_activity_edit"),
    path(f"{_V}activities/<int:pk>/delete/", step_activity_delete, name="step_activity_delete"),
    path(f"{_V}activities/<int:pk>/move/", step_activity_move, name="step_activity_move"),
]
