"""Task reminder e-mails through a real SMTP server: one per assignee, due today in
their time zone, timed tasks shortly before; each task once, even with two workers."""

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from kontor.activities.models import Task, TaskStatus
from kontor.activities.services.tasks import _claim, task_reminders_send
from kontor.activities.tasks import send_reminders
from tests.activities.factories import TaskFactory
from tests.core.factories import UserFactory

pytestmark = pytest.mark.django_db

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
TODAY = dt.date(2025, 5, 2)
# 10:00 in Berlin.
NOW = dt.datetime(2025, 5, 2, 10, 0, tzinfo=BERLIN)


def task_of(user, **kwargs) -> Task:
    return TaskFactory(owner=user, team=user.teams.order_by("id").first(), **kwargs)


def body(message) -> str:
    return message.get_content()


def test_one_mail_per_assignee_with_their_due_tasks_and_links(smtp_sink, settings, owner, teammate):
    settings.SITE_URL = "https://crm.example.com"
    all_day = task_of(owner, title="Angebot nachfassen", due_date=TODAY)
    soon = task_of(owner, title="Rückruf Müller", due_date=TODAY, due_time=dt.time(10, 10))
    later = task_of(owner, title="Später heute", due_date=TODAY, due_time=dt.time(12, 0))
    task_of(owner, title="Morgen", due_date=TODAY + dt.timedelta(days=1))
    task_of(owner, title="Gestern", due_date=TODAY - dt.timedelta(days=1))
    task_of(owner, title="Erledigt", due_date=TODAY, status=TaskStatus.DONE)
    task_of(teammate, title="Vom Kollegen", due_date=TODAY)

    assert task_reminders_send(now=NOW) == 2

    by_recipient = {m["To"]: m for m in smtp_sink.messages}
    assert sorted(by_recipient) == ["owner@example.com", "teammate@example.com"]
    mail = by_recipient["owner@example.com"]
    assert mail["Subject"] == "Kontor: 2 tasks due today"
    text = body(mail)
    assert "Angebot nachfassen" in text
    assert "10:10 Rückruf Müller" in text
    assert f"https://crm.example.com/activities/tasks/{all_day.uuid}/" in text
    assert f"https://crm.example.com/activities/tasks/{soon.uuid}/" in text
    for absent in ("Später heute", "Morgen", "Gestern", "Erledigt", "Vom Kollegen"):
        assert absent not in text
    assert by_recipient["teammate@example.com"]["Subject"] == "Kontor: 1 task due today"
    reminded = set(Task.objects.filter(reminder_sent_at=NOW).values_list("title", flat=True))
    assert reminded == {"Angebot nachfassen", "Rückruf Müller", "Vom Kollegen"}
    later.refresh_from_db()
    assert later.reminder_sent_at is None


def test_sending_again_sends_nothing_new_and_a_timed_task_follows_when_due(smtp_sink, owner):
    task_of(owner, title="Ganztägig", due_date=TODAY)
    task_of(owner, title="Mittags", due_date=TODAY, due_time=dt.time(12, 0))
    assert task_reminders_send(now=NOW) == 1
    assert task_reminders_send(now=NOW + dt.timedelta(minutes=5)) == 0
    assert task_reminders_send(now=dt.datetime(2025, 5, 2, 11, 45, tzinfo=BERLIN)) == 1
    assert len(smtp_sink.messages) == 2
    assert "Mittags" in body(smtp_sink.messages[1])
    assert "Ganztägig" not in body(smtp_sink.messages[1])


def test_today_is_the_assignees_today(smtp_sink, team):
    new_york = UserFactory(username="ny", time_zone="America/New_York", teams=[team])
    berlin = UserFactory(username="berlin", time_zone="Europe/Berlin", teams=[team])
    task_of(new_york, title="NY", due_date=TODAY)
    task_of(berlin, title="Berlin", due_date=TODAY)
    # 02:00 UTC on May 2: already May 2 in Berlin, still May 1 in New York.
    now = dt.datetime(2025, 5, 2, 2, 0, tzinfo=dt.UTC)
    assert task_reminders_send(now=now) == 1
    assert [m["To"] for m in smtp_sink.messages] == ["berlin@example.com"]


def test_a_claimed_task_is_not_claimed_again(owner):
    task = task_of(owner, due_date=TODAY)
    assert _claim(task, NOW) is True
    assert _claim(task, NOW) is False  # the second worker gets nothing


def test_a_task_claimed_by_another_worker_is_not_mailed(smtp_sink, owner):
    task = task_of(owner, title="Schon unterwegs", due_date=TODAY)
    Task.objects.filter(pk=task.pk).update(reminder_sent_at=NOW)  # the other worker's claim
    assert task_reminders_send(now=NOW) == 0
    assert smtp_sink.messages == []


def test_a_failed_send_releases_the_tasks_for_the_next_round(settings, owner):
    task = task_of(owner, due_date=TODAY)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    assert task_reminders_send(now=NOW) == 0
    task.refresh_from_db()
    assert task.reminder_sent_at is None


def test_users_without_address_or_inactive_get_no_mail(smtp_sink, team):
    silent = UserFactory(username="silent", email="", teams=[team])
    gone = UserFactory(username="gone", is_active=False, teams=[team])
    task_of(silent, due_date=TODAY)
    task_of(gone, due_date=TODAY)
    assert task_reminders_send(now=NOW) == 0
    assert smtp_sink.messages == []
    assert Task.objects.filter(reminder_sent_at__isnull=False).count() == 0


def test_the_background_task_sends_the_reminders(smtp_sink, owner):
    task_of(owner, title="Heute", due_date=timezone.localdate())
    send_reminders.call()
    assert [m["To"] for m in smtp_sink.messages] == ["owner@example.com"]
