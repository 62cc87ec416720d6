import datetime as dt

from kontor.processes.business_days import add_business_days, is_business_day


def test_weekends_and_public_holidays_are_not_business_days():
    assert not is_business_day(dt.date(2026, 12, 25))  # Christmas
    assert not is_business_day(dt.date(2027, 3, 26))  # Good Friday 2027
    assert not is_business_day(dt.date(2026, 11, 28))  # a Saturday
    assert is_business_day(dt.date(2026, 11, 23))


def test_deadlines_skip_weekends_and_holidays():
    # Wed 23 Dec 2026 + 2 business days: Thu 24, then Mon 28 (25/26 holidays, weekend).
    assert add_business_days(dt.date(2026, 12, 23), 2) == dt.date(2026, 12, 28)
    assert add_business_days(dt.date(2026, 11, 27), 1) == dt.date(2026, 11, 30)
    assert add_business_days(dt.date(2026, 11, 28), 0) == dt.date(2026, 11, 30)


def test_a_state_adds_its_own_holidays():
    # Epiphany (6 January) is a holiday in Bavaria, not nationwide.
    assert is_business_day(dt.date(2027, 1, 6))
    assert not is_business_day(dt.date(2027, 1, 6), state="BY")
