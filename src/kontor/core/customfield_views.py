"""Administration → Custom fields: list per entity, create, edit, reorder, archive and
restore. Every page needs the admin.users capability; the writes are in
kontor.core.customfield_services."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from kontor.core import audit, customfield_services
from kontor.core.access import user_can
from kontor.core.customfields import ENTITIES
from kontor.core.forms import add_service_errors
from kontor.core.models import CustomField
from kontor.core.permissions import Capability


def _require_admin(request: HttpRequest) -> None:
    if not user_can(request.user, Capability.ADMIN_USERS):
        raise PermissionDenied


def _entity(request: HttpRequest) -> str:
    entity = request.GET.get("entity") or request.POST.get("entity") or next(iter(ENTITIES))
    if entity not in ENTITIES:
        raise Http404
    return entity


def _list_url(entity: str) -> str:
    return f"{reverse('core:customfield_list')}?entity={entity}"


class CustomFieldForm(forms.ModelForm):
    """Validates input only; the service checks keys, types and choices again."""

    choices = forms.CharField(
        label=gettext_lazy("choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("For choice and multiple choice: one choice per line."),
    )

    class Meta:
        model = CustomField
        fields = ["key", "label", "label_en", "field_type", "required", "help_text", "choices"]
        help_texts = {
            "key": gettext_lazy(
                "Stored under this name and used by the API; cannot change later. "
                "Lower-case letters, digits and underscores."
            )
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["key"].disabled = True
            self.initial["choices"] = "\n".join(self.instance.choices or [])

    def clean_choices(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["choices"].splitlines() if line.strip()]

    def data_for_service(self) -> dict:
        names = [n for n in self._meta.fields if not (n == "key" and self.instance.pk)]
        return {name: self.cleaned_data[name] for name in names}


def _status(form) -> int:
    return 422 if form.is_bound and form.errors else 200


@login_required
def customfield_list(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    entity = _entity(request)
    fields = list(CustomField.objects.filter(entity=entity))
    return render(
        request,
        "core/customfield_list.html",
        {
            "entity": entity,
            "entities": ENTITIES.items(),
            "active": [f for f in fields if f.archived_at is None],
            "archived": [f for f in fields if f.archived_at is not None],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def customfield_create(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    entity = _entity(request)
    form = CustomFieldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            field = customfield_services.custom_field_create(
                actor=request.user, data={"entity": entity, **form.data_for_service()}
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Field %(label)s created.") % {"label": field.label})
            return redirect(_list_url(entity))
    return render(
        request,
        "core/customfield_form.html",
        {"form": form, "field": None, "entity": entity, "entity_name": ENTITIES[entity]},
        status=_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def customfield_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    field = get_object_or_404(CustomField, pk=pk)
    # The form validates a copy, so the page header keeps the saved values.
    form = CustomFieldForm(request.POST or None, instance=get_object_or_404(CustomField, pk=pk))
    if request.method == "POST" and form.is_valid():
        try:
            customfield_services.custom_field_update(
                actor=request.user, field=field, data=form.data_for_service()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect(_list_url(field.entity))
    return render(
        request,
        "core/customfield_form.html",
        {
            "form": form,
            "field": field,
            "entity": field.entity,
            "entity_name": ENTITIES.get(field.entity, field.entity),
            "values_count": customfield_services.values_count(field),
            "audit_entries": audit.entries_for(field)[:50],
        },
        status=_status(form),
    )


@login_required
@require_POST
def customfield_archive(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    field = get_object_or_404(CustomField, pk=pk)
    customfield_services.custom_field_archive(actor=request.user, field=field)
    messages.success(
        request,
        _("%(label)s is archived. Its values are kept; restore the field to show them again.")
        % {"label": field.label},
    )
    return redirect(_list_url(field.entity))


@login_required
@require_POST
def customfield_restore(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    field = get_object_or_404(CustomField, pk=pk)
    customfield_services.custom_field_restore(actor=request.user, field=field)
    messages.success(request, _("%(label)s is restored.") % {"label": field.label})
    return redirect(_list_url(field.entity))


@login_required
@require_POST
def customfield_move(request: HttpRequest, pk: int) -> HttpResponse:
    _require_admin(request)
    field = get_object_or_404(CustomField, pk=pk)
    offset = -1 if request.POST.get("direction") == "up" else 1
    customfield_services.custom_field_move(actor=request.user, field=field, offset=offset)
    return redirect(_list_url(field.entity))
