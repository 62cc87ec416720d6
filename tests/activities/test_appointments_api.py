"""Appointments in the API: list with filters and cursor, create (local times and
DST), PATCH with version (409), cancel, the visit report, and what an outsider gets."""

import datetime as dt
import json

import pytest

from kontor.activities.models import Activity, Appointment, AppointmentStatus
from kontor.activities.services import appointments as services
from kontor.core.models import AuditEntry
from tests.core.test_api import post_json, reader, writer
from tests.customers.factories import PersonFactory, owned_by

pytestmark = pytest.mark.django_db

URL = "/api/v1/appointments"
UTC = dt.UTC


def patch_json(client, url, data, **headers):
    return client.patch(url, data=json.dumps(data), content_type="application/json", **headers)


def plan(owner, title, start, **kwargs):
    return services.appointment_create(
        actor=owner, title=title, starts_at=start, ends_at=start + dt.timedelta(hours=1), **kwargs
    )


def state():
    return list(Appointment.objects.order_by("pk").values()), AuditEntry.objects.count()


def test_create_reads_local_times_in_the_given_zone(client, owner, teammate):
    person = owned_by(PersonFactory, owner)
    response = post_json(
        client,
        URL,
        {
            "title": "Besuch",
            "starts_at": "2027-06-02T10:00:00",
            "ends_at": "2027-06-02T11:00:00",
            "time_zone": "Europe/Berlin",
            "attendees": ["teammate"],
            "person": str(person.uuid),
            "reminder_minutes": 15,
        },
        **writer(owner),
    )
    assert response.status_code == 201
    body = response.json()
    assert body["starts_at"] == "2027-06-02T08:00:00Z"
    assert (body["owner"], body["attendees"], body["person"], body["status"]) == (
        "owner",
        ["teammate"],
        str(person.uuid),
        "planned",
    )
    assert AuditEntry.objects.filter(via="api").count() == 1


def test_create_in_the_dst_gap_is_a_field_error(client, owner):
    response = post_json(
        client,
        URL,
        {"title": "X", "starts_at": "2027-03-28T02:30:00", "ends_at": "2027-03-28T04:00:00",
         "time_zone": "Europe/Berlin"},
        **writer(owner),
    )  # fmt: skip
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["starts_at"]
    assert state() == ([], 0)


def test_unknown_attendees_are_refused(client, owner):
    response = post_json(
        client,
        URL,
        {"title": "X", "starts_at": "2027-06-02T10:00:00Z", "ends_at": "2027-06-02T11:00:00Z",
         "attendees": ["nobody"]},
        **writer(owner),
    )  # fmt: skip
    assert response.status_code == 422
    assert state() == ([], 0)


def test_list_filters_and_pages(client, owner, teammate):
    first = plan(owner, "A", dt.datetime(2027, 6, 1, 8, tzinfo=UTC))
    plan(owner, "B", dt.datetime(2027, 6, 2, 8, tzinfo=UTC), attendees=[teammate])
    plan(teammate, "C", dt.datetime(2027, 6, 3, 8, tzinfo=UTC))
    plan(owner, "D", dt.datetime(2027, 7, 1, 8, tzinfo=UTC))
    headers = reader(owner)
    page = client.get(URL, {"limit": 2}, **headers).json()
    assert [a["title"] for a in page["items"]] == ["A", "B"]
    page = client.get(URL, {"limit": 2, "cursor": page["next_cursor"]}, **headers).json()
    assert ([a["title"] for a in page["items"]], page["next_cursor"]) == (["C", "D"], None)
    params = {"start": "2027-06-01T12:00:00Z", "end": "2027-06-30T00:00:00Z"}
    assert [a["title"] for a in client.get(URL, params, **headers).json()["items"]] == ["B", "C"]
    by_owner = client.get(URL, {"owner": "teammate"}, **headers).json()["items"]
    assert [a["title"] for a in by_owner] == ["C"]
    attending = client.get(URL, {"attendee": "teammate"}, **headers).json()["items"]
    assert [a["title"] for a in attending] == ["B"]
    services.appointment_cancel(actor=owner, appointment=first)
    cancelled = client.get(URL, {"status": "cancelled"}, **headers).json()["items"]
    assert [a["title"] for a in cancelled] == ["A"]


def test_patch_with_the_version_and_a_conflict(client, owner):
    appointment = plan(owner, "Alt", dt.datetime(2027, 6, 2, 8, tzinfo=UTC))
    url = f"{URL}/{appointment.uuid}"
    response = patch_json(client, url, {"title": "Neu", "version": 1}, **writer(owner))
    assert (response.status_code, response.json()["title"], response.json()["version"]) == (
        200,
        "Neu",
        2,
    )
    before = state()
    response = patch_json(client, url, {"title": "Meins", "version": 1}, **writer(owner))
    assert response.status_code == 409
    assert response.json()["current_version"] == 2
    assert state() == before


def test_cancel_and_report(client, owner):
    person = owned_by(PersonFactory, owner)
    appointment = plan(owner, "Besuch", dt.datetime(2027, 6, 2, 8, tzinfo=UTC), person=person)
    other = plan(owner, "Abgesagt", dt.datetime(2027, 6, 3, 8, tzinfo=UTC), person=person)
    response = post_json(client, f"{URL}/{appointment.uuid}/report", {"text": "Gut"},
                         **writer(owner))  # fmt: skip
    assert response.status_code == 201
    assert (response.json()["kind"], response.json()["duration_minutes"]) == ("visit", 60)
    again = post_json(client, f"{URL}/{appointment.uuid}/report", {}, **writer(owner))
    assert again.status_code == 422
    assert Activity.objects.count() == 1
    response = post_json(client, f"{URL}/{other.uuid}/cancel", {"reason": "krank"},
                         **writer(owner))  # fmt: skip
    assert (response.status_code, response.json()["status"]) == (200, "cancelled")
    got = client.get(f"{URL}/{appointment.uuid}", **reader(owner)).json()
    assert (got["status"], got["report"]) == (
        AppointmentStatus.HELD,
        str(Activity.objects.get().uuid),
    )


def test_an_outsider_gets_404_and_nothing_changes(client, owner, outsider):
    appointment = plan(owner, "Intern", dt.datetime(2027, 6, 2, 8, tzinfo=UTC))
    before = state()
    headers = writer(outsider)
    assert client.get(f"{URL}/{appointment.uuid}", **headers).status_code == 404
    assert (
        patch_json(
            client, f"{URL}/{appointment.uuid}", {"title": "x", "version": 1}, **headers
        ).status_code
        == 404
    )
    assert post_json(client, f"{URL}/{appointment.uuid}/cancel", {}, **headers).status_code == 404
    assert client.get(URL, **headers).json()["items"] == []
    assert state() == before


def test_read_only_users_cannot_create(client, readonly):
    response = post_json(
        client,
        URL,
        {"title": "X", "starts_at": "2027-06-02T10:00:00Z", "ends_at": "2027-06-02T11:00:00Z"},
        **writer(readonly),
    )
    assert response.status_code == 403
    assert state() == ([], 0)


OUT_OF_RANGE = "Enter a time between the years 1 and 9999."


@pytest.mark.parametrize(
    ("field", "value"),
    [
        # In year 0 in UTC, where it is stored: SQLite overflowed (500), PostgreSQL took it.
        ("start", "0001-01-01T00:00:00+01:00"),
        ("end", "9999-12-31T23:59:59-05:00"),
        ("end", "9999-12-31T12:00:00"),
    ],
)
def test_a_filter_time_at_the_ends_of_the_calendar_is_422_on_both_databases(
    client, owner, field, value
):
    response = client.get("/api/v1/appointments", {field: value}, **reader(owner))
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": field, "message": OUT_OF_RANGE}]
    response = client.get("/api/v1/activities", {"since": value}, **reader(owner))
    assert response.json()["errors"] == [{"field": "since", "message": OUT_OF_RANGE}]
    response = client.get(
        "/api/v1/appointments", {field: "0001-01-02T00:00:00+01:00"}, **reader(owner)
    )
    assert response.status_code == 200


def test_an_appointment_at_the_ends_of_the_calendar_is_refused_naming_the_field(client, owner):
    response = post_json(
        client,
        "/api/v1/appointments",
        {
            "title": "Urknall",
            "starts_at": "0001-01-01T00:00:00+01:00",
            "ends_at": "0001-01-01T01:30:00+01:00",
        },
        **writer(owner),
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "starts_at", "message": OUT_OF_RANGE},
        {"field": "ends_at", "message": OUT_OF_RANGE},
    ]
    assert not Appointment.objects.exists()
