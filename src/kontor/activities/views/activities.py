"""The contact history: the 360° section (timeline with filters, load-more, the short
"Log a call" form), the full "Log activity" page, an activity's page (edit, delete)
and its attachments (upload, download, delete).

The section loads itself from ``activities:customer_history`` (one URL for persons
and organizations: the uuid tells which). Views are thin: authorize → validate →
call the service or query → render; errors come back as form errors, never a 500."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kontor.activities.forms.activities import (
    ActivityForm,
    AttachmentForm,
    QuickCallForm,
    TimelineFilterForm,
)
from kontor.activities.models import Activity, Attachment
from kontor.activities.queries import activities as queries
from kontor.activities.services import activities as services
from kontor.activities.services import attachments as attachment_services
from kontor.core.access import user_can
from kontor.core.forms import add_service_errors
from kontor.core.middleware import UPLOAD_VIEW_NAMES
from kontor.core.permissions import Capability
from kontor.customers.models import Organization, Person

SECTION = "activities/includes/customer_history.html"

# A multipart body to these may carry an attachment of ATTACHMENT_MAX_MB, above the
# general request limit (core.middleware.RequestSizeLimitMiddleware).
UPLOAD_VIEW_NAMES.update(
    {
        "activities:activity_log",
        "activities:attachment_upload",
        "api:activity_attachment_create",
    }
)
PAGE_SIZE = 25


def _require(request: HttpRequest, capability: str) -> None:
    if not user_can(request.user, capability):
        raise PermissionDenied


def _customer(request: HttpRequest, uuid) -> Person | Organization:
    """The person or organization with this uuid if the user may see it; 404 otherwise."""
    _require(request, Capability.CUSTOMERS_VIEW)
    for model in (Person, Organization):
        found = model.objects.visible_to(request.user).filter(uuid=uuid).first()
        if found is not None:
            return found
    raise Http404


def _subject(customer: Person | Organization) -> dict:
    kind = "person" if isinstance(customer, Person) else "organization"
    return {kind: customer}


# --- The 360° section ---------------------------------------------------------------------


def _history_context(request: HttpRequest, customer, filters: TimelineFilterForm) -> dict:
    url = reverse("activities:customer_history", args=[customer.uuid])
    rows, next_cursor = queries.timeline_page(
        user=request.user,
        **_subject(customer),
        **filters.filters(),
        cursor=request.GET.get("cursor") or None,
        limit=PAGE_SIZE,
    )
    query = {k: v for k, v in filters.data.items() if k in filters.fields and v}
    more_url = (
        f"{url}?{urlencode({**query, 'part': 'more', 'cursor': next_cursor})}"
        if next_cursor
        else None
    )
    return {
        "customer": customer,
        "history_url": url,
        "call_url": reverse("activities:customer_log_call", args=[customer.uuid]),
        "log_url": reverse("activities:activity_log", args=[customer.uuid]),
        "entries": rows,
        "more_url": more_url,
        "filter_form": filters,
        "can_log": queries.can_log(request.user),
    }


@login_required
@require_GET
def customer_history(request: HttpRequest, uuid) -> HttpResponse:
    """The section (``part`` absent), the filtered entries (``part=entries``) or the
    next page of entries (``part=more``, with ``cursor``)."""
    customer = _customer(request, uuid)
    filters = TimelineFilterForm(request.GET or None, auto_id="id_history_%s")
    context = _history_context(request, customer, filters)
    part = request.GET.get("part")
    if part == "more":
        return render(request, f"{SECTION}#more", context)
    if part == "entries":
        return render(request, f"{SECTION}#entries", context)
    context["call_form"] = QuickCallForm()
    return render(request, f"{SECTION}#body", context)


@login_required
@require_POST
def customer_log_call(request: HttpRequest, uuid) -> HttpResponse:
    """The short form: the fresh form and the new entry (swapped out of band at the
    top of the timeline); with errors, the form again. Without htmx: back to the page."""
    customer = _customer(request, uuid)
    _require(request, Capability.ACTIVITIES_EDIT)
    form = QuickCallForm(request.POST)
    activity = None
    if form.is_valid():
        try:
            activity = services.activity_create(
                actor=request.user, **_subject(customer), **form.service_data()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
    if not request.htmx:
        if activity is not None:
            messages.success(request, _("Call logged."))
        else:
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
        return redirect(customer.get_absolute_url())
    context = {
        "customer": customer,
        "call_url": reverse("activities:customer_log_call", args=[customer.uuid]),
        "call_form": form if activity is None else QuickCallForm(),
        "new_entry": None,
    }
    if activity is not None:
        context["new_entry"] = queries.with_list_data(Activity.objects.filter(pk=activity.pk)).get()
    # htmx swaps only 2xx answers: the form with its errors comes back as 200.
    return render(request, f"{SECTION}#call", context)


# --- Log, show, edit, delete ----------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def activity_log(request: HttpRequest, uuid) -> HttpResponse:
    """The full form: any kind, participants and files."""
    customer = _customer(request, uuid)
    _require(request, Capability.ACTIVITIES_EDIT)
    form = ActivityForm(
        request.POST or None, request.FILES or None, user=request.user, customer=customer
    )
    if request.method == "POST" and form.is_valid():
        try:
            activity = services.activity_create(
                actor=request.user,
                **_subject(customer),
                **form.service_data(),
                files=form.cleaned_data.get("files") or (),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Activity logged."))
            return redirect(activity.get_absolute_url())
    return render(
        request,
        "activities/activity_form.html",
        {"form": form, "customer": customer, "activity": None},
        status=422 if form.errors else 200,
    )


def _detail_context(request: HttpRequest, activity: Activity, **extra) -> dict:
    return {
        "activity": activity,
        "customer": queries.subject_of(activity),
        "can_change": services.can_change(request.user, activity),
        "can_upload": queries.can_log(request.user) and services.can_change(request.user, activity),
        "upload_form": extra.pop("upload_form", None) or AttachmentForm(),
        **extra,
    }


@login_required
@require_GET
def activity_detail(request: HttpRequest, uuid) -> HttpResponse:
    _require(request, Capability.CUSTOMERS_VIEW)
    activity = queries.activity_get(user=request.user, uuid=uuid)
    return render(request, "activities/activity_detail.html", _detail_context(request, activity))


@login_required
@require_http_methods(["GET", "POST"])
def activity_edit(request: HttpRequest, uuid) -> HttpResponse:
    _require(request, Capability.CUSTOMERS_VIEW)
    activity = queries.activity_get(user=request.user, uuid=uuid)
    if not services.can_change(request.user, activity):
        raise PermissionDenied
    customer = queries.subject_of(activity)
    form = ActivityForm(
        request.POST or None, user=request.user, customer=customer, activity=activity
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.activity_update(
                actor=request.user,
                activity=activity,
                data=form.service_data(),
                version=form.cleaned_data.get("version"),
            )
        except services.EditConflict as exc:
            # Saving again means "keep mine": the form now carries their version.
            form.data = form.data.copy()
            form.data["version"] = exc.current.version
            form.add_error(
                None,
                _(
                    "Someone else changed this activity in the meantime. Check the "
                    "values and save again to keep yours."
                ),
            )
            status = 409
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect(activity.get_absolute_url())
    if form.errors and status == 200:
        status = 422
    return render(
        request,
        "activities/activity_form.html",
        {"form": form, "customer": customer, "activity": activity},
        status=status,
    )


@login_required
@require_POST
def activity_delete(request: HttpRequest, uuid) -> HttpResponse:
    _require(request, Capability.CUSTOMERS_VIEW)
    activity = queries.activity_get(user=request.user, uuid=uuid)
    customer = queries.subject_of(activity)
    services.activity_delete(actor=request.user, activity=activity)
    messages.success(request, _("Activity deleted."))
    return redirect(customer.get_absolute_url())


# --- Attachments ------------------------------------------------------------------------


@login_required
@require_POST
def attachment_upload(request: HttpRequest, uuid) -> HttpResponse:
    _require(request, Capability.CUSTOMERS_VIEW)
    activity = queries.activity_get(user=request.user, uuid=uuid)
    if not services.can_change(request.user, activity):
        raise PermissionDenied
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            added = attachment_services.attachments_add(
                actor=request.user, activity=activity, files=form.cleaned_data["file"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Files added: %(names)s.") % {"names": ", ".join(a.filename for a in added)},
            )
            return redirect(activity.get_absolute_url())
    activity = queries.activity_get(user=request.user, uuid=uuid)
    return render(
        request,
        "activities/activity_detail.html",
        _detail_context(request, activity, upload_form=form),
        status=422,
    )


def _attachment(request: HttpRequest, uuid, attachment_uuid) -> Attachment:
    _require(request, Capability.CUSTOMERS_VIEW)
    activity = queries.activity_get(user=request.user, uuid=uuid)
    try:
        return activity.attachments.select_related("activity").get(uuid=attachment_uuid)
    except (Attachment.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404 from exc


@login_required
@require_GET
def attachment_download(request: HttpRequest, uuid, attachment_uuid) -> HttpResponse:
    """Always a download with the original name, never shown inline: a stored HTML or
    SVG file must not run in Kontor's origin."""
    attachment = _attachment(request, uuid, attachment_uuid)
    return file_response(attachment)


def file_response(attachment: Attachment) -> FileResponse:
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.filename,
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def attachment_delete(request: HttpRequest, uuid, attachment_uuid) -> HttpResponse:
    attachment = _attachment(request, uuid, attachment_uuid)
    attachment_services.attachment_delete(actor=request.user, attachment=attachment)
    messages.success(request, _("File deleted."))
    return redirect(attachment.activity.get_absolute_url())


urlpatterns: list = [
    path("activities/history/<uuid:uuid>/", customer_history, name="customer_history"),
    path("activities/history/<uuid:uuid>/call/", customer_log_call, name="customer_log_call"),
    path("activities/log/<uuid:uuid>/", activity_log, name="activity_log"),
    path("activities/<uuid:uuid>/", activity_detail, name="activity_detail"),
    path("activities/<uuid:uuid>/edit/", activity_edit, name="activity_edit"),
    path("activities/<uuid:uuid>/delete/", activity_delete, name="activity_delete"),
    path("activities/<uuid:uuid>/attachments/", attachment_upload, name="attachment_upload"),
    path(
        "activities/<uuid:uuid>/attachments/<uuid:attachment_uuid>/",
        attachment_download,
        name="attachment_download",
    ),
    path(
        "activities/<uuid:uuid>/attachments/<uuid:attachment_uuid>/delete/",
        attachment_delete,
        name="attachment_delete",
    ),
]
