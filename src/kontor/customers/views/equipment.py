"""Equipment installed at a customer, edited on the customer's page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kontor.core.access import user_can
from kontor.core.permissions import Capability
from kontor.customers import queries, services
from kontor.customers.forms import EquipmentForm


def _customer(request, side: str, uuid):
    if not user_can(request.user, Capability.CUSTOMERS_VIEW):
        raise PermissionDenied
    record = queries.customer_get(user=request.user, kind=side, uuid=uuid)
    if not user_can(request.user, Capability.CUSTOMERS_EDIT):
        raise PermissionDenied
    return record


def _edit(request: HttpRequest, *, side: str, uuid, pk: int | None) -> HttpResponse:
    record = _customer(request, side, uuid)
    item = queries.equipment_get(pk=pk, **{side: record}) if pk else None
    form = EquipmentForm(request.POST or None, instance=item)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form._meta.fields}
        try:
            if item is None:
                services.equipment_create(actor=request.user, data=data, **{side: record})
            else:
                services.equipment_update(equipment=item, actor=request.user, data=data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(record.get_absolute_url())
    return render(
        request,
        "customers/equipment_form.html",
        {"form": form, "record": record, "item": item},
        status=422 if request.method == "POST" else 200,
    )


def _delete(request: HttpRequest, *, side: str, uuid, pk: int) -> HttpResponse:
    record = _customer(request, side, uuid)
    item = queries.equipment_get(pk=pk, **{side: record})
    services.equipment_delete(equipment=item, actor=request.user)
    messages.success(request, _("Deleted."))
    return redirect(record.get_absolute_url())


@login_required
@require_http_methods(["GET", "POST"])
def person_equipment_edit(request: HttpRequest, uuid, pk: int | None = None) -> HttpResponse:
    return _edit(request, side="person", uuid=uuid, pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def organization_equipment_edit(request: HttpRequest, uuid, pk: int | None = None) -> HttpResponse:
    return _edit(request, side="organization", uuid=uuid, pk=pk)


@login_required
@require_POST
def person_equipment_delete(request: HttpRequest, uuid, pk: int) -> HttpResponse:
    return _delete(request, side="person", uuid=uuid, pk=pk)


@login_required
@require_POST
def organization_equipment_delete(request: HttpRequest, uuid, pk: int) -> HttpResponse:
    return _delete(request, side="organization", uuid=uuid, pk=pk)
