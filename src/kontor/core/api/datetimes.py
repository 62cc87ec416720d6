"""Times the API takes for storing or filtering: they must exist in UTC, where they
are stored. 0001-01-01T00:00+01:00 is in year 0 there and a day after 9999-12-31 does
not exist; SQLite overflowed with a 500 while PostgreSQL took them. An offset is less
than a day, so a time whose own date is neither the first nor the last day of the
calendar is always safe: the same rule for naive and aware times, on both databases.
The API's date-time type (core.api.schemas.IsoDateTime) applies it."""

from datetime import date, datetime

from django.utils.translation import gettext as _

FIRST_SAFE_DAY, LAST_SAFE_DAY = date(1, 1, 2), date(9999, 12, 30)


def within_the_calendar(value: datetime) -> datetime:
    if not FIRST_SAFE_DAY <= value.date() <= LAST_SAFE_DAY:
        raise ValueError(_("Enter a time between the years 1 and 9999."))
    return value
