"""The personal calendar feed: the settings page, the secret address and what the
iCalendar body holds (parsed back with icalendar)."""

import datetime as dt
import hashlib
import zoneinfo
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from icalendar import Calendar

from kontor.activities.models import AppointmentStatus, CalendarFeed, TaskStatus
from kontor.activities.services import feeds
from kontor.core.models import AuditEntry
from tests.activities.factories import AppointmentFactory, TaskFactory
from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by

UTC = dt.UTC
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def feed_path(user) -> str:
    _feed, url = feeds.feed_create(actor=user)
    return urlparse(url).path


def fetch(client, path) -> Calendar:
    response = client.get(path)
    assert response.status_code == 200
    return Calendar.from_ical(response.content)


def by_summary(calendar: Calendar) -> dict:
    return {str(event["SUMMARY"]): event for event in calendar.walk("VEVENT")}


def appointment(owner, *, start=None, hours=1, attendees=(), **kwargs):
    start = start or timezone.now().replace(microsecond=0) + dt.timedelta(days=2)
    item = AppointmentFactory(
        owner=owner, starts_at=start, ends_at=start + dt.timedelta(hours=hours), **kwargs
    )
    item.attendees.set(attendees)
    return item


# --- The settings page --------------------------------------------------------------------


def test_the_page_makes_a_feed_and_shows_its_address_once(client, owner):
    client.force_login(owner)
    response = client.post(reverse("activities:feed_settings"))
    assert response.status_code == 200
    url = response.context["new_url"]
    token = url.removeprefix(settings.SITE_URL + "/calendar/feed/").removesuffix(".ics")
    assert url == f"{settings.SITE_URL}/calendar/feed/{token}.ics"
    assert len(token) == 43
    assert url in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    # only the digest and a prefix are stored, nowhere the token itself
    feed = CalendarFeed.objects.get()
    assert (feed.user, feed.token_hash, feed.prefix) == (
        owner,
        hashlib.sha256(token.encode()).hexdigest(),
        token[:8],
    )
    stored = [str(v) for v in CalendarFeed.objects.values_list()[0]]
    assert not any(token in value for value in stored)
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor, entry.object_id) == ("create", owner, feed.pk)
    assert token not in str(entry.changes)
    # and the page does not show it again
    page = client.get(reverse("activities:feed_settings")).content.decode()
    assert token not in page
    assert f"{token[:8]}…" in page


def test_the_page_explains_how_to_subscribe_and_lists_only_own_feeds(client, owner, teammate):
    feeds.feed_create(actor=owner)
    other, _url = feeds.feed_create(actor=teammate)
    client.force_login(owner)
    response = client.get(reverse("activities:feed_settings"))
    page = response.content.decode()
    assert [f.user for f in response.context["feeds"]] == [owner]
    assert other.prefix not in page
    for program in ("Outlook", "Thunderbird", "Google Calendar", "Apple Calendar"):
        assert program in page


def test_the_page_needs_a_login(client):
    response = client.get(reverse("activities:feed_settings"))
    assert response.status_code == 302


def test_revoking_stops_the_address(client, owner):
    path = feed_path(owner)
    feed = CalendarFeed.objects.get()
    client.force_login(owner)
    response = client.post(reverse("activities:feed_revoke", args=[feed.pk]))
    assert response.status_code == 302
    feed.refresh_from_db()
    assert feed.revoked_at is not None
    assert AuditEntry.objects.filter(action="update", object_id=feed.pk).count() == 1
    client.logout()
    assert client.get(path).status_code == 404


def test_one_cannot_revoke_someone_elses_feed(client, owner, teammate):
    feed, _url = feeds.feed_create(actor=teammate)
    client.force_login(owner)
    response = client.post(reverse("activities:feed_revoke", args=[feed.pk]))
    assert response.status_code == 404
    feed.refresh_from_db()
    assert feed.revoked_at is None


def test_revoking_needs_post(client, owner):
    feed, _url = feeds.feed_create(actor=owner)
    client.force_login(owner)
    assert client.get(reverse("activities:feed_revoke", args=[feed.pk])).status_code == 405
    feed.refresh_from_db()
    assert feed.revoked_at is None


def test_the_number_of_live_feeds_is_capped(client, owner):
    for _ in range(feeds.MAX_ACTIVE_FEEDS):
        feeds.feed_create(actor=owner)
    client.force_login(owner)
    response = client.post(reverse("activities:feed_settings"), follow=True)
    assert CalendarFeed.objects.count() == feeds.MAX_ACTIVE_FEEDS
    assert "at most 10 calendar subscriptions" in response.content.decode()


# --- The address ----------------------------------------------------------------------------


def test_unknown_revoked_and_inactive_all_answer_404(client, owner, teammate):
    assert client.get("/calendar/feed/" + "x" * 43 + ".ics").status_code == 404
    revoked, url = feeds.feed_create(actor=owner)
    feeds.feed_revoke(actor=owner, feed=revoked)
    assert client.get(urlparse(url).path).status_code == 404
    path = feed_path(teammate)
    teammate.is_active = False
    teammate.save()
    assert client.get(path).status_code == 404


def test_the_feed_is_a_private_calendar_with_refresh_hints(client, owner):
    path = feed_path(owner)
    response = client.get(path)
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"].startswith("private")
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == "-//Kontor//Kontor CRM//DE"
    assert str(calendar["CALSCALE"]) == "GREGORIAN"
    assert str(calendar["X-WR-CALNAME"]) == f"Kontor – {owner}"
    assert calendar["REFRESH-INTERVAL"].dt == dt.timedelta(minutes=15)
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT15M" in response.content.decode()
    assert str(calendar["X-PUBLISHED-TTL"]) == "PT15M"
    assert calendar.walk("VEVENT") == []


def test_the_feed_holds_what_the_user_organizes_or_attends_and_nothing_else(
    client, owner, teammate, outsider, admin
):
    appointment(owner, title="Own")
    appointment(teammate, title="Attending", attendees=[owner])
    # the teammate's appointment is visible to the owner by role, but not theirs
    appointment(teammate, title="Team's")
    appointment(outsider, title="Outsider's", attendees=[teammate])
    appointment(admin, title="Admin's")
    appointment(owner, title="Long ago", start=timezone.now() - dt.timedelta(days=100))
    appointment(owner, title="Far ahead", start=timezone.now() + dt.timedelta(days=401))
    appointment(owner, title="Recent", start=timezone.now() - dt.timedelta(days=89))
    appointment(owner, title="Cancelled", status=AppointmentStatus.CANCELLED)
    calendar = fetch(client, feed_path(owner))
    events = by_summary(calendar)
    assert set(events) == {"Own", "Attending", "Recent", "Cancelled"}
    assert str(events["Cancelled"]["STATUS"]) == "CANCELLED"
    assert str(events["Own"]["STATUS"]) == "CONFIRMED"


def test_each_event_carries_uid_times_and_revision(client, owner):
    customer = owned_by(PersonFactory, owner, first_name="Eva", last_name="Schulz")
    company = owned_by(OrganizationFactory, owner, name="Muster GmbH")
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=10)
    item = appointment(
        owner,
        start=start,
        hours=2,
        title="Besuch",
        location="Köln, Domplatte",
        description="Agenda: Preise; Termine, Rabatte",
        person=customer,
        organization=company,
        sequence=3,
    )
    event = by_summary(fetch(client, feed_path(owner)))["Besuch"]
    assert str(event["UID"]) == f"{item.uuid}@kontor"
    assert event["DTSTART"].dt == start
    assert event["DTEND"].dt == start + dt.timedelta(hours=2)
    assert event["DTSTART"].dt.tzinfo.utcoffset(None) == dt.timedelta(0)
    item.refresh_from_db()
    assert event["DTSTAMP"].dt == item.updated_at.replace(microsecond=0)
    assert event["LAST-MODIFIED"].dt == item.updated_at.replace(microsecond=0)
    assert event["SEQUENCE"] == 3
    assert str(event["LOCATION"]) == "Köln, Domplatte"
    description = str(event["DESCRIPTION"])
    assert description.startswith("Agenda: Preise; Termine, Rabatte\n\n")
    assert "Customer: Eva Schulz, Muster GmbH" in description


def test_each_event_links_to_its_page_in_kontor(client, owner):
    item = appointment(owner, title="Besuch")
    try:
        link = settings.SITE_URL + item.get_absolute_url()
    except NoReverseMatch:
        pytest.skip("the appointment page is not routed yet")
    event = by_summary(fetch(client, feed_path(owner)))["Besuch"]
    assert str(event["DESCRIPTION"]).endswith(link)
    assert str(event["URL"]) == link


def test_an_appointment_across_the_clock_change_keeps_its_utc_times(client, owner):
    # the next change between summer and winter time in Berlin
    day = timezone.localdate() + dt.timedelta(days=1)
    while BERLIN.utcoffset(dt.datetime.combine(day, dt.time(12))) == BERLIN.utcoffset(
        dt.datetime.combine(day + dt.timedelta(days=1), dt.time(12))
    ):
        day += dt.timedelta(days=1)
    start = dt.datetime.combine(day, dt.time(22, 0), tzinfo=BERLIN)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(6, 0), tzinfo=BERLIN)
    AppointmentFactory(owner=owner, title="Nachtschicht", starts_at=start, ends_at=end)
    event = by_summary(fetch(client, feed_path(owner)))["Nachtschicht"]
    assert event["DTSTART"].dt == start.astimezone(UTC)
    assert event["DTEND"].dt == end.astimezone(UTC)
    # 8 wall-clock hours, but one more or one less in real time
    assert event["DTEND"].dt - event["DTSTART"].dt in (dt.timedelta(hours=7), dt.timedelta(hours=9))
    assert (
        "DTSTART:" + start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        in client.get(feed_path(owner)).content.decode()
    )


def test_all_day_appointments_are_dates(client, owner):
    owner.time_zone = "Europe/Berlin"
    owner.save()
    first = timezone.localdate() + dt.timedelta(days=5)
    # two days, stored as local midnight to the midnight after the last day
    AppointmentFactory(
        owner=owner,
        title="Messe",
        all_day=True,
        starts_at=dt.datetime.combine(first, dt.time(0), tzinfo=BERLIN),
        ends_at=dt.datetime.combine(first + dt.timedelta(days=2), dt.time(0), tzinfo=BERLIN),
    )
    event = by_summary(fetch(client, feed_path(owner)))["Messe"]
    assert event["DTSTART"].dt == first
    assert event["DTEND"].dt == first + dt.timedelta(days=2)
    assert event["DTSTART"].params["VALUE"] == "DATE"


def test_open_tasks_are_all_day_entries_that_do_not_block_time(client, owner, teammate):
    due = timezone.localdate() + dt.timedelta(days=3)
    task = TaskFactory(owner=owner, title="Angebot nachfassen", due_date=due)
    TaskFactory(owner=owner, title="Erledigt", due_date=due, status=TaskStatus.DONE)
    # delegated to the teammate: in the teammate's calendar, not the creator's
    TaskFactory(owner=teammate, created_by=owner, title="Delegiert", due_date=due)
    events = by_summary(fetch(client, feed_path(owner)))
    assert set(events) == {"Task: Angebot nachfassen"}
    event = events["Task: Angebot nachfassen"]
    assert str(event["UID"]) == f"{task.uuid}@kontor"
    assert event["DTSTART"].dt == due
    assert event["DTEND"].dt == due + dt.timedelta(days=1)
    assert str(event["TRANSP"]) == "TRANSPARENT"
    assert "Task: Delegiert" in by_summary(fetch(client, feed_path(teammate)))


def test_an_unchanged_feed_answers_304_to_its_etag(client, owner):
    appointment(owner, title="Own")
    path = feed_path(owner)
    first = client.get(path)
    etag = first["ETag"]
    assert etag.startswith('"') and len(etag) == 34
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert again["Cache-Control"].startswith("private")
    # a change gives another body and another tag
    appointment(owner, title="New")
    changed = client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_last_used_is_written_at_most_once_an_hour(client, owner):
    path = feed_path(owner)
    feed = CalendarFeed.objects.get()
    assert feed.last_used_at is None
    client.get(path)
    feed.refresh_from_db()
    first = feed.last_used_at
    assert first is not None
    client.get(path)
    feed.refresh_from_db()
    assert feed.last_used_at == first
    CalendarFeed.objects.update(last_used_at=first - dt.timedelta(minutes=61))
    client.get(path)
    feed.refresh_from_db()
    assert feed.last_used_at > first


def test_the_number_of_queries_does_not_grow_with_the_calendar(
    client, owner, teammate, django_assert_num_queries
):
    path = feed_path(owner)
    client.get(path)  # last_used_at is written; later polls within the hour do not write
    appointment(owner, title="One")
    TaskFactory(owner=owner)
    with django_assert_num_queries(3):
        client.get(path)
    for i in range(25):
        customer = owned_by(PersonFactory, owner)
        appointment(owner, title=f"Own {i}", person=customer, organization=customer.organization)
        appointment(teammate, title=f"Attending {i}", attendees=[owner, teammate])
        TaskFactory(owner=owner, person=customer)
    with django_assert_num_queries(3):
        calendar = fetch(client, path)
    assert len(calendar.walk("VEVENT")) == 1 + 1 + 25 * 3


def test_my_settings_link_to_the_subscription_page(client, owner):
    client.force_login(owner)
    page = client.get(reverse("core:profile")).content.decode()
    assert f'href="{reverse("activities:feed_settings")}"' in page
