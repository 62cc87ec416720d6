"""The periodic scheduler: each task enqueued once per interval across processes
(the shared cache), unknown paths skipped, and `kontor tick` for cron."""

import time
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from kontor.core import scheduler
from kontor.core.models import Team

pytestmark = pytest.mark.django_db

PATH = "tests.core.test_scheduler.make_team"


@task()
def make_team() -> int:
    Team.objects.create(name=f"Periodic {Team.objects.count()}")
    return Team.objects.count()


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def queued(path: str = PATH) -> int:
    return DBTaskResult.objects.filter(task_path=path).count()


def test_a_due_task_is_enqueued_once_within_its_interval(settings):
    settings.PERIODIC_TASKS = [(PATH, 60)]
    assert scheduler.enqueue_due() == [PATH]
    # A second round, or a second worker process sharing the cache: nothing.
    assert scheduler.enqueue_due() == []
    assert scheduler.enqueue_due() == []
    assert queued() == 1


def test_a_task_is_enqueued_again_once_its_interval_has_passed(settings):
    settings.PERIODIC_TASKS = [(PATH, 1)]
    assert scheduler.enqueue_due() == [PATH]
    time.sleep(2.1)  # the database cache counts in whole seconds
    assert scheduler.enqueue_due() == [PATH]
    assert queued() == 2


def test_each_task_has_its_own_interval(settings):
    settings.PERIODIC_TASKS = [(PATH, 60), ("tests.core.test_scheduler.other", 1)]
    assert scheduler.enqueue_due() == [PATH, "tests.core.test_scheduler.other"]
    time.sleep(2.1)  # the database cache counts in whole seconds
    assert scheduler.enqueue_due() == ["tests.core.test_scheduler.other"]


def test_a_path_that_does_not_import_is_skipped(settings, caplog):
    settings.PERIODIC_TASKS = [("kontor.nowhere.tasks.missing", 60), (PATH, 60)]
    assert scheduler.enqueue_due() == [PATH]
    assert "kontor.nowhere.tasks.missing does not import" in caplog.text


def test_the_configured_tasks_import():
    from django.conf import settings

    paths = [path for path, _seconds in settings.PERIODIC_TASKS]
    assert paths[0] == "kontor.activities.tasks.send_reminders"
    assert scheduler.resolve("kontor.activities.tasks.send_reminders") is not None


def test_tick_enqueues_every_task_once(settings):
    settings.PERIODIC_TASKS = [(PATH, 60)]
    out = StringIO()
    call_command("tick", stdout=out)
    assert out.getvalue() == f"{PATH}: enqueued\n"
    assert queued() == 1
    assert Team.objects.filter(name__startswith="Periodic").count() == 0
    # The worker's scheduler does not enqueue it again within the interval.
    assert scheduler.enqueue_due() == []


def test_tick_run_runs_the_tasks_here(settings):
    settings.PERIODIC_TASKS = [(PATH, 60), ("kontor.nowhere.tasks.missing", 60)]
    out = StringIO()
    call_command("tick", "--run", stdout=out)
    assert Team.objects.filter(name__startswith="Periodic").count() == 1
    assert out.getvalue() == f"{PATH}: 1\n"
    assert queued() == 0


def test_the_loop_stops_when_told(settings):
    # Nothing to enqueue: the thread has its own database connection, and on
    # PostgreSQL what it wrote would be committed and outlive this test.
    settings.PERIODIC_TASKS = []
    thread, stop = scheduler.start_thread(interval=0.05)
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


@task()
def other() -> None:
    return None
