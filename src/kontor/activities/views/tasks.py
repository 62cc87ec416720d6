"""My day (/activities/), the task list, a task's page and form, and the open tasks
section of the 360° customer page. Done/undone and the quick forms answer htmx
requests with the changed piece only; without htmx they redirect back."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kontor.activities.forms.tasks import FollowUpForm, QuickTaskForm, TaskFilterForm, TaskForm
from kontor.activities.models import Task
from kontor.activities.queries import tasks as queries
from kontor.activities.services import tasks as services
from kontor.core import audit
from kontor.core.access import get_object_for_user, user_can
from kontor.core.api.pagination import DEFAULT_LIMIT, paginate
from kontor.core.forms import add_service_errors
from kontor.core.navigation import safe_next
from kontor.core.permissions import Capability
from kontor.customers.models import Organization, Person


def _can_edit(request: HttpRequest) -> bool:
    return user_can(request.user, Capability.ACTIVITIES_EDIT)


def _require_edit(request: HttpRequest) -> None:
    if not _can_edit(request):
        raise PermissionDenied


# --- My day ------------------------------------------------------------------------------


def _my_day_context(request: HttpRequest, form: QuickTaskForm | None = None) -> dict:
    return {
        "day": queries.my_day(user=request.user),
        "form": form or QuickTaskForm(user=request.user, auto_id="id_quick_%s"),
        "can_edit": _can_edit(request),
    }


@login_required
@require_GET
def my_day(request: HttpRequest) -> HttpResponse:
    return render(request, "activities/my_day.html", _my_day_context(request))


@login_required
@require_POST
def task_quick_create(request: HttpRequest) -> HttpResponse:
    """My day's "new task": answers with My day's task sections (htmx) or redirects."""
    _require_edit(request)
    form = QuickTaskForm(request.POST, user=request.user, auto_id="id_quick_%s")
    if form.is_valid():
        try:
            services.task_create(
                actor=request.user,
                title=form.cleaned_data["title"],
                due_date=form.cleaned_data["due_date"],
                priority=form.cleaned_data["priority"],
                **form.customer_links(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if not request.htmx:
                messages.success(request, _("Task added."))
                return redirect("activities:my_day")
            return render(request, "activities/my_day.html#tasks", _my_day_context(request))
    if not request.htmx:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("activities:my_day")
    # htmx swaps only 2xx answers: the sections with the form's errors come back as 200.
    return render(request, "activities/my_day.html#tasks", _my_day_context(request, form))


@login_required
@require_GET
def task_customer_options(request: HttpRequest) -> HttpResponse:
    """The options of a task form's customer select, for what was typed."""
    options = queries.customer_options(user=request.user, q=request.GET.get("customer_q", ""))
    response = render(request, "activities/task_customer_options.html", {"options": options})
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- Done / undone ----------------------------------------------------------------------


def _toggle(request: HttpRequest, uuid, service) -> HttpResponse:
    task = queries.task_get(user=request.user, uuid=uuid)
    _require_edit(request)
    task = service(actor=request.user, task=task)
    if not request.htmx:
        return redirect(safe_next(request, task.get_absolute_url()))
    task = queries.task_get(user=request.user, uuid=uuid)
    context = {
        "task": task,
        "can_edit": True,
        "show_due": request.POST.get("show_due") == "1",
        "next_url": request.POST.get("next", ""),
    }
    return render(request, "activities/task_row.html", context)


@login_required
@require_POST
def task_done(request: HttpRequest, uuid) -> HttpResponse:
    return _toggle(request, uuid, services.task_done)


@login_required
@require_POST
def task_reopen(request: HttpRequest, uuid) -> HttpResponse:
    return _toggle(request, uuid, services.task_reopen)


# --- The task list ----------------------------------------------------------------------


@login_required
@require_GET
def task_list(request: HttpRequest) -> HttpResponse:
    params = request.GET.copy()
    params.pop("cursor", None)
    if "assignee" not in params:
        params["assignee"] = "me"
    if "status" not in params:
        params["status"] = "open"
    form = TaskFilterForm(params)
    if form.is_valid():
        tasks = queries.task_list(user=request.user, **form.query_kwargs(request.user))
    else:
        tasks = Task.objects.none()
    rows, next_cursor = paginate(
        tasks, cursor=request.GET.get("cursor"), limit=DEFAULT_LIMIT, order=queries.TASK_ORDER
    )
    more = urlencode({**params.dict(), "cursor": next_cursor}) if next_cursor else ""
    context = {
        "form": form,
        "tasks": rows,
        "more_query": more,
        "can_edit": _can_edit(request),
    }
    if request.htmx and request.GET.get("cursor"):
        return render(request, "activities/task_list.html#rows", context)
    if request.htmx:
        return render(request, "activities/task_list.html#table", context)
    return render(request, "activities/task_list.html", context)


# --- One task ---------------------------------------------------------------------------


@login_required
@require_GET
def task_detail(request: HttpRequest, uuid) -> HttpResponse:
    task = queries.task_get(user=request.user, uuid=uuid)
    can_audit = user_can(request.user, Capability.AUDIT_VIEW)
    context = {
        "task": task,
        "can_edit": _can_edit(request),
        "audit_entries": audit.entries_for(task)[:50] if can_audit else None,
    }
    return render(request, "activities/task_detail.html", context)


def _prefill_customer(request: HttpRequest):
    if uuid := request.GET.get("person"):
        return get_object_for_user(Person, request.user, uuid=uuid)
    if uuid := request.GET.get("organization"):
        return get_object_for_user(Organization, request.user, uuid=uuid)
    return None


@login_required
@require_http_methods(["GET", "POST"])
def task_create(request: HttpRequest) -> HttpResponse:
    _require_edit(request)
    customer = _prefill_customer(request)
    form = TaskForm(request.POST or None, user=request.user, customer=customer)
    if request.method == "POST" and form.is_valid():
        try:
            task = services.task_create(actor=request.user, **form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Task added."))
            return redirect(task.get_absolute_url())
    status = 422 if request.method == "POST" else 200
    return render(request, "activities/task_form.html", {"form": form, "task": None}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def task_edit(request: HttpRequest, uuid) -> HttpResponse:
    task = queries.task_get(user=request.user, uuid=uuid)
    _require_edit(request)
    customer = task.person or task.organization
    initial = {
        "title": task.title,
        "description": task.description,
        "due_date": task.due_date,
        "due_time": task.due_time,
        "priority": task.priority,
        "assignee": task.owner_id,
        "recurrence": task.recurrence,
        "recurrence_interval": task.recurrence_interval,
        "version": task.version,
    }
    form = TaskForm(request.POST or None, user=request.user, customer=customer, initial=initial)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                saved = services.task_update(
                    actor=request.user,
                    task=task,
                    data=form.service_data(),
                    version=form.cleaned_data.get("version"),
                )
            except services.EditConflict as exc:
                # Saving again means "keep mine": the form now carries their version.
                form.data = form.data.copy()
                form.data["version"] = exc.current.version
                form.add_error(None, str(exc))
                status = 409
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Changes saved."))
                return redirect(saved.get_absolute_url())
    return render(request, "activities/task_form.html", {"form": form, "task": task}, status=status)


@login_required
@require_POST
def task_delete(request: HttpRequest, uuid) -> HttpResponse:
    task = queries.task_get(user=request.user, uuid=uuid)
    _require_edit(request)
    services.task_delete(actor=request.user, task=task)
    messages.success(request, _("Task deleted."))
    return redirect("activities:task_list")


# --- The 360° section -------------------------------------------------------------------


def _customer(request: HttpRequest, uuid):
    """A person or an organization by its uuid, if the user may see it."""
    if not user_can(request.user, Capability.CUSTOMERS_VIEW):
        raise PermissionDenied
    for model in (Person, Organization):
        record = model.objects.visible_to(request.user).filter(uuid=uuid).first()
        if record is not None:
            return record
    raise Http404


def _customer_section(request: HttpRequest, record, form: FollowUpForm | None = None):
    kind = "person" if isinstance(record, Person) else "organization"
    context = {
        "record": record,
        "tasks": list(queries.customer_open_tasks(user=request.user, customer=record)),
        "can_edit": _can_edit(request),
        "form": form or FollowUpForm(auto_id="id_followup_%s"),
        "section_url": reverse("activities:customer_tasks", args=[record.uuid]),
        "next_url": record.get_absolute_url(),
        "create_url": reverse("activities:task_create") + f"?{kind}={record.uuid}",
    }
    response = render(request, "activities/includes/customer_tasks.html#body", context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
@require_http_methods(["GET", "POST"])
def customer_tasks(request: HttpRequest, uuid) -> HttpResponse:
    record = _customer(request, uuid)
    if request.method == "GET":
        return _customer_section(request, record)
    _require_edit(request)
    form = FollowUpForm(request.POST, auto_id="id_followup_%s")
    if form.is_valid():
        kind = "person" if isinstance(record, Person) else "organization"
        try:
            services.task_create(
                actor=request.user,
                title=form.cleaned_data["title"],
                due_date=form.cleaned_data["due_date"],
                priority=form.cleaned_data["priority"],
                **{kind: record},
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if not request.htmx:
                messages.success(request, _("Follow-up added."))
                return redirect(record.get_absolute_url())
            return _customer_section(request, record)
    if not request.htmx:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(record.get_absolute_url())
    return _customer_section(request, record, form)


urlpatterns: list = [
    path("activities/", my_day, name="my_day"),
    path("activities/tasks/", task_list, name="task_list"),
    path("activities/tasks/new/", task_create, name="task_create"),
    path("activities/tasks/quick/", task_quick_create, name="task_quick_create"),
    path("activities/tasks/customers/", task_customer_options, name="task_customer_options"),
    path("activities/tasks/customer/<uuid:uuid>/", customer_tasks, name="customer_tasks"),
    path("activities/tasks/<uuid:uuid>/", task_detail, name="task_detail"),
    path("activities/tasks/<uuid:uuid>/edit/", task_edit, name="task_edit"),
    path("activities/tasks/<uuid:uuid>/done/", task_done, name="task_done"),
    path("activities/tasks/<uuid:uuid>/reopen/", task_reopen, name="task_reopen"),
    path("activities/tasks/<uuid:uuid>/delete/", task_delete, name="task_delete"),
]
