"""The person and organization lists: filters, sort, columns, "show more" (keyset),
saved views, bulk actions and exports. The URL holds the whole state."""

import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kontor.core import customfields, jobs, search
from kontor.core.access import team_ids, user_can, user_may_write
from kontor.core.api.pagination import paginate
from kontor.core.models import BulkJob, SavedView, Team, User
from kontor.core.permissions import Capability
from kontor.customers import bulk, list_export, listing, queries
from kontor.customers.models import Organization, Tag

PAGE_SIZE = 50
EMPTY_TEXT = {
    "person": lambda: _("No persons found."),
    "organization": lambda: _("No organizations found."),
}
PAGE_TEXT = {
    "person": lambda: {
        "page_title": _("Persons"),
        "create_url": reverse("customers:person_create"),
        "create_label": _("New person"),
        "search_placeholder": _("Name, e-mail or company"),
    },
    "organization": lambda: {
        "page_title": _("Organizations"),
        "create_url": reverse("customers:organization_create"),
        "create_label": _("New organization"),
        "search_placeholder": _("Name or city"),
    },
}
TEMPLATES = {
    "person": "customers/person_list.html",
    "organization": "customers/organization_list.html",
}


# The bulk form has one control per kind of value; the pressed button names the action.
VALUE_FIELD = {
    bulk.SET_OWNER: "owner",
    bulk.SET_TEAM: "team",
    bulk.ADD_TAG: "tag",
    bulk.REMOVE_TAG: "tag",
}


def _require(request: HttpRequest, capability: str) -> None:
    if not user_can(request.user, capability):
        raise PermissionDenied


def _cells(lq: listing.ListQuery, record) -> list:
    """The chosen columns' values of one row (the name column is rendered as a link)."""
    custom = None
    cells = []
    for column in lq.columns:
        if column.key == "name":
            cells.append(None)
        elif column.custom is not None:
            if custom is None:
                texts = customfields.display_values(
                    lq.entity.key, record.custom, fields=lq.custom_fields
                )
                custom = {
                    f.key: text for f, (_label, text) in zip(lq.custom_fields, texts, strict=True)
                }
            cells.append(custom.get(column.custom.key, ""))
        elif column.key == "tags":
            cells.append(", ".join(t.name for t in record.tags.all()))
        elif column.key in queries.ORGANIZATION_LINKS[lq.entity.model]:
            # Joined with its visibility by the list's query (see the rule there).
            cells.append(queries.organization_text(record, column.key))
        else:
            display = getattr(record, f"get_{column.key}_display", None)
            value = display() if display else getattr(record, column.key)
            cells.append("" if value is None else value)
    return cells


START_FILTERS = {"last_name", "name", "city", "postal_code", "email"}
RANGE_TYPES = {"number", "decimal", "date"}
# Relations to organizations, chosen with a picker (organization_suggest).
PICKERS = {"organization", "parent"}
SUGGESTIONS = 10


def _picked(user, values: list[str]) -> str:
    """The names of the chosen organizations the user may see, for the picker's box."""
    uuids = []
    for value in values:
        try:
            uuids.append(uuid.UUID(value))
        except ValueError:
            continue  # listing reports it as a filter error
    if not uuids:
        return ""
    names = Organization.objects.visible_to(user).filter(uuid__in=uuids).order_by("name")
    return ", ".join(names.values_list("name", flat=True))


def _widgets(lq: listing.ListQuery, users, teams, tags) -> list[dict]:
    """One form control per filter parameter, with the current value(s)."""
    params = lq.params

    def widget(param, label, kind, choices=(), **extra):
        values = params.getlist(param)
        return {
            "param": param,
            "label": label,
            "kind": kind,
            "choices": choices,
            "value": values[0] if values else "",
            "values": values,
            **extra,
        }

    result = []
    for f in listing.filters_for(lq.entity, lq.user):
        label = str(f.label).capitalize()
        if f.kind == listing.TEXT:
            result.append(widget(f.name, label, "text"))
            if f.name in START_FILTERS:
                result.append(widget(f"{f.name}__start", f"{label} ({_('starts with')})", "text"))
        elif f.kind == listing.CHOICE:
            result.append(widget(f.name, label, "multi", [(str(k), v) for k, v in f.choices]))
        elif f.kind in (listing.DATE, listing.NUMBER):
            kind = "date" if f.kind == listing.DATE else "number"
            result.append(widget(f"{f.name}__from", f"{label} ({_('from')})", kind))
            result.append(widget(f"{f.name}__to", f"{label} ({_('to')})", kind))
        elif f.name == "owner":
            choices = [("me", _("me")), *((str(u.uuid), str(u)) for u in users)]
            result.append(widget("owner", label, "multi", choices))
        elif f.name == "team":
            result.append(widget("team", label, "multi", [(str(t.uuid), t.name) for t in teams]))
        elif f.kind == listing.RELATION and f.name in PICKERS:
            values = [v for v in params.getlist(f.name) if v]
            result.append(widget(f.name, label, "record", picked=_picked(lq.user, values)))
        elif f.kind == listing.TAG:
            result.append(widget("tag", label, "multi", [(str(t.pk), t.name) for t in tags]))
        elif f.kind == listing.PRESENCE:
            choices = [("", _("any")), ("1", _("yes")), ("0", _("no"))]
            result.append(widget(f.name, label, "select", choices))
    for cf in lq.custom_fields:
        param, label = listing.CF_PREFIX + cf.key, customfields.label_of(cf)
        if cf.field_type in RANGE_TYPES:
            kind = "date" if cf.field_type == "date" else "number"
            result.append(widget(f"{param}__from", f"{label} ({_('from')})", kind))
            result.append(widget(f"{param}__to", f"{label} ({_('to')})", kind))
        elif cf.field_type in ("choice", "multiple_choice"):
            choices = [("", _("any"))] + [(str(c), str(c)) for c in cf.choices]
            result.append(widget(param, label, "select", choices))
        elif cf.field_type == "boolean":
            choices = [("", _("any")), ("true", _("yes")), ("false", _("no"))]
            result.append(widget(param, label, "select", choices))
        else:
            result.append(widget(param, label, "text"))
    return result


def _entity_list(request: HttpRequest, entity_name: str) -> HttpResponse:
    _require(request, Capability.CUSTOMERS_VIEW)
    entity = listing.ENTITIES[entity_name]
    lq = listing.parse(entity, request.user, request.GET)
    rows = lq.queryset()
    if any(c.key == "tags" for c in lq.columns):
        rows = rows.prefetch_related("tags")
    if any(c.key == "team" for c in lq.columns):
        rows = rows.select_related("team")
    cursor = request.GET.get("cursor") or None
    page, next_cursor = paginate(rows, cursor=cursor, limit=PAGE_SIZE, order=lq.order)
    template = "customers/record_list.html"
    can_select = user_can(request.user, Capability.CUSTOMERS_EDIT) or user_can(
        request.user, Capability.CUSTOMERS_EXPORT
    )
    context = {
        "entity_name": entity_name,
        "list_url": reverse(f"customers:{entity_name}_list"),
        "empty_text": EMPTY_TEXT[entity_name](),
        "name_index": [c.key for c in lq.columns].index("name"),
        "colspan": len(lq.columns) + can_select,
        "can_select": can_select,
        "lq": lq,
        "rows": [(record, _cells(lq, record)) for record in page],
        "next_cursor": next_cursor,
        "more_query": lq.querystring(cursor=next_cursor) if next_cursor else "",
        "headers": [
            (c, lq.sort_querystring(c) if c.sort else None, lq.sort == c.key) for c in lq.columns
        ],
        "q": lq.q,
        "state": lq.querystring(),
        "can_edit": user_can(request.user, Capability.CUSTOMERS_EDIT),
        "can_export": user_can(request.user, Capability.CUSTOMERS_EXPORT),
    }
    if request.htmx and cursor:
        response = render(request, f"{template}#rows", context)
    elif request.htmx:
        response = render(request, f"{template}#table", context)
    else:
        views = SavedView.objects.visible_to(request.user).filter(entity=entity.key)
        users = User.objects.filter(is_active=True).order_by("username")
        teams, tags = Team.objects.order_by("name"), Tag.objects.order_by("name")
        context.update(
            widgets=_widgets(lq, list(users), list(teams), list(tags)),
            saved_views=[(v, saved_view_url(v)) for v in views],
            may_share_views=user_may_write(request.user),
            bulk_users=users,
            bulk_teams=teams,
            bulk_tags=tags,
            **PAGE_TEXT[entity_name](),
        )
        response = render(request, TEMPLATES[entity_name], context)
    # The same URL answers a page or a fragment: caches must tell them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
def organization_suggest(request: HttpRequest) -> HttpResponse:
    """The organizations matching ``term`` that the user may see, for the pickers of
    the list filters (an htmx fragment): ranked as in the global search."""
    _require(request, Capability.CUSTOMERS_VIEW)
    term = request.GET.get("term", "")
    results = search.search(user=request.user, q=term, kinds=["organization"], limit=SUGGESTIONS)
    hits = [hit for group in results.groups for hit in group.hits]
    return render(
        request,
        "customers/record_list.html#suggestions",
        {"hits": hits, "term": results.query},
    )


@login_required
def person_list(request: HttpRequest) -> HttpResponse:
    return _entity_list(request, "person")


@login_required
def organization_list(request: HttpRequest) -> HttpResponse:
    return _entity_list(request, "organization")


# --- Saved views -------------------------------------------------------------------------


def _list_url(entity_name: str, query: str = "") -> str:
    url = reverse(f"customers:{entity_name}_list")
    return f"{url}?{query}" if query else url


@login_required
@require_POST
def saved_view_save(request: HttpRequest, entity_name: str) -> HttpResponse:
    _require(request, Capability.CUSTOMERS_VIEW)
    entity = listing.ENTITIES.get(entity_name) or _not_found()
    query = QueryDict(request.POST.get("query", "")[:4000])
    lq = listing.parse(entity, request.user, query)
    name = request.POST.get("name", "").strip()[:100]
    if not name:
        messages.error(request, _("Give the view a name."))
        return redirect(_list_url(entity_name, lq.querystring()))
    shared = request.POST.get("shared") == "1"
    if shared and not user_may_write(request.user):
        # A read-only role keeps its views to itself: a shared one changes the team's menu.
        messages.error(request, _("Your role may not share views with the team."))
        return redirect(_list_url(entity_name, lq.querystring()))
    teams = team_ids(request.user)
    SavedView.objects.create(
        entity=entity.key,
        name=name,
        owner=request.user,
        team_id=teams[0] if shared and teams else None,
        shared=shared and bool(teams),
        query=lq.state(),
    )
    messages.success(request, _("View saved."))
    return redirect(_list_url(entity_name, lq.querystring()))


@login_required
@require_POST
def saved_view_delete(request: HttpRequest, pk: int) -> HttpResponse:
    view = get_object_or_404(SavedView, pk=pk, owner=request.user)  # only one's own
    entity_name = view.entity.split(".")[-1]
    view.delete()
    messages.success(request, _("View deleted."))
    return redirect(_list_url(entity_name))


def saved_view_url(view: SavedView) -> str:
    return _list_url(view.entity.split(".")[-1], urlencode(view.query, doseq=True))


def _not_found():
    raise Http404


# --- Bulk actions and exports ------------------------------------------------------------


@login_required
@require_POST
def bulk_action(request: HttpRequest, entity_name: str) -> HttpResponse:
    _require(request, Capability.CUSTOMERS_VIEW)
    entity = listing.ENTITIES.get(entity_name) or _not_found()
    query = request.POST.get("query", "")[:4000]
    lq = listing.parse(entity, request.user, QueryDict(query))
    back = _list_url(entity_name, lq.querystring())
    if request.POST.get("all") == "1":
        records = lq.queryset()
        ids = None
    else:
        ids = [i for i in request.POST.getlist("ids")[: bulk.SYNC_LIMIT] if i]
        try:
            records = lq.queryset().filter(uuid__in=ids)
        except ValidationError:
            raise Http404 from None
    action = request.POST.get("action", "")
    if action in ("export_csv", "export_xlsx"):
        _require(request, Capability.CUSTOMERS_EXPORT)
        write = list_export.csv_response if action == "export_csv" else list_export.xlsx_response
        return write(entity=entity, user=request.user, records=records)
    _require(request, Capability.CUSTOMERS_EDIT)
    value = request.POST.get(VALUE_FIELD.get(action, "value"), "")
    try:
        target = bulk.bulk_target(action=action, value=value)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect(back)
    total = records.count()
    if total > bulk.SYNC_LIMIT:
        params = {"ids": ids} if ids else {"query": lq.querystring()}
        job = bulk.bulk_job_start(
            entity=entity.key,
            actor=request.user,
            action=action,
            value=value,
            params=params,
            total=total,
        )
        return redirect("customers:bulk_job", pk=job.pk)
    changed = bulk.records_bulk_change(
        records=records, actor=request.user, action=action, target=target
    )
    messages.success(request, _("%(count)d records changed.") % {"count": changed})
    return redirect(back)


@login_required
def bulk_job(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(BulkJob, pk=pk, actor=request.user)
    return _bulk_job_page(request, job)


def _bulk_job_page(request: HttpRequest, job: BulkJob, busy: str = "") -> HttpResponse:
    template = "customers/bulk_job.html"
    if request.htmx:
        return render(request, f"{template}#progress", {"job": job, "busy": busy})
    return render(request, template, {"job": job})


def _own_job(request: HttpRequest, pk: int) -> BulkJob:
    job = get_object_or_404(BulkJob, pk=pk, actor=request.user)
    _require(request, Capability.CUSTOMERS_EDIT)
    return job


def _bulk_job_change(request: HttpRequest, pk: int, change) -> HttpResponse:
    """Cancel or retry the actor's job; a database locked by the job's worker
    (SQLite) is answered with "try again in a moment", not an error."""
    job = _own_job(request, pk)
    busy = ""
    try:
        change(job=job, actor=request.user)
    except jobs.JobBusy:
        busy = str(jobs.BUSY_MESSAGE)
    if request.htmx:
        return _bulk_job_page(request, job, busy)
    if busy:
        messages.warning(request, busy)
    return redirect("customers:bulk_job", pk=pk)


@login_required
@require_POST
def bulk_job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Stop the actor's job before its next chunk; what is done stays done."""
    return _bulk_job_change(request, pk, jobs.job_cancel)


@login_required
@require_POST
def bulk_job_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue a failed or cancelled job again; it goes on after its last chunk."""
    return _bulk_job_change(request, pk, jobs.job_retry)
