"""Incoming e-mail in the API: the review queue (list, file to a person, ignore),
a message, and marking it private. The same queries and services as the inbox
pages (kontor.mail.queries, kontor.mail.services.incoming)."""

from datetime import datetime
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field, StrictBool

from kontor.core.access import get_object_for_user, user_can
from kontor.core.api.auth import requires
from kontor.core.api.pagination import MAX_CURSOR_LENGTH, MAX_LIMIT, CursorPage, paginate
from kontor.core.api.schemas import InputSchema
from kontor.core.permissions import Capability
from kontor.customers.models import Person
from kontor.mail import queries
from kontor.mail.models import MailMessage
from kontor.mail.services import incoming

router = Router(tags=["e-mail"])

REVIEW_ORDER = ("-created_at", "-id")


class MailAttachmentOut(Schema):
    uuid: UUID
    filename: str
    content_type: str
    size: int


class MailMessageOut(Schema):
    uuid: UUID
    direction: str = Field(description="`in` or `out`.")
    status: str = Field(
        description="`filed`, `review`, `ignored` (or, going out, `queued`, `sent`, `failed`)."
    )
    mailbox: str | None = Field(description="The mailbox's name; null for forwarded mail.")
    message_id: str
    in_reply_to: str
    from_address: str
    from_name: str
    to: list[str]
    cc: list[str]
    subject: str
    sent_at: datetime | None
    size: int
    private: bool
    error: str = Field(description="Why the message waits for review, if it does.")
    activity: UUID | None = Field(description="The activity it is filed as.")
    person: UUID | None = Field(description="The person it is filed with.")
    created_at: datetime

    @staticmethod
    def resolve_mailbox(message: MailMessage) -> str | None:
        return message.mailbox.name if message.mailbox_id else None

    @staticmethod
    def resolve_to(message: MailMessage) -> list[str]:
        return list(message.to_addresses or [])

    @staticmethod
    def resolve_cc(message: MailMessage) -> list[str]:
        return list(message.cc_addresses or [])

    @staticmethod
    def resolve_activity(message: MailMessage) -> UUID | None:
        return message.activity.uuid if message.activity_id else None

    @staticmethod
    def resolve_person(message: MailMessage) -> UUID | None:
        if message.activity_id and message.activity.person_id:
            return message.activity.person.uuid
        return None


class MailMessageDetailOut(MailMessageOut):
    text_body: str
    html_body: str = Field(description="Sanitised on arrival; safe to show as it is.")
    attachments: list[MailAttachmentOut]

    @staticmethod
    def resolve_attachments(message: MailMessage) -> list:
        return queries.attachments_of(message)


class MailMessagePage(CursorPage):
    items: list[MailMessageOut]


class MailReviewParams(Schema):
    cursor: str | None = Field(
        None,
        max_length=MAX_CURSOR_LENGTH,
        description="`next_cursor` of the previous page; leave out for the first page.",
    )
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description="Rows per page (1 to 200).")


class MailFileIn(InputSchema):
    person: UUID = Field(description="The person to file the message with.")


class MailPrivateIn(InputSchema):
    private: StrictBool = Field(description="true: only you see the mail from now on.")


def _may_work_on_mail(user) -> bool:
    # As incoming.message_ignore: whoever files mail, or manages the mailboxes.
    return user_can(user, Capability.ACTIVITIES_EDIT) or user_can(user, Capability.MAIL_MANAGE)


def _require(request: HttpRequest, capability: str) -> None:
    if not user_can(request.auth, capability):
        raise PermissionDenied(_("Your role does not allow this."))


def _message(request: HttpRequest, uuid: UUID) -> MailMessage:
    return queries.message_get(user=request.auth, uuid=uuid)


@router.get("/mail/review", response=MailMessagePage, summary="Messages waiting for review")
def mail_review_list(request: HttpRequest, params: Query[MailReviewParams]):
    rows, next_cursor = paginate(
        queries.review_queue(request.auth).select_related("activity__person"),
        cursor=params.cursor,
        limit=params.limit,
        order=REVIEW_ORDER,
    )
    return {"items": rows, "next_cursor": next_cursor}


@router.post(
    "/mail/review/{uuid:uuid}/file",
    response=MailMessageOut,
    summary="File a waiting message with a person",
)
@requires(Capability.ACTIVITIES_EDIT)
def mail_review_file(request: HttpRequest, uuid: UUID, payload: MailFileIn):
    _require(request, Capability.ACTIVITIES_EDIT)
    message = _message(request, uuid)
    person = get_object_for_user(Person, request.auth, uuid=payload.person)
    incoming.message_file_to(actor=request.auth, message=message, person=person, via="api")
    return _message(request, uuid)


@router.post(
    "/mail/review/{uuid:uuid}/ignore", response=MailMessageOut, summary="Ignore a waiting message"
)
@requires(_may_work_on_mail)
def mail_review_ignore(request: HttpRequest, uuid: UUID):
    message = _message(request, uuid)
    incoming.message_ignore(actor=request.auth, message=message, via="api")
    return _message(request, uuid)


@router.get("/mail/messages/{uuid:uuid}", response=MailMessageDetailOut, summary="An e-mail")
def mail_message_get(request: HttpRequest, uuid: UUID):
    return _message(request, uuid)


@router.post(
    "/mail/messages/{uuid:uuid}/private",
    response=MailMessageOut,
    summary="Make an e-mail private (only you see it) or public again",
)
@requires(Capability.ACTIVITIES_EDIT)
def mail_message_private(request: HttpRequest, uuid: UUID, payload: MailPrivateIn):
    _require(request, Capability.ACTIVITIES_EDIT)
    message = _message(request, uuid)
    incoming.mail_mark_private(
        actor=request.auth, message=message, private=payload.private, via="api"
    )
    return _message(request, uuid)
