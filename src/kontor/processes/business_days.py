"""Deadlines in business days: Monday to Friday, German public holidays excluded
(nationwide ones; ``PROCESS_HOLIDAY_STATE`` adds a state's, e.g. "BY" for Bavaria)."""

import datetime as dt
from functools import lru_cache

import holidays
from django.conf import settings


@lru_cache(maxsize=64)
def _holidays(year: int, state: str) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("DE", subdiv=state or None, years=year))


def is_business_day(day: dt.date, *, state: str | None = None) -> bool:
    state = settings.PROCESS_HOLIDAY_STATE if state is None else state
    return day.weekday() < 5 and day not in _holidays(day.year, state)


def add_business_days(start: dt.date, days: int, *, state: str | None = None) -> dt.date:
    """The date ``days`` business days after ``start`` (0: ``start`` itself if it is a
    business day, else the next one)."""
    day = start
    while not is_business_day(day, state=state):
        day += dt.timedelta(days=1)
    for _ in range(days):
        day += dt.timedelta(days=1)
        while not is_business_day(day, state=state):
            day += dt.timedelta(days=1)
    return day
