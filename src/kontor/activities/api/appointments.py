"""Appointments in the API: list (by time range, organizer, attendee, customer,
status), create, read, change (PATCH with the `version` read; 409 if it changed),
cancel and write the visit report. The same services and rules as the calendar
pages (kontor.activities.services.appointments).

Times: send ISO 8601 with an offset (`2027-03-29T10:00:00+02:00`). A time without
one is read in `time_zone` (or the user's time zone); a time in a DST gap is
refused, an ambiguous one means its first occurrence. All-day appointments come
back from midnight of the first day to midnight after the last (end exclusive)."""

from datetime import datetime
from uuid import UUID

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field, StrictBool

from kontor.activities.models import ActivityKind, Appointment, AppointmentStatus
from kontor.activities.queries import appointments as queries
from kontor.activities.services import appointments as services
from kontor.core.access import get_object_for_user, user_can
from kontor.core.api.auth import requires
from kontor.core.api.errors import problem
from kontor.core.api.pagination import MAX_CURSOR_LENGTH, MAX_LIMIT, CursorPage, paginate
from kontor.core.api.schemas import InputSchema, IsoDateTime
from kontor.core.permissions import Capability
from kontor.customers.models import Organization, Person

router = Router(tags=["appointments"])

ORDER = ("starts_at", "id")


class AppointmentOut(Schema):
    uuid: UUID
    title: str
    location: str
    description: str
    starts_at: datetime
    ends_at: datetime = Field(description="For all-day appointments: midnight after the last day.")
    all_day: bool
    status: str = Field(description="planned, held or cancelled.")
    owner: str | None = Field(description="The organizer's username.")
    attendees: list[str] = Field(description="Usernames.")
    external_attendees: list[UUID] = Field(description="Persons.")
    person: UUID | None
    organization: UUID | None
    reminder_minutes: int | None
    report: UUID | None = Field(description="The visit report (an activity), once written.")
    sequence: int
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_owner(a: Appointment) -> str | None:
        return a.owner.get_username() if a.owner_id else None

    @staticmethod
    def resolve_attendees(a: Appointment) -> list[str]:
        return [u.get_username() for u in a.attendees.all()]

    @staticmethod
    def resolve_external_attendees(a: Appointment) -> list[UUID]:
        return [p.uuid for p in a.external_attendees.all()]

    @staticmethod
    def resolve_person(a: Appointment) -> UUID | None:
        return a.person.uuid if a.person_id else None

    @staticmethod
    def resolve_organization(a: Appointment) -> UUID | None:
        return a.organization.uuid if a.organization_id else None

    @staticmethod
    def resolve_report(a: Appointment) -> UUID | None:
        return a.report.uuid if a.report_id else None


class AppointmentPage(CursorPage):
    items: list[AppointmentOut]


class AppointmentListParams(Schema):
    start: IsoDateTime | None = Field(None, description="Only appointments ending after this.")
    end: IsoDateTime | None = Field(None, description="Only appointments starting before this.")
    owner: str | None = Field(None, max_length=150, description="Organizer's username.")
    attendee: str | None = Field(None, max_length=150, description="An attendee's username.")
    person: UUID | None = None
    organization: UUID | None = None
    status: AppointmentStatus | None = None
    cursor: str | None = Field(None, max_length=MAX_CURSOR_LENGTH)
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description="Rows per page (1 to 200).")


class AppointmentIn(InputSchema):
    title: str
    starts_at: IsoDateTime
    ends_at: IsoDateTime = Field(description="For all-day appointments: (a time on) the last day.")
    all_day: StrictBool = False
    location: str = ""
    description: str = ""
    attendees: list[str] = Field([], description="Usernames of active users.")
    external_attendees: list[UUID] = Field([], description="Person uuids.")
    person: UUID | None = None
    organization: UUID | None = None
    reminder_minutes: int | None = None
    time_zone: str | None = Field(None, max_length=64, description="For times without offset.")
    send_invitations: StrictBool = False


class AppointmentPatch(InputSchema):
    version: int = Field(
        ..., description="Required: the `version` you read; 409 if the appointment changed since."
    )
    title: str | None = None
    starts_at: IsoDateTime | None = None
    ends_at: IsoDateTime | None = None
    all_day: StrictBool | None = None
    location: str | None = None
    description: str | None = None
    attendees: list[str] | None = None
    external_attendees: list[UUID] | None = None
    person: UUID | None = None
    organization: UUID | None = None
    reminder_minutes: int | None = None
    time_zone: str | None = Field(None, max_length=64)
    send_invitations: StrictBool = False


class AppointmentCancelIn(InputSchema):
    reason: str = ""
    send_invitations: StrictBool = False


class ReportIn(InputSchema):
    kind: str = Field(ActivityKind.VISIT, description="visit, meeting or call.")
    subject: str = Field("", description="Defaults to the appointment's title.")
    text: str = ""
    outcome: str = ""


class ReportOut(Schema):
    uuid: UUID
    kind: str
    subject: str
    occurred_at: datetime
    duration_minutes: int | None


def _require(request: HttpRequest, capability: str) -> None:
    if not user_can(request.auth, capability):
        raise PermissionDenied(_("Your role does not allow this."))


def _users(names: list[str]) -> list:
    found = {u.get_username(): u for u in get_user_model().objects.filter(username__in=names)}
    unknown = [n for n in names if n not in found]
    if unknown:
        raise ValidationError(
            {"attendees": [_("Unknown user: %(names)s.") % {"names": ", ".join(unknown)}]}
        )
    return [found[n] for n in dict.fromkeys(names)]


def _persons(request: HttpRequest, uuids: list[UUID]) -> list[Person]:
    found = {p.uuid: p for p in Person.objects.visible_to(request.auth).filter(uuid__in=uuids)}
    unknown = [str(u) for u in uuids if u not in found]
    if unknown:
        raise ValidationError(
            {"external_attendees": [_("Unknown person: %(ids)s.") % {"ids": ", ".join(unknown)}]}
        )
    return [found[u] for u in dict.fromkeys(uuids)]


def _customer(request: HttpRequest, model, uuid: UUID | None):
    return get_object_for_user(model, request.auth, uuid=uuid) if uuid else None


def _one(request: HttpRequest, uuid: UUID) -> Appointment:
    """The appointment with what the answer shows loaded; 404 if not visible."""
    appointment = queries.appointments_visible(user=request.auth).filter(uuid=uuid).first()
    if appointment is None:
        raise Http404
    return appointment


@router.get("/appointments", response=AppointmentPage, summary="Appointments")
def appointment_list(request: HttpRequest, params: Query[AppointmentListParams]):
    rows = queries.appointments_visible(user=request.auth)
    if params.start or params.end:
        if params.start and params.end and params.end < params.start:
            raise ValidationError({"end": [_("The end is before the start.")]})
        if params.start:
            rows = rows.filter(ends_at__gte=params.start)
        if params.end:
            rows = rows.filter(starts_at__lt=params.end)
    if params.owner:
        rows = rows.filter(owner__username=params.owner)
    if params.attendee:
        attending = Appointment.attendees.through.objects.filter(
            user__username=params.attendee
        ).values("appointment_id")
        rows = rows.filter(pk__in=attending)
    if params.person:
        rows = rows.filter(person__uuid=params.person)
    if params.organization:
        rows = rows.filter(organization__uuid=params.organization)
    if params.status:
        rows = rows.filter(status=params.status)
    items, next_cursor = paginate(rows, cursor=params.cursor, limit=params.limit, order=ORDER)
    return {"items": items, "next_cursor": next_cursor}


@router.post("/appointments", response={201: AppointmentOut}, summary="Plan an appointment")
@requires(Capability.ACTIVITIES_EDIT)
def appointment_create(request: HttpRequest, payload: AppointmentIn):
    _require(request, Capability.ACTIVITIES_EDIT)
    appointment = services.appointment_create(
        actor=request.auth,
        title=payload.title,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        all_day=payload.all_day,
        location=payload.location,
        description=payload.description,
        attendees=_users(payload.attendees),
        external_attendees=_persons(request, payload.external_attendees),
        person=_customer(request, Person, payload.person),
        organization=_customer(request, Organization, payload.organization),
        reminder_minutes=payload.reminder_minutes,
        time_zone=payload.time_zone,
        send_invitations=payload.send_invitations,
        via="api",
    )
    return Status(201, _one(request, appointment.uuid))


@router.get("/appointments/{uuid:uuid}", response=AppointmentOut, summary="An appointment")
def appointment_get(request: HttpRequest, uuid: UUID):
    return _one(request, uuid)


@router.patch("/appointments/{uuid:uuid}", response=AppointmentOut, summary="Change an appointment")
@requires(Capability.ACTIVITIES_EDIT)
def appointment_update(request: HttpRequest, uuid: UUID, payload: AppointmentPatch):
    _require(request, Capability.ACTIVITIES_EDIT)
    appointment = _one(request, uuid)
    given = payload.model_dump(exclude_unset=True)
    version = given.pop("version", None)
    time_zone = given.pop("time_zone", None)
    send = given.pop("send_invitations", False)
    if "attendees" in given:
        given["attendees"] = _users(given["attendees"] or [])
    if "external_attendees" in given:
        given["external_attendees"] = _persons(request, given["external_attendees"] or [])
    if "person" in given:
        given["person"] = _customer(request, Person, given["person"])
    if "organization" in given:
        given["organization"] = _customer(request, Organization, given["organization"])
    for name in ("title", "location", "description", "all_day", "starts_at", "ends_at"):
        if name in given and given[name] is None:
            raise ValidationError({name: [_("This field cannot be null.")]})
    try:
        services.appointment_update(
            actor=request.auth,
            appointment=appointment,
            data=given,
            version=version,
            time_zone=time_zone,
            send_invitations=send,
            via="api",
        )
    except services.AppointmentConflict as exc:
        return problem(
            request,
            409,
            detail=_(
                "Someone else changed this appointment in the meantime. Read it again "
                "(now version %(version)s) and repeat your change."
            )
            % {"version": exc.current.version},
            current_version=exc.current.version,
        )
    return _one(request, uuid)


@router.post(
    "/appointments/{uuid:uuid}/cancel", response=AppointmentOut, summary="Cancel an appointment"
)
@requires(Capability.ACTIVITIES_EDIT)
def appointment_cancel(request: HttpRequest, uuid: UUID, payload: AppointmentCancelIn):
    _require(request, Capability.ACTIVITIES_EDIT)
    services.appointment_cancel(
        actor=request.auth,
        appointment=_one(request, uuid),
        reason=payload.reason,
        send_invitations=payload.send_invitations,
        via="api",
    )
    return _one(request, uuid)


@router.post(
    "/appointments/{uuid:uuid}/report",
    response={201: ReportOut},
    summary="Write the visit report",
)
@requires(Capability.ACTIVITIES_EDIT)
def appointment_report(request: HttpRequest, uuid: UUID, payload: ReportIn):
    _require(request, Capability.ACTIVITIES_EDIT)
    activity = services.appointment_report(
        actor=request.auth,
        appointment=_one(request, uuid),
        kind=payload.kind,
        subject=payload.subject,
        text=payload.text,
        outcome=payload.outcome,
        via="api",
    )
    return Status(201, activity)
