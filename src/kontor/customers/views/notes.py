"""The notes section of a customer's 360° page: an htmx partial that lists the notes
and lets the user add one, edit their own and delete. Without htmx the writes
redirect back to the customer's page.

The section loads itself from ``customers:person_notes`` /
``customers:organization_notes``; every write answers with the section again."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from kontor.core.access import get_object_for_user, user_can
from kontor.core.forms import add_service_errors
from kontor.core.permissions import Capability
from kontor.customers import notes
from kontor.customers.models import Note, Organization, Person
from kontor.customers.models.notes import NOTE_MAX_LENGTH

TEMPLATE = "customers/_notes.html#notes"


class NoteForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Note"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Markdown: **bold**, *italic*, lists, links, > quotes."),
    )


def _require(request: HttpRequest, capability: str) -> None:
    if not user_can(request.user, capability):
        raise PermissionDenied


def _url(customer: Person | Organization) -> str:
    kind = "person" if isinstance(customer, Person) else "organization"
    return reverse(f"customers:{kind}_notes", args=[customer.uuid])


def _section(
    request: HttpRequest,
    customer: Person | Organization,
    *,
    form: NoteForm | None = None,
    editing: Note | None = None,
    edit_form: NoteForm | None = None,
) -> HttpResponse:
    user = request.user
    items = [
        {
            "note": note,
            "can_edit": notes.can_edit(user, note),
            "can_delete": notes.can_delete(user, note),
        }
        for note in notes.notes_of(customer=customer)
    ]
    context = {
        "customer": customer,
        "notes_url": _url(customer),
        "notes": items,
        "can_write": user_can(user, Capability.CUSTOMERS_EDIT),
        "form": form or NoteForm(auto_id="id_note_%s"),
        "editing": editing.pk if editing else None,
        "edit_form": edit_form,
    }
    return render(request, TEMPLATE, context)


def _back(request: HttpRequest, customer, form: NoteForm | None = None) -> HttpResponse:
    """Without htmx: back to the customer's page, errors as messages."""
    if form is not None and form.errors:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect(customer.get_absolute_url())


def _notes(request: HttpRequest, customer) -> HttpResponse:
    if request.method == "GET":
        return _section(request, customer)
    _require(request, Capability.CUSTOMERS_EDIT)
    form = NoteForm(request.POST, auto_id="id_note_%s")
    if form.is_valid():
        try:
            notes.note_create(actor=request.user, customer=customer, text=form.cleaned_data["text"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if not request.htmx:
                messages.success(request, _("Note added."))
                return _back(request, customer)
            return _section(request, customer)
    if not request.htmx:
        return _back(request, customer, form)
    # htmx swaps only 2xx answers: the section with the form's errors comes back as 200.
    return _section(request, customer, form=form)


@login_required
@require_http_methods(["GET", "POST"])
def person_notes(request: HttpRequest, uuid) -> HttpResponse:
    _require(request, Capability.CUSTOMERS_VIEW)
    return _notes(request, get_object_for_user(Person, request.user, uuid=uuid))


@login_required
@require_http_methods(["GET", "POST"])
def organization_notes(request: HttpRequest, uuid) -> HttpResponse:
    _require(request, Capability.CUSTOMERS_VIEW)
    return _notes(request, get_object_for_user(Organization, request.user, uuid=uuid))


@login_required
@require_http_methods(["GET", "POST"])
def note_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Capability.CUSTOMERS_VIEW)
    note = notes.note_get(user=request.user, pk=pk)
    customer = notes.customer_of(note)
    if not notes.can_edit(request.user, note):
        raise PermissionDenied
    if request.method == "GET":
        form = NoteForm(initial={"text": note.text}, auto_id=f"id_note_{note.pk}_%s")
        return _section(request, customer, editing=note, edit_form=form)
    form = NoteForm(request.POST, auto_id=f"id_note_{note.pk}_%s")
    if form.is_valid():
        try:
            notes.note_update(actor=request.user, note=note, text=form.cleaned_data["text"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if not request.htmx:
                messages.success(request, _("Changes saved."))
                return _back(request, customer)
            return _section(request, customer)
    if not request.htmx:
        return _back(request, customer, form)
    return _section(request, customer, editing=note, edit_form=form)


@login_required
@require_POST
def note_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Capability.CUSTOMERS_VIEW)
    note = notes.note_get(user=request.user, pk=pk)
    customer = notes.customer_of(note)
    notes.note_delete(actor=request.user, note=note)
    if not request.htmx:
        messages.success(request, _("Note deleted."))
        return _back(request, customer)
    return _section(request, customer)
