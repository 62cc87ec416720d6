"""The global search in the API: the same ``core.search.search`` as the search box."""

from uuid import UUID

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from kontor.core import search
from kontor.core.api.errors import problem

router = Router(tags=["search"])

_KIND = "(" + "|".join(search.KINDS) + ")?"
_KINDS_PATTERN = rf"^\s*{_KIND}\s*(,\s*{_KIND}\s*)*$"


class SearchParams(Schema):
    q: str = Field("", description="The words to find; every word must match (as a prefix).")
    kinds: str = Field(
        "",
        description="Comma-separated kinds to search (person, organization); all if empty.",
        # Documented only: the view answers an unknown kind with a translated 422.
        json_schema_extra={"pattern": _KINDS_PATTERN},
    )
    limit: int = Field(search.DEFAULT_LIMIT, ge=1, le=search.MAX_LIMIT, description="Per kind.")


class SearchHitOut(Schema):
    kind: str
    uuid: UUID
    title: str
    subtitle: str
    phonetic: bool = Field(description="Found by the sound of a word only (a typo?).")


class SearchGroupOut(Schema):
    kind: str
    label: str
    hits: list[SearchHitOut]
    more: bool = Field(description="More hits than the limit.")


class SearchOut(Schema):
    query: str
    groups: list[SearchGroupOut]


@router.get(
    "/search",
    response={200: SearchOut},
    summary="Search persons and organizations",
)
def search_records(request: HttpRequest, params: Query[SearchParams]):
    kinds = [k.strip() for k in params.kinds.split(",") if k.strip()] or None
    unknown = [k for k in kinds or [] if k not in search.KINDS]
    if unknown:
        message = _("Unknown kind: %(kinds)s. Known: %(known)s.") % {
            "kinds": ", ".join(unknown),
            "known": ", ".join(search.KINDS),
        }
        return problem(
            request,
            422,
            detail=_("Some fields are not valid."),
            errors=[{"field": "kinds", "message": message}],
        )
    results = search.search(user=request.auth, q=params.q, kinds=kinds, limit=params.limit)
    return SearchOut(
        query=results.query,
        groups=[
            SearchGroupOut(
                kind=g.kind,
                label=str(g.label),
                more=g.more,
                hits=[
                    SearchHitOut(
                        kind=h.kind,
                        uuid=h.uuid,
                        title=h.title,
                        subtitle=h.subtitle,
                        phonetic=h.phonetic,
                    )
                    for h in g.hits
                ],
            )
            for g in results.groups
        ],
    )
