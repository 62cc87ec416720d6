from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kontor.core import audit
from kontor.core.access import user_can
from kontor.core.api.pagination import paginate
from kontor.core.permissions import Capability
from kontor.customers import queries, services
from kontor.customers.forms import OrganizationForm, PersonForm

PAGE_SIZE = 50


def _require(request: HttpRequest, capability: str) -> None:
    if not user_can(request.user, capability):
        raise PermissionDenied


def _list(request, *, rows, order, template):
    page, next_cursor = paginate(
        rows, cursor=request.GET.get("cursor") or None, limit=PAGE_SIZE, order=order
    )
    context = {"rows": page, "next_cursor": next_cursor, "q": request.GET.get("q", "")}
    if request.htmx and request.GET.get("cursor"):
        response = render(request, f"{template}#rows", context)
    elif request.htmx:
        response = render(request, f"{template}#table", context)
    else:
        response = render(request, template, context)
    # The same URL answers a page or a fragment: caches must tell them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
def person_list(request: HttpRequest) -> HttpResponse:
    _require(request, Capability.CUSTOMERS_VIEW)
    rows = queries.person_list(user=request.user, q=request.GET.get("q", "").strip())
    return _list(
        request,
        rows=rows,
        order=("last_name", "first_name", "id"),
        template="customers/person_list.html",
    )


@login_required
def organization_list(request: HttpRequest) -> HttpResponse:
    _require(request, Capability.CUSTOMERS_VIEW)
    rows = queries.organization_list(user=request.user, q=request.GET.get("q", "").strip())
    return _list(
        request, rows=rows, order=("name", "id"), template="customers/organization_list.html"
    )


def _detail(request, record, template):
    can_audit = user_can(request.user, Capability.AUDIT_VIEW)
    return render(
        request,
        template,
        {
            "record": record,
            "audit_entries": audit.entries_for(record)[:50] if can_audit else None,
            "can_edit": user_can(request.user, Capability.CUSTOMERS_EDIT),
            "can_delete": user_can(request.user, Capability.CUSTOMERS_DELETE),
        },
    )


@login_required
def person_detail(request: HttpRequest, uuid: str) -> HttpResponse:
    _require(request, Capability.CUSTOMERS_VIEW)
    person = queries.person_get(user=request.user, uuid=uuid)
    return _detail(request, person, "customers/person_detail.html")


@login_required
def organization_detail(request: HttpRequest, uuid: str) -> HttpResponse:
    _require(request, Capability.CUSTOMERS_VIEW)
    organization = queries.organization_get(user=request.user, uuid=uuid)
    return _detail(request, organization, "customers/organization_detail.html")


def _their_values(form, current) -> list[tuple[str, object]]:
    """The other person's saved values, field by field, to show beside the form."""
    values = []
    for name in form._meta.fields:
        field = current._meta.get_field(name)
        display = getattr(current, f"get_{name}_display", None)
        value = display() if display else getattr(current, name)
        values.append((field.verbose_name, value))
    return values


def _edit(request, *, form_class, record, create, update, form_kwargs=None):
    _require(request, Capability.CUSTOMERS_EDIT)
    form_kwargs = form_kwargs or {}
    initial = {"version": record.version} if record else {}
    form = form_class(request.POST or None, instance=record, initial=initial, **form_kwargs)
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form._meta.fields}
        try:
            if record is None:
                saved = create(actor=request.user, data=data)
                messages.success(request, _("Saved."))
            else:
                saved = update(
                    record, actor=request.user, data=data, version=form.cleaned_data.get("version")
                )
                messages.success(request, _("Changes saved."))
            return redirect(saved.get_absolute_url())
        except services.EditConflict as exc:
            conflict = _their_values(form, exc.current)
            # Saving again means "keep mine": the form now carries their version.
            form.data = form.data.copy()
            form.data["version"] = exc.current.version
            form.add_error(None, str(exc))
        except ValidationError as exc:
            form.add_error(None, exc)
    return render(
        request,
        "customers/record_form.html",
        {"form": form, "record": record, "conflict": conflict},
        status=409 if conflict else (422 if request.method == "POST" else 200),
    )


@login_required
@require_http_methods(["GET", "POST"])
def person_edit(request: HttpRequest, uuid: str | None = None) -> HttpResponse:
    person = queries.person_get(user=request.user, uuid=uuid) if uuid else None
    return _edit(
        request,
        form_class=PersonForm,
        record=person,
        create=services.person_create,
        update=lambda r, **kw: services.person_update(person=r, **kw),
        form_kwargs={"user": request.user},
    )


@login_required
@require_http_methods(["GET", "POST"])
def organization_edit(request: HttpRequest, uuid: str | None = None) -> HttpResponse:
    organization = queries.organization_get(user=request.user, uuid=uuid) if uuid else None
    return _edit(
        request,
        form_class=OrganizationForm,
        record=organization,
        create=services.organization_create,
        update=lambda r, **kw: services.organization_update(organization=r, **kw),
    )


@login_required
@require_POST
def person_delete(request: HttpRequest, uuid: str) -> HttpResponse:
    person = queries.person_get(user=request.user, uuid=uuid)
    _require(request, Capability.CUSTOMERS_DELETE)
    services.person_delete(person=person, actor=request.user)
    messages.success(request, _("Deleted."))
    return redirect("customers:person_list")


@login_required
@require_POST
def organization_delete(request: HttpRequest, uuid: str) -> HttpResponse:
    organization = queries.organization_get(user=request.user, uuid=uuid)
    _require(request, Capability.CUSTOMERS_DELETE)
    services.organization_delete(organization=organization, actor=request.user)
    messages.success(request, _("Deleted."))
    return redirect("customers:organization_list")
