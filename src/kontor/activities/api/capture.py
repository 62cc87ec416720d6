"""Trade-fair capture in the API: one visitor — person and organization found or made,
the trade-fair activity and its follow-up task — in one call, with the same service
as the capture page (kontor.activities.services.capture)."""

from uuid import UUID

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import Field, StrictBool

from kontor.activities.services.capture import (
    DEFAULT_FOLLOW_UP_DAYS,
    MAX_FOLLOW_UP_DAYS,
    CaptureData,
    capture_record,
    resolve_choice,
)
from kontor.core.access import user_can
from kontor.core.api.auth import requires
from kontor.core.api.schemas import InputSchema
from kontor.core.permissions import Capability
from kontor.customers.models import Organization, Person

router = Router(tags=["trade-fair capture"])


class CaptureIn(InputSchema):
    event: str = Field(max_length=250, description="The trade fair or event.")
    person: UUID | None = Field(
        None, description="A known person to use; leave out to create a new one."
    )
    organization: UUID | None = Field(
        None,
        description="A known organization to use; leave out to create one from `company` "
        "(or none without a company).",
    )
    salutation: str = Field("", description="mr, ms, diverse or empty.")
    first_name: str = Field("", max_length=100)
    last_name: str = Field(
        "", max_length=100, description="Required for a new person unless `email` is given."
    )
    company: str = Field("", max_length=200)
    job_title: str = Field("", max_length=120)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    mobile: str = Field("", max_length=40)
    interests: str = Field("", max_length=2_000)
    notes: str = Field("", max_length=20_000)
    consent: StrictBool = Field(False, description="The visitor agrees to be contacted.")
    follow_up: str = Field(
        "", max_length=200, description="Title of the follow-up task; a default if empty."
    )
    follow_up_days: int = Field(
        DEFAULT_FOLLOW_UP_DAYS, ge=0, le=MAX_FOLLOW_UP_DAYS, description="Due in this many days."
    )
    assignee: str | None = Field(
        None, max_length=150, description="Username of the task's assignee; default: you."
    )


class CaptureOut(Schema):
    person: UUID
    organization: UUID | None
    activity: UUID
    task: UUID
    created_person: bool
    created_organization: bool


def _assignee(username: str | None):
    if not username:
        return None
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise ValidationError({"assignee": [_("No active user with this username.")]})
    return user


@router.post(
    "/trade-fair-captures",
    response={201: CaptureOut},
    summary="Record a trade-fair visitor",
    description="Creates or reuses the person and organization (a known person's filled "
    "fields are never overwritten), logs the trade-fair conversation and creates the "
    "follow-up task, all in one transaction.",
)
@requires(Capability.ACTIVITIES_EDIT)
def capture_create(request: HttpRequest, payload: CaptureIn):
    user = request.auth
    if not user_can(user, Capability.ACTIVITIES_EDIT):
        raise PermissionDenied(_("Your role does not allow this."))
    data = CaptureData(
        event=payload.event,
        salutation=payload.salutation,
        first_name=payload.first_name,
        last_name=payload.last_name,
        company=payload.company,
        job_title=payload.job_title,
        email=payload.email,
        phone=payload.phone,
        mobile=payload.mobile,
        interests=payload.interests,
        notes=payload.notes,
        consent=payload.consent,
        follow_up=payload.follow_up,
        follow_up_days=payload.follow_up_days,
        assignee=_assignee(payload.assignee),
        person=resolve_choice(Person, user=user, value=payload.person, field="person"),
        organization=resolve_choice(
            Organization, user=user, value=payload.organization, field="organization"
        ),
    )
    result = capture_record(actor=user, data=data, via="api")
    return Status(
        201,
        {
            "person": result.person.uuid,
            "organization": result.organization.uuid if result.organization else None,
            "activity": result.activity.uuid,
            "task": result.task.uuid,
            "created_person": result.created_person,
            "created_organization": result.created_organization,
        },
    )
