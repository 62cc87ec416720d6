"""Person–organization links (contact roles) with their buying-center roles, edited
from either side: the person's page or the organization's."""

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
from kontor.customers.forms import ContactRoleForm


def _require_edit(request: HttpRequest) -> None:
    if not user_can(request.user, Capability.CUSTOMERS_EDIT):
        raise PermissionDenied


def _edit(request: HttpRequest, *, side: str, uuid, pk: int | None) -> HttpResponse:
    """``side`` is the page the user comes from; the form chooses the other side."""
    record = queries.customer_get(user=request.user, kind=side, uuid=uuid)
    _require_edit(request)
    link = queries.contact_role_get(user=request.user, pk=pk, **{side: record}) if pk else None
    choose = "organization" if side == "person" else "person"
    form = ContactRoleForm(
        request.POST or None, user=request.user, choose=choose, contact_role=link
    )
    if request.method == "POST" and form.is_valid():
        other = getattr(link, choose) if link else form.cleaned_data[choose]
        pair = {side: record, choose: other}
        try:
            services.contact_role_set(
                **pair,
                actor=request.user,
                job_title=form.cleaned_data["job_title"],
                department=form.cleaned_data["department"],
                buying_roles=form.cleaned_data["buying_roles"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect(record.get_absolute_url())
    return render(
        request,
        "customers/contact_role_form.html",
        {"form": form, "record": record, "link": link},
        status=422 if request.method == "POST" else 200,
    )


def _delete(request: HttpRequest, *, side: str, uuid, pk: int) -> HttpResponse:
    record = queries.customer_get(user=request.user, kind=side, uuid=uuid)
    _require_edit(request)
    link = queries.contact_role_get(user=request.user, pk=pk, **{side: record})
    services.contact_role_remove(contact_role=link, actor=request.user)
    messages.success(request, _("Link removed."))
    return redirect(record.get_absolute_url())


@login_required
@require_http_methods(["GET", "POST"])
def person_contact_role_edit(request: HttpRequest, uuid, pk: int | None = None) -> HttpResponse:
    return _edit(request, side="person", uuid=uuid, pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def organization_contact_role_edit(
    request: HttpRequest, uuid, pk: int | None = None
) -> HttpResponse:
    return _edit(request, side="organization", uuid=uuid, pk=pk)


@login_required
@require_POST
def person_contact_role_delete(request: HttpRequest, uuid, pk: int) -> HttpResponse:
    return _delete(request, side="person", uuid=uuid, pk=pk)


@login_required
@require_POST
def organization_contact_role_delete(request: HttpRequest, uuid, pk: int) -> HttpResponse:
    return _delete(request, side="organization", uuid=uuid, pk=pk)
