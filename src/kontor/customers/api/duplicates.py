"""Duplicates in the API: the 409 a create answers with when the record probably exists
already, the review list of pairs, "not a duplicate", and merging."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from kontor.core.access import user_can
from kontor.core.api.auth import requires
from kontor.core.api.errors import problem
from kontor.core.api.pagination import CursorPage, paginate
from kontor.core.api.schemas import InputSchema
from kontor.core.permissions import Capability
from kontor.customers import duplicates, merge, queries, services
from kontor.customers.models import PSYCHOGRAPHIC_FIELDS, DuplicatePair, DuplicateStatus

router = Router()

CHECK_LIMIT = 10
ALLOW_DUPLICATES_HELP = (
    "Create even if likely duplicates exist. Without it, a likely duplicate answers 409 "
    "with `candidates`: their `uuid`, `name`, `score` (0–100) and `reasons`."
)


def _require(request: HttpRequest, capability: str) -> None:
    if not user_can(request.auth, capability):
        raise PermissionDenied(_("Your role does not allow this."))


class Reason(Schema):
    code: str
    text: str


def _reasons(codes: list[str]) -> list[dict]:
    return [{"code": code, "text": duplicates.reason_label(code)} for code in codes]


class CandidateOut(Schema):
    uuid: UUID
    name: str
    score: int = Field(..., description="0–100: how likely the two are the same.")
    reasons: list[Reason]


# The 409 a create or a merge can answer, documented as the shared Problem (its extra
# members — ``candidates``, ``current_version`` — are described with the parameters).
CONFLICT_409 = {"responses": {"409": {"$ref": "#/components/responses/Problem409"}}}


def create_check(request: HttpRequest, model, data: dict, allow_duplicates: bool):
    """For the create endpoints: a 409 problem listing the likely duplicates among
    the records the caller may see, or None to go ahead."""
    if allow_duplicates:
        return None
    found = duplicates.candidates_for_data(
        user=request.auth, model=model, data=data, limit=CHECK_LIMIT
    )
    if not found:
        return None
    return problem(
        request,
        409,
        detail=_(
            "This record probably exists already. Use one of the candidates, or send "
            "the request again with ?allow_duplicates=true."
        ),
        candidates=[
            {
                "uuid": str(c.record.uuid),
                "name": str(c.record),
                "score": c.score,
                "reasons": _reasons(c.reasons),
            }
            for c in found
        ],
    )


# --- Review list ---------------------------------------------------------------------------


class RecordRef(Schema):
    uuid: UUID
    name: str


class PairOut(Schema):
    id: int
    kind: str
    a: RecordRef
    b: RecordRef
    score: int
    reasons: list[Reason]


class PairPage(CursorPage):
    items: list[PairOut]


class PairParams(Schema):
    kind: Literal["person", "organization"] = "person"
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(50, ge=1, le=200)


def _pair_out(pair: DuplicatePair) -> dict:
    return {
        "id": pair.pk,
        "kind": pair.kind,
        "a": {"uuid": pair.a.uuid, "name": str(pair.a)},
        "b": {"uuid": pair.b.uuid, "name": str(pair.b)},
        "score": pair.score,
        "reasons": _reasons(pair.reasons),
    }


@router.get("/duplicates", response=PairPage, summary="Open duplicate pairs")
def duplicate_list(request: HttpRequest, params: Query[PairParams]):
    """Pairs found by the background scan whose two records the caller may both see,
    most alike first."""
    _require(request, Capability.CUSTOMERS_VIEW)
    rows, next_cursor = paginate(
        duplicates.pairs_visible_to(request.auth, params.kind),
        cursor=params.cursor,
        limit=params.limit,
        order=("-score", "id"),
    )
    return {
        "items": [_pair_out(p) for p in duplicates.with_records(rows)],
        "next_cursor": next_cursor,
    }


@router.post("/duplicates/{pair_id}/dismiss", response={204: None}, summary="Not a duplicate")
@requires(Capability.CUSTOMERS_VIEW, Capability.CUSTOMERS_EDIT)
def duplicate_dismiss(request: HttpRequest, pair_id: int):
    _require(request, Capability.CUSTOMERS_VIEW)
    pair = DuplicatePair.objects.filter(pk=pair_id).first()
    if (
        pair is None
        or not duplicates.pairs_visible_to(request.auth, pair.kind).filter(pk=pair_id).exists()
    ):
        raise Http404
    _require(request, Capability.CUSTOMERS_EDIT)
    DuplicatePair.objects.filter(pk=pair_id, status=DuplicateStatus.OPEN).update(
        status=DuplicateStatus.DISMISSED, resolved_by=request.auth
    )
    return Status(204, None)


# --- Merge ---------------------------------------------------------------------------------


class MergeIn(InputSchema):
    victim: UUID = Field(..., description="The record merged into this one, then deleted.")
    survivor_version: int | None = Field(None, description="This record's `version` you read.")
    victim_version: int | None = Field(None, description="The victim's `version` you read.")
    field_choices: dict[str, Literal["survivor", "victim"]] = Field(
        default_factory=dict,
        description=(
            "Per field (or `custom.<key>`) whose value to keep. Fields left out keep "
            "this record's value, unless only the victim has one."
        ),
    )


class MergeOut(Schema):
    survivor: UUID
    victim: UUID
    version: int
    choices: dict
    merged_at: datetime


def _merge(request: HttpRequest, *, uuid: UUID, payload: MergeIn, get, service):
    _require(request, Capability.CUSTOMERS_VIEW)
    survivor = get(user=request.auth, uuid=uuid)
    victim = get(user=request.auth, uuid=payload.victim)
    _require(request, Capability.CUSTOMERS_DELETE)
    try:
        record = service(
            survivor=survivor,
            victim=victim,
            actor=request.auth,
            field_choices=payload.field_choices,
            versions=(payload.survivor_version, payload.victim_version),
            via="api",
        )
    except services.EditConflict as exc:
        return problem(
            request,
            409,
            detail=_(
                "One of the two records changed in the meantime. Read both again and "
                "repeat the merge."
            ),
            current_version=exc.current.version,
            record=str(exc.current.uuid),
        )
    kept = record.person or record.organization
    return {
        "survivor": kept.uuid,
        "victim": record.victim_uuid,
        "version": kept.version,
        "choices": {
            name: value
            for name, value in record.choices.items()
            if name not in PSYCHOGRAPHIC_FIELDS
            or user_can(request.auth, Capability.CUSTOMERS_PSYCHOGRAPHIC)
        },
        "merged_at": record.created_at,
    }


@router.post(
    "/persons/{uuid:uuid}/merge",
    response=MergeOut,
    openapi_extra=CONFLICT_409,
    summary="Merge another person into this one",
)
@requires(Capability.CUSTOMERS_VIEW, Capability.CUSTOMERS_DELETE)
def person_merge(request: HttpRequest, uuid: UUID, payload: MergeIn):
    return _merge(
        request, uuid=uuid, payload=payload, get=queries.person_get, service=merge.person_merge
    )


@router.post(
    "/organizations/{uuid:uuid}/merge",
    response=MergeOut,
    openapi_extra=CONFLICT_409,
    summary="Merge another organization into this one",
)
@requires(Capability.CUSTOMERS_VIEW, Capability.CUSTOMERS_DELETE)
def organization_merge(request: HttpRequest, uuid: UUID, payload: MergeIn):
    return _merge(
        request,
        uuid=uuid,
        payload=payload,
        get=queries.organization_get,
        service=merge.organization_merge,
    )
