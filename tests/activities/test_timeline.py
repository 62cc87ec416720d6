"""The timeline query: what a person's and an organization's contact history
contains, what stays hidden, the filters, and keyset pages that neither repeat nor
skip an entry."""

import datetime as dt

import pytest
from django.utils import timezone

from kontor.activities.models import ActivityKind
from kontor.activities.queries.activities import timeline, timeline_page
from kontor.core.api.pagination import InvalidCursor
from kontor.customers.models import ContactRole
from tests.activities.factories import ActivityFactory
from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def at(hours: int):
    return NOW - dt.timedelta(hours=hours)


@pytest.fixture
def organization(owner):
    return owned_by(OrganizationFactory, owner, name="Muster GmbH")


@pytest.fixture
def person(owner, organization):
    return owned_by(PersonFactory, owner, last_name="Muster", organization=organization)


def subjects(rows) -> list[str]:
    return [a.subject for a in rows]


def test_person_timeline_includes_participations(owner, person):
    other = owned_by(PersonFactory, owner, last_name="Andere")
    ActivityFactory(person=person, subject="eigen", occurred_at=at(2))
    meeting = ActivityFactory(person=other, subject="dabei", occurred_at=at(1))
    meeting.external_participants.add(person)
    ActivityFactory(person=other, subject="fremd", occurred_at=at(0))
    assert subjects(timeline(user=owner, person=person)) == ["dabei", "eigen"]
    rows, cursor = timeline_page(user=owner, person=person)
    assert (subjects(rows), cursor) == (["dabei", "eigen"], None)


def test_participation_on_the_own_activity_is_listed_once(owner, person):
    activity = ActivityFactory(person=person, subject="einmal")
    activity.external_participants.add(person)
    assert subjects(timeline_page(user=owner, person=person)[0]) == ["einmal"]
    assert subjects(timeline(user=owner, person=person)) == ["einmal"]


def test_organization_timeline_includes_its_persons(owner, organization):
    linked = owned_by(PersonFactory, owner, last_name="Verknüpft")
    ContactRole.objects.create(person=linked, organization=organization)
    ActivityFactory(organization=organization, subject="Firma", occurred_at=at(3))
    ActivityFactory(person=linked, subject="Kontakt", occurred_at=at(2))
    ActivityFactory(person=owned_by(PersonFactory, owner), subject="fremd", occurred_at=at(1))
    rows, _ = timeline_page(user=owner, organization=organization)
    assert subjects(rows) == ["Kontakt", "Firma"]
    assert subjects(timeline(user=owner, organization=organization)) == ["Kontakt", "Firma"]


def test_private_activities_only_for_their_author(owner, teammate, person):
    ActivityFactory(person=person, author=owner, subject="privat", private=True, occurred_at=at(1))
    ActivityFactory(person=person, author=owner, subject="offen", occurred_at=at(2))
    assert subjects(timeline_page(user=owner, person=person)[0]) == ["privat", "offen"]
    assert subjects(timeline_page(user=teammate, person=person)[0]) == ["offen"]


def test_outsider_sees_nothing_of_the_customer(outsider, person):
    ActivityFactory(person=person, subject="x")
    assert timeline_page(user=outsider, person=person) == ([], None)
    assert list(timeline(user=outsider)) == []


def test_filters(owner, teammate, person):
    ActivityFactory(
        person=person, author=owner, kind=ActivityKind.CALL, subject="a", occurred_at=at(50)
    )
    ActivityFactory(
        person=person, author=teammate, kind=ActivityKind.VISIT, subject="b", occurred_at=at(30)
    )
    ActivityFactory(
        person=person, author=owner, kind=ActivityKind.VISIT, subject="c", occurred_at=at(10)
    )

    def page(**filters):
        return subjects(timeline_page(user=owner, person=person, **filters)[0])

    assert page(kinds=[ActivityKind.VISIT]) == ["c", "b"]
    assert page(author=teammate) == ["b"]
    assert page(since=at(40)) == ["c", "b"]
    assert page(until=at(30)) == ["a"]  # until is exclusive
    assert page(since=at(40), until=at(20), kinds=["visit"]) == ["b"]


@pytest.mark.parametrize("kind", ["person", "organization", None])
def test_keyset_pages_neither_repeat_nor_skip(owner, person, organization, kind):
    linked = owned_by(PersonFactory, owner)
    ContactRole.objects.create(person=linked, organization=organization)
    other = owned_by(PersonFactory, owner)
    expected = []
    for i in range(23):
        # Equal times in pairs: the id decides, as in the index.
        when = at(i // 2)
        if i % 3 == 0:
            activity = ActivityFactory(person=person, organization=organization, occurred_at=when)
        elif i % 3 == 1:
            activity = ActivityFactory(person=linked, occurred_at=when)
            if kind == "person":
                activity.external_participants.add(person)
        else:
            activity = ActivityFactory(person=other, occurred_at=when)
        expected.append(activity)
    subject = {"person": {"person": person}, "organization": {"organization": organization}}
    filters = subject.get(kind, {})
    wanted = list(timeline(user=owner, **filters))
    assert len(wanted) == {"person": 16, "organization": 16, None: 23}[kind]
    seen, cursor = [], None
    while True:
        rows, cursor = timeline_page(user=owner, **filters, cursor=cursor, limit=4)
        seen.extend(rows)
        if cursor is None:
            break
    assert [a.pk for a in seen] == [a.pk for a in wanted]


def test_a_made_up_cursor_is_refused(owner, person):
    with pytest.raises(InvalidCursor):
        timeline_page(user=owner, person=person, cursor="bm9uc2Vuc2U=")


def test_entries_carry_their_attachment_count(owner, person):
    from kontor.activities.services.attachments import attachment_add

    activity = ActivityFactory(person=person)
    attachment_add(actor=owner, activity=activity, name="a.pdf", content=b"%PDF")
    attachment_add(actor=owner, activity=activity, name="b.txt", content=b"hallo")
    (row,), _ = timeline_page(user=owner, person=person)
    assert row.attachment_count == 2
