"""Reads on activities: the contact history (timeline) of a person or an organization,
one activity, and who may change it.

The timeline of a person is every activity logged on them plus those they took part
in (external participants). The timeline of an organization is every activity
logged on it (activity_create links an activity on a person to their primary
organization) plus those on the persons linked to it through a contact role.

Why pages are built in two steps (``timeline_page``): the natural query is one
``WHERE person = P OR id IN (participations of P) ORDER BY occurred_at DESC, id DESC
LIMIT n``. PostgreSQL cannot read an OR with a subquery in index order, so it
collects and sorts every matching row — a customer with 10,000 activities sorts
10,000 rows for each page of 25. Instead each branch of the OR is asked on its own
for its first page after the cursor (the same keyset ``paginate``), which walks the
branch's index (person, -occurred_at, -id) or (organization, -occurred_at, -id) and
stops early; the page is then the keyset page of the whole timeline restricted to
those few candidate ids (a primary-key lookup). It is exact: the first ``limit``
rows of the union are among the first ``limit`` of each branch, and the timeline
goes on if the candidates or any branch do. Cost: one small query per branch plus
the page itself — simpler than a UNION of ordered, limited subqueries, which SQLite
cannot express, and with the same plan on PostgreSQL."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from kontor.activities.models import Activity
from kontor.core.access import user_can
from kontor.core.api.pagination import encode_cursor, paginate
from kontor.core.permissions import Capability
from kontor.customers.models import ContactRole, Organization, Person

TIMELINE_ORDER = ("-occurred_at", "-id")

Participation = Activity.external_participants.through


def _filtered(
    queryset: QuerySet,
    *,
    kinds=(),
    author=None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet:
    if kinds:
        queryset = queryset.filter(kind__in=list(kinds))
    if author is not None:
        queryset = queryset.filter(author=author)
    if since is not None:
        queryset = queryset.filter(occurred_at__gte=since)
    if until is not None:
        queryset = queryset.filter(occurred_at__lt=until)
    return queryset


def _branches(*, person: Person | None, organization: Organization | None) -> list[Q]:
    """The parts of the timeline's OR, each one index-friendly on its own."""
    if person is not None:
        return [
            Q(person=person),
            Q(pk__in=Participation.objects.filter(person=person).values("activity_id")),
        ]
    if organization is not None:
        return [
            Q(organization=organization),
            Q(person__in=ContactRole.objects.filter(organization=organization).values("person_id")),
        ]
    return []


def timeline(
    *,
    user,
    person: Person | None = None,
    organization: Organization | None = None,
    kinds=(),
    author=None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Activity]:
    """The activities ``user`` may see on ``person``'s or ``organization``'s timeline
    (or all they may see, given neither), newest first, with what a list shows.
    ``since`` is inclusive, ``until`` exclusive. For pages use ``timeline_page``:
    it answers the same rows without sorting the whole timeline."""
    queryset = _filtered(
        Activity.objects.visible_to(user), kinds=kinds, author=author, since=since, until=until
    )
    branches = _branches(person=person, organization=organization)
    if branches:
        condition = Q()
        for branch in branches:
            condition |= branch
        queryset = queryset.filter(condition)
    return with_list_data(queryset).order_by(*TIMELINE_ORDER)


def with_list_data(queryset: QuerySet[Activity]) -> QuerySet[Activity]:
    """What a timeline entry shows, loaded with the page (no query per row)."""
    return queryset.select_related("author", "person", "organization").annotate(
        attachment_count=Count("attachments", distinct=True)
    )


def timeline_page(
    *,
    user,
    person: Person | None = None,
    organization: Organization | None = None,
    kinds=(),
    author=None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = 25,
) -> tuple[list[Activity], str | None]:
    """One keyset page of ``timeline(...)`` and the cursor of the next page (None on
    the last). ``person`` / ``organization`` must be one the user may see (looked up
    with get_object_for_user). An invalid cursor raises InvalidCursor. See the module docstring for
    why the page is found branch by branch."""
    filters = {"kinds": kinds, "author": author, "since": since, "until": until}
    queryset = timeline(user=user, person=person, organization=organization, **filters)
    branches = _branches(person=person, organization=organization)
    if not branches:
        return paginate(queryset, cursor=cursor, limit=limit, order=TIMELINE_ORDER)
    # The branches look for candidates without the customer-visibility check: with
    # it, PostgreSQL hashes every person and organization the user may see for each
    # branch (hundreds of milliseconds at a million customers). Only the final page
    # query checks visibility, on its few candidate rows. The caller has looked the
    # customer up for the user (get_object_for_user), so only rows naming another
    # customer the user may not see (a person of another team at this organization,
    # another team's organization of this person) drop out there; the page may then
    # be shorter than ``limit`` while the cursor still goes on.
    not_private = Q(private=False) | Q(author_id=user.pk)
    base = _filtered(Activity.objects.filter(not_private), **filters).only("pk", "occurred_at")
    candidates: set[int] = set()
    more = False
    for branch in branches:
        rows, next_cursor = paginate(
            base.filter(branch), cursor=cursor, limit=limit, order=TIMELINE_ORDER
        )
        candidates.update(row.pk for row in rows)
        more = more or next_cursor is not None
    rows, next_cursor = paginate(
        queryset.filter(pk__in=sorted(candidates)), cursor=cursor, limit=limit, order=TIMELINE_ORDER
    )
    if next_cursor is None and more and rows:
        # A branch has more than a page of its own: the timeline goes on.
        last = rows[-1]
        next_cursor = encode_cursor([last.occurred_at, last.pk])
    return rows, next_cursor


def activity_get(*, user, uuid) -> Activity:
    """The activity if ``user`` may see it (every customer it names, and private ones
    only for their author: ActivityQuerySet.visible_to); 404 otherwise."""
    queryset = (
        Activity.objects.visible_to(user)
        .select_related("author", "person", "organization")
        .prefetch_related(
            "internal_participants",
            external_participants_visible_to(user, order=("last_name",)),
            "attachments",
        )
    )
    try:
        return queryset.get(uuid=uuid)
    except (Activity.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise Http404 from exc  # a malformed uuid is simply "not found"


def external_participants_visible_to(user, *, order=("last_name", "first_name", "id")) -> Prefetch:
    """The external participants to load with activities: those ``user`` may see.
    Taking part does not make a person one of the activity's customers (its person
    and organization decide who sees it), so one of another team is left out."""
    return Prefetch(
        "external_participants", queryset=Person.objects.visible_to(user).order_by(*order)
    )


def can_log(user) -> bool:
    return user_can(user, Capability.ACTIVITIES_EDIT)


def subject_of(activity: Activity) -> Person | Organization:
    return activity.person if activity.person_id else activity.organization
