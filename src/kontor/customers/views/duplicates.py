"""Duplicates in the UI: warnings while creating, the review list with its background
scan, and the side-by-side merge form."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kontor.core import jobs
from kontor.core.access import user_can
from kontor.core.permissions import Capability
from kontor.customers import duplicates, merge, queries, services, tasks
from kontor.customers.models import (
    PSYCHOGRAPHIC_FIELDS,
    DuplicateKind,
    DuplicatePair,
    DuplicateScan,
    DuplicateStatus,
    MergeRecord,
    Organization,
    Person,
)

LIST_SIZE = 100
WARNING_SIZE = 5


def _require(request: HttpRequest, capability: str) -> None:
    if not user_can(request.user, capability):
        raise PermissionDenied


def _kind(request: HttpRequest) -> str:
    kind = request.GET.get("kind") or request.POST.get("kind") or DuplicateKind.PERSON
    if kind not in DuplicateKind.values:
        raise Http404
    return kind


# --- Warnings while creating ---------------------------------------------------------------


def found_on_create(request: HttpRequest, form, record) -> list[duplicates.Candidate]:
    """On submitting a new record: its likely duplicates, unless the user already chose
    "create anyway" (``allow_duplicates``). The create view shows them and saves nothing."""
    if record is not None or request.method != "POST" or request.POST.get("allow_duplicates"):
        return []
    if not form.is_valid():
        return []
    return duplicates.candidates_for_data(
        user=request.user, model=form._meta.model, data=form.service_data(), limit=WARNING_SIZE
    )


_CHECK_FIELDS = {
    Person: ("first_name", "last_name", "email", "phone", "mobile", "city", "street"),
    Organization: (
        "name",
        "email",
        "phone",
        "website",
        "vat_id",
        "city",
        "postal_code",
        "street",
    ),
}


def _check(request: HttpRequest, model) -> HttpResponse:
    """As the user types: the likely duplicates of what the create form holds so far."""
    _require(request, Capability.CUSTOMERS_EDIT)
    data = {name: request.POST.get(name, "").strip() for name in _CHECK_FIELDS[model]}
    if model is Person and request.POST.get("organization"):
        data["organization"] = (
            Organization.objects.visible_to(request.user)
            .filter(pk=request.POST["organization"])
            .first()
            if request.POST["organization"].isdigit()
            else None
        )
    found = duplicates.candidates_for_data(
        user=request.user, model=model, data=data, limit=WARNING_SIZE
    )
    return render(
        request,
        "customers/duplicates/warnings.html#warnings",
        {"duplicates": found, "live": True},
    )


@login_required
@require_POST
def person_duplicate_check(request: HttpRequest) -> HttpResponse:
    return _check(request, Person)


@login_required
@require_POST
def organization_duplicate_check(request: HttpRequest) -> HttpResponse:
    return _check(request, Organization)


# --- The review list ---------------------------------------------------------------------


@login_required
@require_GET
def duplicate_list(request: HttpRequest) -> HttpResponse:
    _require(request, Capability.CUSTOMERS_VIEW)
    kind = _kind(request)
    pairs = duplicates.with_records(
        list(duplicates.pairs_visible_to(request.user, kind).order_by("-score", "id")[:LIST_SIZE])
    )
    return render(
        request,
        "customers/duplicates/duplicate_list.html",
        {
            "kind": kind,
            "kinds": DuplicateKind.choices,
            "pairs": pairs,
            "scan": DuplicateScan.objects.filter(kind=kind).first(),
            "can_edit": user_can(request.user, Capability.CUSTOMERS_EDIT),
            "can_merge": user_can(request.user, Capability.CUSTOMERS_DELETE),
        },
    )


@login_required
@require_POST
def duplicate_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Not a duplicate": the pair leaves the list and later scans keep it out."""
    _require(request, Capability.CUSTOMERS_VIEW)
    pair = get_object_or_404(DuplicatePair, pk=pk)
    pair = get_object_or_404(duplicates.pairs_visible_to(request.user, pair.kind), pk=pk)
    _require(request, Capability.CUSTOMERS_EDIT)
    DuplicatePair.objects.filter(pk=pair.pk, status=DuplicateStatus.OPEN).update(
        status=DuplicateStatus.DISMISSED, resolved_by=request.user
    )
    if request.htmx:
        return HttpResponse("")
    messages.success(request, _("Marked as not a duplicate."))
    return redirect(f"{_list_url()}?kind={pair.kind}")


def _list_url() -> str:
    return reverse("customers:duplicate_list")


@login_required
@require_POST
def duplicate_scan_start(request: HttpRequest) -> HttpResponse:
    _require(request, Capability.CUSTOMERS_EDIT)
    kind = _kind(request)
    scan = tasks.duplicate_scan_start(kind=kind, actor=request.user)
    if request.htmx:
        return _progress(request, scan)
    return redirect(f"{_list_url()}?kind={kind}")


@login_required
@require_GET
def duplicate_scan_progress(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Capability.CUSTOMERS_VIEW)
    scan = get_object_or_404(DuplicateScan, pk=pk)
    response = _progress(request, scan)
    if not scan.is_running:
        # The scan has just ended: reload the page once so the new pairs show. The
        # reloaded page does not poll a finished scan, so this cannot loop.
        response["HX-Refresh"] = "true"
    return response


def _scan_for_edit(request: HttpRequest, pk: int) -> DuplicateScan:
    _require(request, Capability.CUSTOMERS_VIEW)
    scan = get_object_or_404(DuplicateScan, pk=pk)
    _require(request, Capability.CUSTOMERS_EDIT)
    return scan


def _progress(request: HttpRequest, scan: DuplicateScan, busy: str = "") -> HttpResponse:
    return render(
        request,
        "customers/duplicates/duplicate_list.html#progress",
        {
            "scan": scan,
            "can_edit": user_can(request.user, Capability.CUSTOMERS_EDIT),
            "busy": busy,
        },
    )


def _scan_answer(request: HttpRequest, scan: DuplicateScan, busy: str = "") -> HttpResponse:
    if request.htmx:
        return _progress(request, scan, busy)
    if busy:
        messages.warning(request, busy)
    return redirect(f"{_list_url()}?kind={scan.kind}")


def _scan_change(request: HttpRequest, pk: int, change) -> HttpResponse:
    """Cancel or retry a scan; a database locked by the scan's worker (SQLite) is
    answered with "try again in a moment", not an error."""
    scan = _scan_for_edit(request, pk)
    try:
        change(job=scan, actor=request.user)
    except jobs.JobBusy:
        return _scan_answer(request, scan, str(jobs.BUSY_MESSAGE))
    return _scan_answer(request, scan)


@login_required
@require_POST
def duplicate_scan_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Stop a scan before its next batch; the pairs found so far stay."""
    return _scan_change(request, pk, jobs.job_cancel)


@login_required
@require_POST
def duplicate_scan_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Go on with a failed or cancelled scan after its last committed batch."""
    return _scan_change(request, pk, jobs.job_retry)


# --- Merging -------------------------------------------------------------------------------


def _display(record, field) -> str:
    if field.name in queries.ORGANIZATION_LINKS[type(record)]:
        return queries.organization_text(record, field.name) or "—"
    value = getattr(record, field.name)
    display = getattr(record, f"get_{field.name}_display", None)
    if display is not None and field.choices:
        value = display()
    if value is None or value == "":
        return "—"
    return str(value)


def _hidden(user) -> set[str]:
    """Fields the user may not see (and so neither compare nor pick)."""
    return (
        set() if user_can(user, Capability.CUSTOMERS_PSYCHOGRAPHIC) else set(PSYCHOGRAPHIC_FIELDS)
    )


def _rows(survivor, victim, choices: dict[str, str], hidden: set[str]) -> list[dict]:
    """One row per field where the two differ: label, both values, the current pick."""
    rows = []
    for field in merge.mergeable_fields(type(survivor)):
        mine, theirs = field.value_from_object(survivor), field.value_from_object(victim)
        if mine == theirs or field.name in hidden:
            continue
        rows.append(
            {
                "name": field.name,
                "label": field.verbose_name,
                "survivor": _display(survivor, field),
                "victim": _display(victim, field),
                "choice": choices.get(field.name, merge.SURVIVOR),
            }
        )
    keys = sorted(set(survivor.custom or {}) | set(victim.custom or {}))
    for key in keys:
        mine, theirs = (survivor.custom or {}).get(key), (victim.custom or {}).get(key)
        if mine == theirs or theirs is None:
            continue
        name = f"custom.{key}"
        rows.append(
            {
                "name": name,
                "label": key,
                "survivor": "—" if mine in (None, "") else mine,
                "victim": theirs,
                "choice": choices.get(name, merge.SURVIVOR),
            }
        )
    return rows


def _merge_view(request: HttpRequest, *, model, get, uuid, other) -> HttpResponse:
    _require(request, Capability.CUSTOMERS_VIEW)
    survivor = get(user=request.user, uuid=uuid)
    victim = get(user=request.user, uuid=other)
    _require(request, Capability.CUSTOMERS_DELETE)
    if survivor.pk == victim.pk:
        raise Http404
    choices = merge.default_choices(survivor, victim)
    error, status = None, 200
    if request.method == "POST":
        picked = {
            row["name"]: request.POST.get(f"choice:{row['name']}", merge.SURVIVOR)
            for row in _rows(survivor, victim, choices, _hidden(request.user))
        }
        choices.update(picked)
        service = merge.person_merge if model is Person else merge.organization_merge
        try:
            service(
                survivor=survivor,
                victim=victim,
                actor=request.user,
                field_choices=picked,
                versions=(
                    _int(request.POST.get("survivor_version")),
                    _int(request.POST.get("victim_version")),
                ),
            )
        except services.EditConflict:
            error, status = (
                _(
                    "One of the two records was changed while you were choosing. "
                    "Check the values again and merge once more."
                ),
                409,
            )
            # Read again, with what the viewer may see of their organizations.
            survivor = get(user=request.user, uuid=uuid)
            victim = get(user=request.user, uuid=other)
        except ValidationError as exc:
            error, status = " ".join(exc.messages), 422
        else:
            messages.success(
                request, _("Merged: %(name)s now holds everything of both.") % {"name": survivor}
            )
            return redirect(survivor.get_absolute_url())
    return render(
        request,
        "customers/duplicates/merge_form.html",
        {
            "survivor": survivor,
            "victim": victim,
            "rows": _rows(survivor, victim, choices, _hidden(request.user)),
            "error": error,
            "kind": duplicates.kind_of(model),
        },
        status=status,
    )


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
@require_http_methods(["GET", "POST"])
def person_merge(request: HttpRequest, uuid, other) -> HttpResponse:
    return _merge_view(request, model=Person, get=queries.person_get, uuid=uuid, other=other)


@login_required
@require_http_methods(["GET", "POST"])
def organization_merge(request: HttpRequest, uuid, other) -> HttpResponse:
    return _merge_view(
        request, model=Organization, get=queries.organization_get, uuid=uuid, other=other
    )


@login_required
@require_GET
def merge_history(request: HttpRequest, kind: str, uuid) -> HttpResponse:
    """The merges a record survived, as a section of its page."""
    _require(request, Capability.CUSTOMERS_VIEW)
    if kind == DuplicateKind.PERSON:
        record = queries.person_get(user=request.user, uuid=uuid)
        merges = MergeRecord.objects.filter(person=record)
    elif kind == DuplicateKind.ORGANIZATION:
        record = queries.organization_get(user=request.user, uuid=uuid)
        merges = MergeRecord.objects.filter(organization=record)
    else:
        raise Http404
    merges = list(merges)
    for item in merges:
        item.facts = _snapshot_facts(
            type(record), item.victim_snapshot.get("fields", {}), _hidden(request.user)
        )
    return render(
        request,
        "customers/duplicates/merge_history.html#merges",
        {"record": record, "merges": merges},
    )


def _snapshot_facts(model, fields: dict, hidden: set[str]) -> list[tuple[str, object]]:
    """The merged record's own values with their labels (links to other records and
    empty values left out)."""
    facts = []
    for name, value in fields.items():
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if field.is_relation or name in hidden or name == "custom" or value in (None, "", [], {}):
            continue
        facts.append((field.verbose_name, value))
    return facts
