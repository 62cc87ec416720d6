from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kontor.core import audit, customfields, sections
from kontor.core.access import user_can
from kontor.core.permissions import Capability
from kontor.customers import buying_center, contact_data, queries, services
from kontor.customers.forms import OrganizationForm, PersonForm
from kontor.customers.models import Organization
from kontor.customers.views import duplicates as duplicate_views


def _require(request: HttpRequest, capability: str) -> None:
    if not user_can(request.user, capability):
        raise PermissionDenied


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
            "can_see_psychographic": user_can(request.user, Capability.CUSTOMERS_PSYCHOGRAPHIC),
            "customer_sections": sections.customer_sections(),
            "registered_sections": sections.customer_section_keys(),
            "customer_actions": sections.customer_action_templates(),
            "record_kind": record._meta.model_name,  # "person" or "organization"
            "can_log": user_can(request.user, Capability.ACTIVITIES_EDIT),
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


# --- Sections of the 360° view: each a partial of the page, loaded on its own ----------
# Each costs the record's query plus one per list it shows, at any size of the customer.


def _custom_fields(request, record) -> dict:
    entity = customfields.entity_of(type(record))
    return {"custom_values": customfields.display_values(entity, record.custom)}


def _equipment(request, record) -> dict:
    kind = "organization" if isinstance(record, Organization) else "person"
    return {"equipment": list(queries.equipment_of(**{kind: record}))}


def _person_buying_center(request, person) -> dict:
    return {"contact_roles": list(queries.person_contact_roles(user=request.user, person=person))}


def _organization_buying_center(request, organization) -> dict:
    roles = list(queries.organization_contact_roles(user=request.user, organization=organization))
    return {"contact_roles": roles, "drawing": buying_center.drawing(roles)}


def _organization_hierarchy(request, organization) -> dict:
    # The parent comes with the organization (queries.with_organization_visibility).
    subsidiaries = list(
        queries.organization_subsidiaries(user=request.user, organization=organization)
    )
    return {"subsidiaries": subsidiaries}


PERSON_SECTIONS = {
    "buying_center": _person_buying_center,
    "equipment": _equipment,
    "custom_fields": _custom_fields,
}
ORGANIZATION_SECTIONS = {
    "buying_center": _organization_buying_center,
    "hierarchy": _organization_hierarchy,
    "equipment": _equipment,
    "custom_fields": _custom_fields,
}


def _section(request, record, sections, section, template):
    if section not in sections:
        raise Http404
    context = {
        "record": record,
        "can_edit": user_can(request.user, Capability.CUSTOMERS_EDIT),
        **sections[section](request, record),
    }
    response = render(request, f"{template}#{section}", context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
def person_section(request: HttpRequest, uuid: str, section: str) -> HttpResponse:
    _require(request, Capability.CUSTOMERS_VIEW)
    person = queries.person_get(user=request.user, uuid=uuid)
    return _section(request, person, PERSON_SECTIONS, section, "customers/person_detail.html")


@login_required
def organization_section(request: HttpRequest, uuid: str, section: str) -> HttpResponse:
    _require(request, Capability.CUSTOMERS_VIEW)
    organization = queries.organization_get(user=request.user, uuid=uuid)
    return _section(
        request,
        organization,
        ORGANIZATION_SECTIONS,
        section,
        "customers/organization_detail.html",
    )


def _display(record, name: str):
    field = record._meta.get_field(name)
    if name in queries.ORGANIZATION_LINKS[type(record)]:
        return queries.organization_text(record, name) or None
    if field.many_to_many:
        return ", ".join(str(t) for t in getattr(record, name).all())
    display = getattr(record, f"get_{name}_display", None)
    return display() if display else getattr(record, name)


def _their_values(form, current) -> list[tuple[str, object]]:
    """The other person's saved values, field by field, to show beside the form —
    only the fields the form shows (psychographic data stays hidden)."""
    return [
        (
            current._meta.get_field(name).verbose_name,
            contact_data.phone_display(getattr(current, name))
            if name in form.phone_fields
            else _display(current, name),
        )
        for name in form.model_field_names
    ]


def _edit(request, *, form_class, record, create, update):
    _require(request, Capability.CUSTOMERS_EDIT)
    initial = {"version": record.version} if record else {}
    form = form_class(request.POST or None, instance=record, initial=initial, user=request.user)
    conflict = None
    found = duplicate_views.found_on_create(request, form, record)  # "create anyway?"
    if request.method == "POST" and not found and form.is_valid():
        data = form.service_data()
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
            current = queries.with_organization_visibility(
                type(exc.current).objects.filter(pk=exc.current.pk), user=request.user
            ).get()
            conflict = _their_values(form, current)
            # Saving again means "keep mine": the form now carries their version.
            form.data = form.data.copy()
            form.data["version"] = exc.current.version
            form.add_error(None, str(exc))
        except ValidationError as exc:
            form.add_service_errors(exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc) or _("Your role does not allow this."))
    return render(
        request,
        "customers/record_form.html",
        {
            "form": form,
            "record": record,
            "conflict": conflict,
            "duplicates": found,
            "model_name": form._meta.model._meta.model_name,  # the heading of a new record
        },
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
