"""The contact history in a real browser: a rep logs a call and schedules a follow-up
from the person's page, finds it on My day and ticks it off; the new pages load
under the CSP without console errors."""

import datetime as dt

from django.utils import timezone
from playwright.sync_api import expect

from kontor.activities.models import Activity, Task, TaskStatus
from tests.activities.factories import AppointmentFactory
from tests.customers.factories import PersonFactory, owned_by


def test_log_a_call_and_work_the_follow_up_on_my_day(page, problems, login, owner):
    anna = owned_by(PersonFactory, owner, first_name="Anna", last_name="Albers")
    login(page, owner)
    page.goto(anna.get_absolute_url())

    history = page.locator("section[data-section=contact-history]")
    history.locator("summary", has_text="Log a call").click()
    call = history.locator("#history-call-form")
    call.get_by_label("Subject").fill("Angebot besprochen")
    call.get_by_label("Outcome").fill("Rückruf gewünscht")
    call.get_by_role("button", name="Log call").click()
    expect(history.locator(".history-entry .history-subject")).to_have_text(["Angebot besprochen"])
    activity = Activity.objects.get()
    assert (activity.person, activity.author, activity.outcome) == (
        anna,
        owner,
        "Rückruf gewünscht",
    )

    tasks = page.locator("section[data-section=tasks]")
    tasks.get_by_label("Follow-up").fill("Angebot nachfassen")
    tasks.get_by_label("Due date").fill(timezone.localdate().isoformat())
    tasks.get_by_role("button", name="Add follow-up").click()
    expect(tasks.locator(".task-list")).to_contain_text("Angebot nachfassen")

    page.goto("/activities/")
    row = page.locator("li", has_text="Angebot nachfassen")
    expect(row).to_be_visible()
    row.get_by_role("button", name="Mark “Angebot nachfassen” done").click()
    expect(page.get_by_role("button", name="Mark “Angebot nachfassen” not done")).to_be_visible()
    assert Task.objects.get().status == TaskStatus.DONE
    problems.check()


def test_calendar_capture_and_mail_pages_load_cleanly(page, problems, login, owner):
    AppointmentFactory(
        owner=owner,
        title="Besuch Albers",
        starts_at=timezone.now().replace(hour=9, minute=0) + dt.timedelta(days=1),
        ends_at=timezone.now().replace(hour=10, minute=0) + dt.timedelta(days=1),
    )
    login(page, owner)
    for url in (
        "/calendar/?view=week",
        "/calendar/?view=month",
        "/calendar/?view=day",
        "/calendar/feed/",
        "/activities/capture/",
        "/activities/tasks/",
        "/mail/",
        "/mail/templates/",
        "/mail/sent/",
    ):
        response = page.goto(url)
        assert response.status == 200, url
    page.goto("/calendar/?view=week")
    expect(page.get_by_text("Besuch Albers").first).to_be_visible()
    problems.check()
