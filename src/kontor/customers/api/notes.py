"""Free notes on a customer in the API: list and add under the person or
organization, change and delete by the note's id. The same services and rules as
the notes section of the 360° page (kontor.customers.notes)."""

from datetime import datetime
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kontor.core.access import get_object_for_user, user_can
from kontor.core.api.auth import requires
from kontor.core.api.pagination import MAX_CURSOR_LENGTH, MAX_LIMIT, CursorPage, paginate
from kontor.core.api.schemas import InputSchema
from kontor.core.permissions import Capability
from kontor.customers import notes
from kontor.customers.models import Note, Organization, Person

router = Router(tags=["notes"])

NOTE_ORDER = ("-created_at", "-id")


class NoteIn(InputSchema):
    text: str = Field(
        description="Markdown, at most 100,000 characters. Raw HTML is shown as text."
    )


class NoteOut(Schema):
    id: int
    text: str = Field(description="The Markdown as written.")
    html: str = Field(description="Rendered and sanitised on save; safe to show as it is.")
    author: str | None = Field(description="Username; null once the user is gone.")
    person: UUID | None
    organization: UUID | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_author(note: Note) -> str | None:
        return note.author.get_username() if note.author else None

    @staticmethod
    def resolve_person(note: Note) -> UUID | None:
        return note.person.uuid if note.person_id else None

    @staticmethod
    def resolve_organization(note: Note) -> UUID | None:
        return note.organization.uuid if note.organization_id else None


class NotePage(CursorPage):
    items: list[NoteOut]


class NoteListParams(Schema):
    cursor: str | None = Field(
        None,
        max_length=MAX_CURSOR_LENGTH,
        description="`next_cursor` of the previous page; leave out for the first page.",
    )
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description="Rows per page (1 to 200).")


def _require(request: HttpRequest, capability: str) -> None:
    if not user_can(request.auth, capability):
        raise PermissionDenied(_("Your role does not allow this."))


def _list(request: HttpRequest, customer, params: NoteListParams):
    rows, next_cursor = paginate(
        notes.notes_of(customer=customer).select_related("person", "organization"),
        cursor=params.cursor,
        limit=params.limit,
        order=NOTE_ORDER,
    )
    return {"items": rows, "next_cursor": next_cursor}


def _create(request: HttpRequest, customer, payload: NoteIn):
    _require(request, Capability.CUSTOMERS_EDIT)
    note = notes.note_create(actor=request.auth, customer=customer, text=payload.text, via="api")
    return Status(201, note)


@router.get("/persons/{uuid:uuid}/notes", response=NotePage, summary="A person's notes")
def person_notes(request: HttpRequest, uuid: UUID, params: Query[NoteListParams]):
    _require(request, Capability.CUSTOMERS_VIEW)
    return _list(request, get_object_for_user(Person, request.auth, uuid=uuid), params)


@router.post("/persons/{uuid:uuid}/notes", response={201: NoteOut}, summary="Add a note")
@requires(Capability.CUSTOMERS_VIEW, Capability.CUSTOMERS_EDIT)
def person_note_create(request: HttpRequest, uuid: UUID, payload: NoteIn):
    _require(request, Capability.CUSTOMERS_VIEW)
    return _create(request, get_object_for_user(Person, request.auth, uuid=uuid), payload)


@router.get(
    "/organizations/{uuid:uuid}/notes", response=NotePage, summary="An organization's notes"
)
def organization_notes(request: HttpRequest, uuid: UUID, params: Query[NoteListParams]):
    _require(request, Capability.CUSTOMERS_VIEW)
    return _list(request, get_object_for_user(Organization, request.auth, uuid=uuid), params)


@router.post(
    "/organizations/{uuid:uuid}/notes",
    response={201: NoteOut},
    summary="Add a note to an organization",
)
@requires(Capability.CUSTOMERS_VIEW, Capability.CUSTOMERS_EDIT)
def organization_note_create(request: HttpRequest, uuid: UUID, payload: NoteIn):
    _require(request, Capability.CUSTOMERS_VIEW)
    return _create(request, get_object_for_user(Organization, request.auth, uuid=uuid), payload)


@router.patch("/notes/{note_id}", response=NoteOut, summary="Change one's own note")
@requires(Capability.CUSTOMERS_VIEW, Capability.CUSTOMERS_EDIT)
def note_update(request: HttpRequest, note_id: int, payload: NoteIn):
    _require(request, Capability.CUSTOMERS_VIEW)
    note = notes.note_get(user=request.auth, pk=note_id)
    return notes.note_update(actor=request.auth, note=note, text=payload.text, via="api")


@router.delete("/notes/{note_id}", response={204: None}, summary="Delete a note")
@requires(Capability.CUSTOMERS_VIEW, Capability.CUSTOMERS_EDIT)
def note_delete(request: HttpRequest, note_id: int):
    _require(request, Capability.CUSTOMERS_VIEW)
    note = notes.note_get(user=request.auth, pk=note_id)
    notes.note_delete(actor=request.auth, note=note, via="api")
    return Status(204, None)
