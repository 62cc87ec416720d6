"""Building iCalendar objects: all-day dates, escaping, the invitation's parties."""

import datetime as dt
import zoneinfo

import pytest
from icalendar import Calendar

from kontor.activities import ical
from tests.activities.factories import AppointmentFactory

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "expected"),
    [
        # one day, local midnight to the next midnight (how the appointment form stores it)
        (
            dt.datetime(2030, 3, 31, tzinfo=BERLIN),
            dt.datetime(2030, 4, 1, tzinfo=BERLIN),
            (dt.date(2030, 3, 31), dt.date(2030, 4, 1)),
        ),
        # across the clock change, three days
        (
            dt.datetime(2030, 3, 30, tzinfo=BERLIN),
            dt.datetime(2030, 4, 2, tzinfo=BERLIN),
            (dt.date(2030, 3, 30), dt.date(2030, 4, 2)),
        ),
        # an end that is not midnight includes its day
        (
            dt.datetime(2030, 3, 30, tzinfo=BERLIN),
            dt.datetime(2030, 3, 30, 23, 59, tzinfo=BERLIN),
            (dt.date(2030, 3, 30), dt.date(2030, 3, 31)),
        ),
        # start equals end: still one day
        (
            dt.datetime(2030, 3, 30, tzinfo=BERLIN),
            dt.datetime(2030, 3, 30, tzinfo=BERLIN),
            (dt.date(2030, 3, 30), dt.date(2030, 3, 31)),
        ),
    ],
)
def test_all_day_dates_are_the_organizers_days(owner, starts_at, ends_at, expected):
    owner.time_zone = "Europe/Berlin"
    item = AppointmentFactory(owner=owner, all_day=True, starts_at=starts_at, ends_at=ends_at)
    assert ical.all_day_dates(item) == expected


def test_all_day_dates_follow_the_organizers_zone_not_the_servers(owner):
    owner.time_zone = "Asia/Tokyo"
    item = AppointmentFactory(
        owner=owner,
        all_day=True,
        starts_at=dt.datetime(2030, 6, 1, tzinfo=TOKYO),
        ends_at=dt.datetime(2030, 6, 2, tzinfo=TOKYO),
    )
    assert ical.all_day_dates(item) == (dt.date(2030, 6, 1), dt.date(2030, 6, 2))


def test_text_is_escaped_and_survives_a_round_trip(owner):
    item = AppointmentFactory(
        owner=owner,
        title="Preise; Rabatte, Termine\\temp",
        description="Zeile 1\nZeile 2 – äöü",
    )
    text = ical.feed_calendar(name="Kontor – x", appointments=[item], tasks=[]).to_ical()
    assert b"SUMMARY:Preise\\; Rabatte\\, Termine\\\\temp" in text
    # folded at 75 octets at most
    assert max(len(line) for line in text.split(b"\r\n")) <= 75
    (event,) = Calendar.from_ical(text).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Preise; Rabatte, Termine\\temp"
    assert str(event["DESCRIPTION"]).startswith("Zeile 1\nZeile 2 – äöü")


def test_names_with_quotes_are_made_safe_in_addresses(owner):
    owner.first_name, owner.last_name = 'Eva "die Chefin"', "Schulz"
    item = AppointmentFactory(owner=owner)
    calendar = ical.invitation_calendar(
        item, method="REQUEST", attendees=[("a@example.com", 'Anna\n"A." Huber')]
    )
    (event,) = Calendar.from_ical(calendar.to_ical()).walk("VEVENT")
    assert event["ORGANIZER"].params["CN"] == "Eva die Chefin Schulz"
    assert event["ATTENDEE"].params["CN"] == "AnnaA. Huber"


def test_an_organizer_without_address_becomes_kontor(owner, settings):
    settings.DEFAULT_FROM_EMAIL = "Kontor CRM <crm@firma.de>"
    owner.email = ""
    item = AppointmentFactory(owner=owner)
    calendar = ical.invitation_calendar(item, method="CANCEL", attendees=[])
    (event,) = calendar.walk("VEVENT")
    assert str(event["ORGANIZER"]) == "mailto:crm@firma.de"
    assert event["ORGANIZER"].params["CN"] == "Kontor CRM"
    assert str(event["STATUS"]) == "CANCELLED"


def test_only_request_and_cancel_are_built(owner):
    with pytest.raises(ValueError, match="PUBLISH"):
        ical.invitation_calendar(AppointmentFactory(owner=owner), method="PUBLISH", attendees=[])
