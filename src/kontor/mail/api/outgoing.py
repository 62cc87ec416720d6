"""E-mail out in the API: templates (list, create, read, change, archive) and sending
to a person (answered 202: the message is queued; its status is read at
/emails/{uuid}). The same services as the compose and template pages."""

from datetime import datetime
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field, StrictBool

from kontor.core.access import get_object_for_user, user_can
from kontor.core.api.auth import requires
from kontor.core.api.errors import problem
from kontor.core.api.pagination import MAX_CURSOR_LENGTH, MAX_LIMIT, CursorPage, paginate
from kontor.core.api.schemas import InputSchema
from kontor.core.permissions import Capability
from kontor.customers.models import Person
from kontor.mail.models import EmailTemplate, MailMessage, MailStatus
from kontor.mail.services import outgoing, templates

router = Router(tags=["e-mail"])

TEMPLATE_ORDER = ("name", "id")
CONFLICT_409 = {"responses": {"409": {"$ref": "#/components/responses/Problem409"}}}
MERGE_HELP = (
    "Merge fields such as `{{ person.first_name }}`, `{{ person.letter_salutation }}`, "
    "`{{ custom.<key> }}`, `{{ notes.latest }}`, `{{ sender.full_name }}`; filters like "
    "`|default:'…'`, `|upper`, `|date:'d.m.Y'`. No `{% tags %}`."
)


class EmailTemplateIn(InputSchema):
    name: str = Field(max_length=templates.NAME_MAX_LENGTH)
    subject: str = Field(max_length=templates.SUBJECT_MAX_LENGTH, description=MERGE_HELP)
    body: str = Field(max_length=templates.BODY_MAX_LENGTH, description=MERGE_HELP)
    language: str = Field("", description="`de`, `en` or empty (the person's language).")
    shared: StrictBool = Field(
        False, description="For everyone (needs mail.manage); else personal."
    )


class EmailTemplatePatch(InputSchema):
    name: str | None = Field(None, max_length=templates.NAME_MAX_LENGTH)
    subject: str | None = Field(None, max_length=templates.SUBJECT_MAX_LENGTH)
    body: str | None = Field(None, max_length=templates.BODY_MAX_LENGTH)
    language: str | None = None
    version: int = Field(
        ..., description="Required: the version you read; 409 if the template changed since."
    )


class EmailTemplateOut(Schema):
    uuid: UUID
    name: str
    subject: str
    body: str
    language: str
    shared: bool = Field(description="Shared with everyone (no owner), else personal.")
    archived: bool
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_shared(template: EmailTemplate) -> bool:
        return template.owner_id is None


class EmailTemplatePage(CursorPage):
    items: list[EmailTemplateOut]


class EmailTemplateListParams(Schema):
    archived: bool = Field(False, description="List the archived templates instead.")
    cursor: str | None = Field(
        None,
        max_length=MAX_CURSOR_LENGTH,
        description="`next_cursor` of the previous page; leave out for the first page.",
    )
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description="Rows per page (1 to 200).")


class EmailIn(InputSchema):
    person: UUID = Field(description="The person to write to (uses their e-mail address).")
    template: UUID | None = Field(
        None, description="A template; `subject`/`body` given as well override its own."
    )
    subject: str | None = Field(None, max_length=outgoing.SUBJECT_MAX_LENGTH)
    body: str | None = Field(None, max_length=outgoing.BODY_MAX_LENGTH, description=MERGE_HELP)


class EmailOut(Schema):
    uuid: UUID
    status: str = Field(
        description="queued, sent or failed.",
        json_schema_extra={"enum": [MailStatus.QUEUED, MailStatus.SENT, MailStatus.FAILED]},
    )
    person: UUID | None
    activity: UUID | None = Field(description="The history entry (activity) of this e-mail.")
    to: list[str]
    subject: str
    text: str = Field(description="The text as sent, merge fields filled in.")
    attempts: int
    error: str
    created_at: datetime
    sent_at: datetime | None = Field(description="When the SMTP server took it.")

    @staticmethod
    def resolve_person(message: MailMessage) -> UUID | None:
        activity = message.activity
        return activity.person.uuid if activity and activity.person_id else None

    @staticmethod
    def resolve_activity(message: MailMessage) -> UUID | None:
        return message.activity.uuid if message.activity_id else None

    @staticmethod
    def resolve_to(message: MailMessage) -> list[str]:
        return list(message.to_addresses)

    @staticmethod
    def resolve_text(message: MailMessage) -> str:
        return message.text_body

    @staticmethod
    def resolve_sent_at(message: MailMessage) -> datetime | None:
        return message.sent_at if message.status == MailStatus.SENT else None


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied(_("Your role does not allow this."))


def _conflict(request: HttpRequest, exc: templates.EditConflict):
    return problem(
        request,
        409,
        detail=_(
            "Someone else changed this template in the meantime. Read it again "
            "(now version %(version)s) and repeat your change."
        )
        % {"version": exc.current.version},
        current_version=exc.current.version,
    )


# --- Templates ------------------------------------------------------------------------------


@router.get("/email-templates", response=EmailTemplatePage, summary="List e-mail templates")
def email_template_list(request: HttpRequest, params: Query[EmailTemplateListParams]):
    """Shared templates and the caller's personal ones."""
    _require(templates.may_use_templates(request.auth))
    rows, next_cursor = paginate(
        templates.templates_visible_to(request.auth).filter(archived=params.archived),
        cursor=params.cursor,
        limit=params.limit,
        order=TEMPLATE_ORDER,
    )
    return {"items": rows, "next_cursor": next_cursor}


@router.post(
    "/email-templates", response={201: EmailTemplateOut}, summary="Create an e-mail template"
)
@requires(templates.may_use_templates)
def email_template_create(request: HttpRequest, payload: EmailTemplateIn):
    template = templates.template_create(
        actor=request.auth,
        name=payload.name,
        subject=payload.subject,
        body=payload.body,
        language=payload.language,
        shared=payload.shared,
        via="api",
    )
    return Status(201, template)


@router.get("/email-templates/{uuid:uuid}", response=EmailTemplateOut, summary="An e-mail template")
def email_template_get(request: HttpRequest, uuid: UUID):
    _require(templates.may_use_templates(request.auth))
    return templates.template_get(user=request.auth, uuid=uuid)


@router.patch(
    "/email-templates/{uuid:uuid}",
    response=EmailTemplateOut,
    summary="Change an e-mail template",
    openapi_extra=CONFLICT_409,
)
@requires(templates.may_use_templates)
def email_template_update(request: HttpRequest, uuid: UUID, payload: EmailTemplatePatch):
    _require(templates.may_use_templates(request.auth))
    template = templates.template_get(user=request.auth, uuid=uuid)
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    version = data.pop("version", None)
    try:
        return templates.template_update(
            actor=request.auth, template=template, data=data, version=version, via="api"
        )
    except templates.EditConflict as exc:
        return _conflict(request, exc)


@router.delete(
    "/email-templates/{uuid:uuid}", response={204: None}, summary="Archive an e-mail template"
)
@requires(templates.may_use_templates)
def email_template_delete(request: HttpRequest, uuid: UUID):
    """Archives the template: it is no longer offered; e-mails sent with it keep their text."""
    _require(templates.may_use_templates(request.auth))
    template = templates.template_get(user=request.auth, uuid=uuid)
    templates.template_archive(actor=request.auth, template=template, via="api")
    return Status(204, None)


# --- Sending --------------------------------------------------------------------------------


@router.post("/emails", response={202: EmailOut}, summary="Write an e-mail to a person")
@requires(Capability.ACTIVITIES_EDIT)
def email_send(request: HttpRequest, payload: EmailIn):
    """Fills in the merge fields for the person, logs the e-mail in their history and
    queues it for the SMTP server: 202 with the message; poll `GET /emails/{uuid}`."""
    _require(user_can(request.auth, Capability.ACTIVITIES_EDIT))
    person = get_object_for_user(Person, request.auth, uuid=payload.person)
    template = None
    if payload.template is not None:
        template = templates.template_get(user=request.auth, uuid=payload.template)
        if template.archived:
            raise ValidationError({"template": [_("This template is archived.")]})
    subject = payload.subject if payload.subject is not None else (template and template.subject)
    body = payload.body if payload.body is not None else (template and template.body)
    missing = {
        name: [_("Give a template or this field.")]
        for name, value in (("subject", subject), ("body", body))
        if not value
    }
    if missing:
        raise ValidationError(missing)
    message = outgoing.mail_send(
        actor=request.auth,
        person=person,
        subject=subject,
        body=body,
        template=template,
        via="api",
    )
    message = outgoing.outgoing_get(user=request.auth, uuid=message.uuid)
    return Status(202, message)


@router.get("/emails/{uuid:uuid}", response=EmailOut, summary="An e-mail sent from Kontor")
def email_get(request: HttpRequest, uuid: UUID):
    return outgoing.outgoing_get(user=request.auth, uuid=uuid)
