"""Logging, changing and deleting activities: the services' checks (nothing written
on invalid input or for someone who may not), the 360° section (timeline, filters,
"Log a call"), the full "Log activity" page and the activity's own page."""

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from kontor.activities.models import Activity, ActivityKind, Direction
from kontor.activities.services import activities as services
from kontor.core.models import AuditAction, AuditEntry
from tests.activities.factories import ActivityFactory
from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by

pytestmark = pytest.mark.django_db


@pytest.fixture
def organization(owner):
    return owned_by(OrganizationFactory, owner, name="Muster GmbH")


@pytest.fixture
def person(owner, organization):
    return owned_by(PersonFactory, owner, last_name="Muster", organization=organization)


def state():
    """Everything an activity action could change."""
    return (
        list(Activity.objects.order_by("pk").values()),
        AuditEntry.objects.count(),
    )


# --- Services ------------------------------------------------------------------------------


def test_create_links_the_persons_organization_and_is_audited(owner, person, organization):
    activity = services.activity_create(
        actor=owner,
        kind=ActivityKind.CALL,
        subject="  Angebot besprochen ",
        person=person,
        direction=Direction.OUTGOING,
        duration_minutes=12,
    )
    activity.refresh_from_db()
    assert (activity.subject, activity.person, activity.organization, activity.author) == (
        "Angebot besprochen",
        person,
        organization,
        owner,
    )
    entry = AuditEntry.objects.get(action=AuditAction.CREATE, object_id=str(activity.pk))
    assert entry.changes["subject"] == [None, "Angebot besprochen"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"subject": "   "}, "subject"),
        ({"subject": "a\x00b"}, "subject"),
        ({"text": "x" * 100_001}, "text"),
        ({"kind": "fax"}, "kind"),
        ({"direction": "sideways"}, "direction"),
        ({"duration_minutes": 7 * 24 * 60 + 1}, "duration_minutes"),
        ({"person": None}, "person"),
    ],
)
def test_invalid_input_is_a_field_error_and_writes_nothing(owner, person, changes, field):
    before = state()
    arguments = {"actor": owner, "kind": ActivityKind.CALL, "subject": "Anruf", "person": person}
    with pytest.raises(ValidationError) as caught:
        services.activity_create(**{**arguments, **changes})
    assert list(caught.value.message_dict) == [field]
    assert state() == before


def test_readonly_cannot_log(readonly, person):
    before = state()
    with pytest.raises(PermissionDenied):
        services.activity_create(actor=readonly, kind="call", subject="x", person=person)
    assert state() == before


def test_outsider_gets_404_on_a_customer_they_cannot_see(outsider, person):
    before = state()
    with pytest.raises(Http404):
        services.activity_create(actor=outsider, kind="call", subject="x", person=person)
    assert state() == before


def test_external_participant_the_actor_cannot_see_is_404(owner, person, outsider):
    hidden = owned_by(PersonFactory, outsider)
    before = state()
    with pytest.raises(Http404):
        services.activity_create(
            actor=owner,
            kind="meeting",
            subject="x",
            person=person,
            external_participants=[hidden],
        )
    assert state() == before


def test_update_with_an_old_version_is_a_conflict(owner, person):
    activity = ActivityFactory(person=person, author=owner)
    services.activity_update(actor=owner, activity=activity, data={"subject": "Neu"}, version=1)
    before = state()
    with pytest.raises(services.EditConflict) as caught:
        services.activity_update(
            actor=owner, activity=activity, data={"subject": "Zu spät"}, version=1
        )
    assert caught.value.current.version == 2
    assert state() == before


def test_update_records_participants_in_the_audit(owner, teammate, person):
    activity = ActivityFactory(person=person, author=owner)
    services.activity_update(
        actor=owner,
        activity=activity,
        data={"outcome": "Zusage", "internal_participants": [teammate]},
    )
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE, object_id=str(activity.pk))
    assert entry.changes["outcome"] == ["", "Zusage"]
    assert entry.changes["internal_participants"] == [[], [str(teammate)]]
    activity.refresh_from_db()
    assert activity.version == 2


def test_only_the_author_or_a_manager_may_change(owner, teammate, admin, person):
    activity = ActivityFactory(person=person, author=owner)
    before = state()
    with pytest.raises(PermissionDenied):
        services.activity_update(actor=teammate, activity=activity, data={"subject": "Meins"})
    with pytest.raises(PermissionDenied):
        services.activity_delete(actor=teammate, activity=activity)
    assert state() == before
    services.activity_update(actor=admin, activity=activity, data={"subject": "Korrigiert"})
    services.activity_delete(actor=admin, activity=activity)
    assert not Activity.objects.exists()


def test_someone_elses_private_activity_is_404(owner, admin, person):
    activity = ActivityFactory(person=person, author=owner, private=True)
    with pytest.raises(Http404):
        services.activity_delete(actor=admin, activity=activity)
    assert Activity.objects.filter(pk=activity.pk).exists()


def test_update_refuses_fields_that_cannot_change(owner, person, organization):
    activity = ActivityFactory(person=person, author=owner)
    with pytest.raises(ValidationError) as caught:
        services.activity_update(actor=owner, activity=activity, data={"person": None})
    assert list(caught.value.message_dict) == ["person"]


# --- The 360° section ----------------------------------------------------------------------


def history_url(record):
    return reverse("activities:customer_history", args=[record.uuid])


def test_person_page_loads_the_section(client, owner, person):
    client.force_login(owner)
    html = client.get(person.get_absolute_url()).content.decode()
    assert '<h2 id="history-heading">Contact history</h2>' in html
    assert f'hx-get="{history_url(person)}" hx-trigger="load"' in html


def test_section_lists_entries_newest_first(client, owner, person):
    now = timezone.now()
    ActivityFactory(person=person, author=owner, subject="Alt", occurred_at=now - dt.timedelta(1))
    ActivityFactory(person=person, author=owner, subject="Neu", occurred_at=now, text="Lang " * 100)
    client.force_login(owner)
    response = client.get(history_url(person))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("Neu</a>") < html.index("Alt</a>")
    assert 'id="history-call-form"' in html
    assert "Log activity" in html


def test_section_query_count_is_pinned(client, owner, person, django_assert_max_num_queries):
    for i in range(30):
        ActivityFactory(person=person, author=owner, subject=f"Anruf {i}")
    client.force_login(owner)
    client.get(history_url(person))  # warm the session and the role
    with django_assert_max_num_queries(10):
        response = client.get(history_url(person))
    assert response.content.decode().count('class="history-entry') == 25


def test_section_without_activities_edit_has_no_forms(client, readonly, person):
    ActivityFactory(person=person, subject="Besuch")
    client.force_login(readonly)
    html = client.get(history_url(person)).content.decode()
    assert "Besuch" in html
    assert "history-call-form" not in html
    assert "Log activity" not in html


def test_section_is_404_for_an_outsider(client, outsider, person):
    client.force_login(outsider)
    assert client.get(history_url(person)).status_code == 404


def test_filter_by_type_answers_only_the_entries(client, owner, person):
    ActivityFactory(person=person, author=owner, kind=ActivityKind.CALL, subject="Anruf A")
    ActivityFactory(person=person, author=owner, kind=ActivityKind.VISIT, subject="Besuch B")
    client.force_login(owner)
    html = client.get(
        history_url(person), {"part": "entries", "kind": "visit"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert html.lstrip().startswith('<div id="history-entries"')
    assert "Besuch B" in html
    assert "Anruf A" not in html


def test_load_more_follows_the_cursor(client, owner, person):
    now = timezone.now()
    for i in range(30):
        ActivityFactory(
            person=person, author=owner, subject=f"Nr {i:02}", occurred_at=now - dt.timedelta(i)
        )
    client.force_login(owner)
    first = client.get(history_url(person)).context
    assert [a.subject for a in first["entries"]] == [f"Nr {i:02}" for i in range(25)]
    more = client.get(first["more_url"], HTTP_HX_REQUEST="true").content.decode()
    assert subjects(more) == [f"Nr {i:02}" for i in range(25, 30)]
    assert 'hx-trigger="revealed"' not in more
    html = client.get(history_url(person)).content.decode()
    assert f'hx-get="{escape(first["more_url"])}" hx-trigger="revealed"' in html


def subjects(html: str) -> list[str]:
    return re.findall(r'<h3 class="history-subject"><a href="[^"]+">([^<]+)</a></h3>', html)


def test_log_a_call_prepends_the_entry(client, owner, person):
    client.force_login(owner)
    response = client.post(
        reverse("activities:customer_log_call", args=[person.uuid]),
        {
            "subject": "Rückruf",
            "direction": "in",
            "occurred_at": "2025-03-04T10:15",
            "duration_minutes": "5",
            "outcome": "Termin vereinbart",
            "text": "",
        },
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'hx-swap-oob="afterbegin:#history-entries"' in html
    activity = Activity.objects.get()
    assert (activity.kind, activity.direction, activity.subject, activity.duration_minutes) == (
        "call",
        "in",
        "Rückruf",
        5,
    )
    # Entered in the user's time zone (Europe/Berlin, CET in March).
    assert activity.occurred_at == dt.datetime(2025, 3, 4, 9, 15, tzinfo=dt.UTC)
    assert f'id="activity-{activity.uuid}"' in html


def test_log_a_call_with_errors_returns_the_form(client, owner, person):
    client.force_login(owner)
    before = state()
    response = client.post(
        reverse("activities:customer_log_call", args=[person.uuid]),
        {"subject": "", "direction": "out", "occurred_at": "2025-03-04T10:15"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert "hx-swap-oob" not in response.content.decode()
    assert state() == before


def test_readonly_cannot_log_a_call(client, readonly, person):
    client.force_login(readonly)
    before = state()
    response = client.post(
        reverse("activities:customer_log_call", args=[person.uuid]),
        {"subject": "x", "direction": "out", "occurred_at": "2025-03-04T10:15"},
    )
    assert response.status_code == 403
    assert state() == before


# --- The full form and the activity page -----------------------------------------------------


def test_log_activity_page_with_participants(client, owner, teammate, person, organization):
    colleague = owned_by(PersonFactory, owner, organization=organization, last_name="Kollege")
    client.force_login(owner)
    url = reverse("activities:activity_log", args=[organization.uuid])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "kind": "meeting",
            "direction": "",
            "occurred_at": "2025-05-06T14:00",
            "duration_minutes": "60",
            "subject": "Jahresgespräch",
            "text": "Rahmenvertrag",
            "outcome": "",
            "internal_participants": [teammate.pk],
            "external_participants": [colleague.pk, person.pk],
        },
    )
    activity = Activity.objects.get()
    assert response.status_code == 302
    assert response["Location"] == activity.get_absolute_url()
    assert (activity.organization, activity.person) == (organization, None)
    assert list(activity.internal_participants.all()) == [teammate]
    assert set(activity.external_participants.all()) == {colleague, person}


def test_detail_page(client, owner, person, django_assert_max_num_queries):
    activity = ActivityFactory(person=person, author=owner, subject="Anruf wegen Angebot")
    client.force_login(owner)
    client.get(activity.get_absolute_url())
    with django_assert_max_num_queries(9):
        response = client.get(activity.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Anruf wegen Angebot" in html
    assert reverse("activities:activity_edit", args=[activity.uuid]) in html


def test_detail_is_404_for_an_outsider_and_for_others_private(client, outsider, teammate, person):
    activity = ActivityFactory(person=person, subject="x")
    private = ActivityFactory(person=person, subject="y", private=True)
    client.force_login(outsider)
    assert client.get(activity.get_absolute_url()).status_code == 404
    client.force_login(teammate)
    assert client.get(activity.get_absolute_url()).status_code == 200
    assert client.get(private.get_absolute_url()).status_code == 404


def edit_data(activity, **changes):
    data = {
        "kind": activity.kind,
        "direction": activity.direction,
        "occurred_at": "2025-03-04T10:15",
        "duration_minutes": "",
        "subject": activity.subject,
        "text": activity.text,
        "outcome": activity.outcome,
        "version": activity.version,
    }
    return {**data, **changes}


def test_edit_saves_and_bumps_the_version(client, owner, person):
    activity = ActivityFactory(person=person, author=owner, subject="Alt")
    client.force_login(owner)
    url = reverse("activities:activity_edit", args=[activity.uuid])
    assert client.get(url).status_code == 200
    response = client.post(url, edit_data(activity, subject="Neu"))
    assert response.status_code == 302
    activity.refresh_from_db()
    assert (activity.subject, activity.version) == ("Neu", 2)


def test_edit_conflict_shows_a_message_and_keeps_theirs(client, owner, person):
    activity = ActivityFactory(person=person, author=owner, subject="Alt")
    stale = edit_data(activity, subject="Meins")
    services.activity_update(actor=owner, activity=activity, data={"subject": "Deins"})
    client.force_login(owner)
    response = client.post(reverse("activities:activity_edit", args=[activity.uuid]), stale)
    assert response.status_code == 409
    assert "Someone else changed this activity in the meantime." in response.content.decode()
    activity.refresh_from_db()
    assert (activity.subject, activity.version) == ("Deins", 2)
    # Saving again keeps mine.
    response = client.post(
        reverse("activities:activity_edit", args=[activity.uuid]), {**stale, "version": 2}
    )
    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.subject == "Meins"


def test_teammate_may_not_edit_or_delete(client, owner, teammate, person):
    activity = ActivityFactory(person=person, author=owner, subject="Alt")
    client.force_login(teammate)
    before = state()
    assert client.get(reverse("activities:activity_edit", args=[activity.uuid])).status_code == 403
    assert (
        client.post(reverse("activities:activity_delete", args=[activity.uuid])).status_code == 403
    )
    assert state() == before


def test_delete_goes_back_to_the_customer(client, owner, person):
    activity = ActivityFactory(person=person, author=owner)
    client.force_login(owner)
    response = client.post(reverse("activities:activity_delete", args=[activity.uuid]))
    assert response.status_code == 302
    assert response["Location"] == person.get_absolute_url()
    assert not Activity.objects.exists()
    assert AuditEntry.objects.filter(action=AuditAction.DELETE).count() == 1
