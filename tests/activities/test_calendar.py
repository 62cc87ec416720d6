"""The calendar (day, week, month; a user's or a team's), the appointment pages and
the appointments section of the 360° page."""

import datetime as dt
import re
import zoneinfo

import pytest
from django.urls import reverse

from kontor.activities.models import Activity, Appointment, AppointmentStatus
from kontor.activities.services import appointments as services
from tests.core.factories import UserFactory
from tests.customers.factories import PersonFactory, owned_by

pytestmark = pytest.mark.django_db

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
CALENDAR = "/calendar/"


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BERLIN)


def plan(owner, title, start, hours=1, **kwargs):
    return services.appointment_create(
        actor=owner, title=title, starts_at=start, ends_at=start + dt.timedelta(hours=hours),
        **kwargs,
    )  # fmt: skip


def titles(response) -> list[str]:
    """The appointment titles in the grid or month table (not the phone list)."""
    html = response.content.decode()
    grid = html.split('<ol class="cal-list"')[0]
    return re.findall(r'<span class="cal-title">([^<]*)</span>', grid)


@pytest.fixture
def week(owner, teammate):
    """Appointments in the week of Monday 2027-05-31."""
    return {
        "mon": plan(owner, "Montag", at(2027, 5, 31, 9)),
        "wed": plan(owner, "Mittwoch", at(2027, 6, 2, 14), location="Werk 2"),
        "team": plan(teammate, "Teammate", at(2027, 6, 2, 10)),
        "next": plan(owner, "Naechste Woche", at(2027, 6, 8, 9)),
    }


def test_the_week_view_shows_my_appointments_of_that_week(client, owner, week):
    client.force_login(owner)
    response = client.get(CALENDAR, {"view": "week", "date": "2027-06-02"})
    assert response.status_code == 200
    assert titles(response) == ["Montag", "Mittwoch"]
    assert "Werk 2" in response.content.decode()
    assert "?start=2027-06-02T14:00" in response.content.decode()


def test_the_day_view_shows_that_day(client, owner, week):
    client.force_login(owner)
    response = client.get(CALENDAR, {"view": "day", "date": "2027-05-31"})
    assert titles(response) == ["Montag"]


def test_the_month_view_shows_the_whole_grid(client, owner, week):
    client.force_login(owner)
    response = client.get(CALENDAR, {"view": "month", "date": "2027-06-15"})
    assert titles(response) == ["Montag", "Mittwoch", "Naechste Woche"]


def test_a_multi_day_appointment_shows_on_each_day(client, owner):
    services.appointment_create(
        actor=owner, title="Messe", starts_at=dt.date(2027, 6, 1), ends_at=dt.date(2027, 6, 3),
        all_day=True, time_zone="Europe/Berlin",
    )  # fmt: skip
    client.force_login(owner)
    response = client.get(CALENDAR, {"view": "week", "date": "2027-06-02"})
    assert titles(response) == ["Messe", "Messe", "Messe"]


def test_another_users_calendar(client, owner, teammate, week):
    client.force_login(owner)
    response = client.get(CALENDAR, {"view": "week", "date": "2027-06-02", "user": "teammate"})
    assert titles(response) == ["Teammate"]


def test_an_appointment_i_attend_is_in_my_calendar(client, owner, outsider):
    plan(owner, "Gemeinsam", at(2027, 6, 2, 9), attendees=[outsider])
    client.force_login(outsider)
    response = client.get(CALENDAR, {"view": "week", "date": "2027-06-02"})
    assert titles(response) == ["Gemeinsam"]


def test_the_team_view_shows_every_members_appointments_labelled(client, owner, team, week):
    client.force_login(owner)
    response = client.get(CALENDAR, {"view": "week", "date": "2027-06-02", "team": team.uuid})
    assert titles(response) == ["Montag", "Teammate", "Mittwoch"]
    html = response.content.decode()
    assert 'class="cal-who">' in html
    assert "who-0" in html and "who-1" in html


def test_an_outsider_sees_nothing_of_anothers_calendar(client, outsider, team, week):
    client.force_login(outsider)
    for params in ({"user": "owner"}, {"team": team.uuid}):
        response = client.get(CALENDAR, {"view": "week", "date": "2027-06-02", **params})
        assert response.status_code == 200
        assert titles(response) == []


def test_an_unknown_user_or_team_is_404(client, owner):
    client.force_login(owner)
    assert client.get(CALENDAR, {"user": "nobody"}).status_code == 404
    assert client.get(CALENDAR, {"team": "not-a-uuid"}).status_code == 404


def test_a_bad_date_or_view_falls_back_to_this_week(client, owner):
    client.force_login(owner)
    response = client.get(CALENDAR, {"view": "year", "date": "2027-13-45"})
    assert response.status_code == 200
    assert 'data-calendar="week"' in response.content.decode()


@pytest.mark.parametrize("view", ["day", "week", "month"])
@pytest.mark.parametrize(
    ("date", "shown"),
    [("0001-01-01", dt.date(1, 2, 1)), ("9999-12-31", dt.date(9999, 11, 30))],
)
def test_a_date_at_the_ends_of_the_calendar_is_kept_inside(client, owner, view, date, shown):
    # The first and last days overflowed (month grid, links to the months around).
    client.force_login(owner)
    response = client.get(CALENDAR, {"view": view, "date": date})
    assert response.status_code == 200
    assert response.context["day"] == shown


def test_a_new_appointment_at_the_end_of_the_calendar_is_prefilled_with_a_default(client, owner):
    client.force_login(owner)
    url = reverse("activities:appointment_create")
    response = client.get(url, {"start": "9999-12-31T23:30", "duration": "120"})
    assert response.status_code == 200
    response = client.get(url, {"date": "9999-12-31", "duration": str(24 * 60)})
    assert response.status_code == 200


def test_an_appointment_in_the_first_hour_of_the_calendar_is_a_form_error(client, owner):
    client.force_login(owner)  # Europe/Berlin: 0001-01-01 00:30 is in year 0 in UTC
    response = client.post(
        reverse("activities:appointment_create"),
        {
            "title": "Urknall",
            "starts_at": "0001-01-01T00:30",
            "ends_at": "0001-01-01T01:30",
            "reminder_minutes": "15",
        },
    )
    assert response.status_code == 422
    assert response.context["form"].errors["starts_at"] == [
        "Enter a time between the years 1 and 9999."
    ]
    assert not Appointment.objects.exists()


def test_the_page_has_no_inline_styles_or_scripts(client, owner, week):
    client.force_login(owner)
    html = client.get(CALENDAR, {"view": "month", "date": "2027-06-02"}).content.decode()
    assert "style=" not in html
    assert "onclick" not in html
    assert "activities/calendar.css" in html


def test_the_week_view_costs_a_fixed_number_of_queries(
    client, owner, team, teammate, django_assert_max_num_queries
):
    person = owned_by(PersonFactory, owner)
    for day in range(31, 38):
        start = at(2027, 5, 31, 8) + dt.timedelta(days=day - 31)
        plan(owner, f"T{day}", start, attendees=[teammate], person=person)
        plan(teammate, f"U{day}", start + dt.timedelta(hours=2), external_attendees=[person])
    client.force_login(owner)
    client.get(CALENDAR)  # warm the session
    with django_assert_max_num_queries(12):
        response = client.get(CALENDAR, {"view": "week", "date": "2027-06-02", "team": team.uuid})
    assert len(titles(response)) == 14


# --- Appointment pages --------------------------------------------------------------------


def test_new_appointment_is_prefilled_from_the_calendar_and_the_customer(client, owner):
    person = owned_by(PersonFactory, owner, last_name="Kunde")
    client.force_login(owner)
    response = client.get(
        reverse("activities:appointment_create"),
        {"start": "2027-06-02T10:00", "person": str(person.uuid)},
    )
    html = response.content.decode()
    assert 'value="2027-06-02T10:00"' in html
    assert 'value="2027-06-02T11:00"' in html
    assert f'value="{person.uuid}"' in html
    assert "Kunde" in html


def test_creating_through_the_form_reads_local_times(client, owner, teammate):
    client.force_login(owner)  # owner's time zone: Europe/Berlin
    response = client.post(
        reverse("activities:appointment_create"),
        {
            "title": "Planung",
            "starts_at": "2027-06-02T10:00",
            "ends_at": "2027-06-02T11:00",
            "attendees": [teammate.pk],
            "reminder_minutes": "15",
        },
    )
    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == appointment.get_absolute_url()
    assert appointment.starts_at == dt.datetime(2027, 6, 2, 8, 0, tzinfo=dt.UTC)
    assert list(appointment.attendees.all()) == [teammate]
    assert appointment.reminder_minutes == 15


def test_a_time_in_the_dst_gap_is_a_form_error(client, owner):
    client.force_login(owner)
    response = client.post(
        reverse("activities:appointment_create"),
        {"title": "X", "starts_at": "2027-03-28T02:30", "ends_at": "2027-03-28T04:00"},
    )
    assert response.status_code == 422
    assert "This time does not exist in Europe/Berlin because the clocks change." in (
        response.content.decode()
    )
    assert Appointment.objects.count() == 0


def test_edit_with_a_stale_version_shows_the_conflict(client, owner):
    appointment = plan(owner, "Alt", at(2027, 6, 2, 10))
    services.appointment_update(actor=owner, appointment=appointment, data={"title": "Neu"})
    client.force_login(owner)
    url = reverse("activities:appointment_edit", args=[appointment.uuid])
    response = client.post(
        url,
        {"title": "Meins", "starts_at": "2027-06-02T10:00", "ends_at": "2027-06-02T11:00",
         "version": "1"},
    )  # fmt: skip
    assert response.status_code == 409
    assert Appointment.objects.get().title == "Neu"
    assert client.get(url).status_code == 200


def test_detail_cancel_and_report_pages(client, owner):
    person = owned_by(PersonFactory, owner)
    appointment = plan(owner, "Besuch", at(2027, 6, 2, 10), person=person)
    client.force_login(owner)
    detail = client.get(appointment.get_absolute_url())
    assert detail.status_code == 200
    assert reverse("activities:appointment_report", args=[appointment.uuid]) in (
        detail.content.decode()
    )
    report_url = reverse("activities:appointment_report", args=[appointment.uuid])
    response = client.post(report_url, {"kind": "visit", "subject": "Besuch", "text": "Gut"})
    assert response.status_code == 302
    assert Activity.objects.get().text == "Gut"
    again = client.post(report_url, {"kind": "visit", "subject": "Besuch", "text": "Nochmal"})
    assert again.status_code == 422
    assert "A visit report has already been written for this appointment." in (
        again.content.decode()
    )
    assert Activity.objects.count() == 1


def test_cancel_through_the_page(client, owner):
    appointment = plan(owner, "Besuch", at(2027, 6, 2, 10))
    client.force_login(owner)
    url = reverse("activities:appointment_cancel", args=[appointment.uuid])
    assert client.get(url).status_code == 200
    response = client.post(url, {"reason": "krank"})
    assert response.status_code == 302
    assert Appointment.objects.get().status == AppointmentStatus.CANCELLED


def test_an_outsider_gets_404_on_the_pages_and_nothing_changes(client, owner, outsider):
    appointment = plan(owner, "Intern", at(2027, 6, 2, 10))
    client.force_login(outsider)
    for name in ("appointment_detail", "appointment_edit", "appointment_cancel"):
        assert client.get(reverse(f"activities:{name}", args=[appointment.uuid])).status_code == 404
    response = client.post(reverse("activities:appointment_cancel", args=[appointment.uuid]))
    assert response.status_code == 404
    assert Appointment.objects.get().status == AppointmentStatus.PLANNED


def test_read_only_users_cannot_open_the_form(client, readonly):
    client.force_login(readonly)
    assert client.get(reverse("activities:appointment_create")).status_code == 403


# --- The 360° section ---------------------------------------------------------------------


def test_the_customer_section_lists_upcoming_and_past_appointments(client, owner):
    person = owned_by(PersonFactory, owner)
    guest = owned_by(PersonFactory, owner)
    now = dt.datetime.now(tz=dt.UTC)
    plan(owner, "Kommt", now + dt.timedelta(days=2), person=person)
    plan(owner, "Zu Gast", now + dt.timedelta(days=3), external_attendees=[person, guest])
    plan(owner, "War", now - dt.timedelta(days=2), person=person)
    plan(owner, "Anderer", now + dt.timedelta(days=2), person=guest)
    client.force_login(owner)
    page = client.get(person.get_absolute_url()).content.decode()
    url = reverse("activities:customer_appointments", args=[person.uuid])
    assert f'hx-get="{url}"' in page
    assert 'id="appointments-heading"' in page
    html = client.get(url).content.decode()
    upcoming, past = html.split('data-appointments="past"')
    assert re.findall(r">(Kommt|Zu Gast|War|Anderer)<", upcoming) == ["Kommt", "Zu Gast"]
    assert re.findall(r">(Kommt|Zu Gast|War|Anderer)<", past) == ["War"]
    assert f"?person={person.uuid}" in html


def test_the_customer_section_is_404_for_an_outsider(client, owner, outsider):
    person = owned_by(PersonFactory, owner)
    client.force_login(outsider)
    url = reverse("activities:customer_appointments", args=[person.uuid])
    assert client.get(url).status_code == 404


def test_an_inactive_user_is_not_offered_as_attendee(client, owner):
    UserFactory(username="ehemalig", is_active=False)
    client.force_login(owner)
    html = client.get(reverse("activities:appointment_create")).content.decode()
    assert "ehemalig" not in html
