"""Task services: create, change (optimistic lock), done with recurrence, reopen,
delete; who may."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from kontor.activities.models import Recurrence, Task, TaskStatus
from kontor.activities.services import tasks as services
from kontor.activities.services.tasks import next_due_date
from kontor.core.models import AuditAction, AuditEntry
from tests.activities.factories import TaskFactory
from tests.core.factories import UserFactory
from tests.customers.factories import PersonFactory, owned_by

pytestmark = pytest.mark.django_db

D = dt.date


def task_of(user, **kwargs) -> Task:
    return TaskFactory(owner=user, team=user.teams.order_by("id").first(), **kwargs)


def state():
    return sorted(
        Task.objects.values_list("title", "status", "due_date", "owner__username", "version")
    )


# --- Recurrence dates ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "recurrence", "interval", "expected"),
    [
        (D(2025, 3, 10), Recurrence.DAILY, 1, D(2025, 3, 11)),
        (D(2025, 12, 31), Recurrence.DAILY, 3, D(2026, 1, 3)),
        (D(2025, 3, 10), Recurrence.WEEKLY, 2, D(2025, 3, 24)),
        (D(2025, 1, 31), Recurrence.MONTHLY, 1, D(2025, 2, 28)),
        (D(2024, 1, 31), Recurrence.MONTHLY, 1, D(2024, 2, 29)),
        (D(2025, 3, 31), Recurrence.MONTHLY, 1, D(2025, 4, 30)),
        (D(2025, 11, 30), Recurrence.MONTHLY, 3, D(2026, 2, 28)),
        (D(2025, 12, 15), Recurrence.MONTHLY, 1, D(2026, 1, 15)),
        (D(2024, 2, 29), Recurrence.YEARLY, 1, D(2025, 2, 28)),
        (D(2024, 2, 29), Recurrence.YEARLY, 4, D(2028, 2, 29)),
        # Past the end of the calendar the series ends (it answered 500).
        (D(9999, 12, 31), Recurrence.DAILY, 1, None),
        (D(9999, 12, 28), Recurrence.WEEKLY, 1, None),
        (D(9999, 12, 15), Recurrence.MONTHLY, 1, None),
        (D(9999, 1, 1), Recurrence.YEARLY, 1, None),
        (D(9999, 11, 30), Recurrence.MONTHLY, 1, D(9999, 12, 30)),
    ],
)
def test_next_due_date(day, recurrence, interval, expected):
    assert next_due_date(day, recurrence, interval) == expected


def test_the_last_occurrence_on_the_last_day_of_the_calendar_is_done_without_a_next(owner):
    task = services.task_create(
        actor=owner, title="Jahresende", due_date=D(9999, 12, 31), recurrence=Recurrence.YEARLY
    )
    assert services.task_done(actor=owner, task=task).status == TaskStatus.DONE
    assert Task.objects.count() == 1


# --- Create ----------------------------------------------------------------------------


def test_create_assigns_to_the_actor_in_their_team_and_audits(owner, team):
    task = services.task_create(actor=owner, title="  Angebot nachfassen ", due_date=D(2025, 5, 2))
    assert (task.title, task.owner, task.team, task.created_by, task.status, task.version) == (
        "Angebot nachfassen",
        owner,
        team,
        owner,
        TaskStatus.OPEN,
        1,
    )
    entry = AuditEntry.objects.get(object_id=task.pk, action=AuditAction.CREATE)
    assert entry.changes["title"] == [None, "Angebot nachfassen"]


def test_create_for_a_colleague_puts_it_in_their_team(owner, outsider, other_team):
    task = services.task_create(
        actor=owner, title="Rückruf", due_date=D(2025, 5, 2), assignee=outsider
    )
    assert (task.owner, task.team, task.created_by) == (outsider, other_team, owner)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"title": ""}, "title"),
        ({"due_date": None}, "due_date"),
        ({"due_date": "2025-05-02"}, "due_date"),
        ({"priority": "urgent"}, "priority"),
        ({"recurrence": "hourly"}, "recurrence"),
        ({"recurrence": Recurrence.DAILY, "recurrence_interval": 0}, "recurrence_interval"),
        ({"recurrence_interval": 1000}, "recurrence_interval"),
    ],
)
def test_create_refuses_invalid_values_with_a_field_error(owner, kwargs, field):
    values = {"title": "Rückruf", "due_date": D(2025, 5, 2), **kwargs}
    with pytest.raises(ValidationError) as exc:
        services.task_create(actor=owner, **values)
    assert list(exc.value.message_dict) == [field]
    assert Task.objects.count() == 0


def test_create_refuses_an_inactive_assignee(owner, team):
    gone = UserFactory(username="gone", is_active=False, teams=[team])
    with pytest.raises(ValidationError) as exc:
        services.task_create(actor=owner, title="x", due_date=D(2025, 5, 2), assignee=gone)
    assert list(exc.value.message_dict) == ["assignee"]
    assert Task.objects.count() == 0


def test_create_needs_activities_edit(readonly):
    with pytest.raises(PermissionDenied):
        services.task_create(actor=readonly, title="x", due_date=D(2025, 5, 2))
    assert Task.objects.count() == 0


def test_create_on_a_customer_one_cannot_see_is_404(owner, outsider):
    person = owned_by(PersonFactory, outsider)
    with pytest.raises(Http404):
        services.task_create(actor=owner, title="x", due_date=D(2025, 5, 2), person=person)
    assert Task.objects.count() == 0


# --- Update ----------------------------------------------------------------------------


def test_update_changes_fields_raises_the_version_and_audits(owner, teammate):
    task = task_of(owner, title="alt", due_date=D(2025, 5, 2))
    saved = services.task_update(
        actor=owner,
        task=task,
        data={"title": "neu", "due_date": D(2025, 5, 9), "assignee": teammate},
        version=1,
    )
    assert (saved.title, saved.due_date, saved.owner, saved.version) == (
        "neu",
        D(2025, 5, 9),
        teammate,
        2,
    )
    entry = AuditEntry.objects.get(object_id=task.pk, action=AuditAction.UPDATE)
    assert entry.changes["title"] == ["alt", "neu"]


def test_update_with_a_stale_version_is_a_conflict_and_changes_nothing(owner):
    task = task_of(owner, title="alt")
    services.task_update(actor=owner, task=task, data={"title": "erste"}, version=1)
    before = state()
    with pytest.raises(services.EditConflict) as exc:
        services.task_update(actor=owner, task=task, data={"title": "zweite"}, version=1)
    assert exc.value.current.version == 2
    assert state() == before


def test_update_of_the_due_date_resets_the_reminder(owner):
    task = task_of(owner, reminder_sent_at=dt.datetime(2025, 5, 2, 6, tzinfo=dt.UTC))
    saved = services.task_update(actor=owner, task=task, data={"due_date": D(2025, 5, 9)})
    assert saved.reminder_sent_at is None


def test_an_outsider_cannot_change_or_complete_a_task(owner, outsider):
    task = task_of(owner)
    before = state()
    for call in (
        lambda: services.task_update(actor=outsider, task=task, data={"title": "x"}),
        lambda: services.task_done(actor=outsider, task=task),
        lambda: services.task_delete(actor=outsider, task=task),
    ):
        with pytest.raises(Http404):
            call()
    assert state() == before


def test_a_teammate_may_complete_a_team_task_and_a_creator_theirs(owner, teammate, outsider):
    team_task = task_of(owner)
    assert services.task_done(actor=teammate, task=team_task).done_by == teammate
    delegated = services.task_create(
        actor=owner, title="für dich", due_date=D(2025, 5, 2), assignee=outsider
    )
    assert services.task_done(actor=owner, task=delegated).status == TaskStatus.DONE


def test_read_only_cannot_complete_a_visible_task(owner, readonly):
    task = task_of(owner)
    with pytest.raises(PermissionDenied):
        services.task_done(actor=readonly, task=task)
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


# --- Done, reopen, recurrence ----------------------------------------------------------


def test_done_sets_who_and_when_and_reopen_clears_them(owner):
    task = task_of(owner)
    done = services.task_done(actor=owner, task=task)
    assert (done.status, done.done_by, done.done_at is not None) == (TaskStatus.DONE, owner, True)
    reopened = services.task_reopen(actor=owner, task=task)
    assert (reopened.status, reopened.done_by, reopened.done_at) == (TaskStatus.OPEN, None, None)
    assert Task.objects.count() == 1


def test_done_on_a_repeating_task_creates_the_next_occurrence_once(owner):
    person = owned_by(PersonFactory, owner)
    task = task_of(
        owner,
        title="Monatsbericht",
        due_date=D(2025, 1, 31),
        due_time=dt.time(9, 30),
        recurrence=Recurrence.MONTHLY,
        person=person,
    )
    services.task_done(actor=owner, task=task)
    services.task_done(actor=owner, task=task)  # twice: still one successor
    services.task_reopen(actor=owner, task=task)
    services.task_done(actor=owner, task=task)  # done again: still one successor
    following = Task.objects.get(previous=task)
    assert (
        following.title,
        following.due_date,
        following.due_time,
        following.status,
        following.owner,
        following.person,
        following.recurrence,
    ) == (
        "Monatsbericht",
        D(2025, 2, 28),
        dt.time(9, 30),
        TaskStatus.OPEN,
        owner,
        person,
        Recurrence.MONTHLY,
    )
    assert Task.objects.count() == 2
    # The successor done: its own successor, from its own due date.
    services.task_done(actor=owner, task=following)
    assert Task.objects.get(previous=following).due_date == D(2025, 3, 28)


def test_done_on_a_task_that_does_not_repeat_creates_nothing(owner):
    services.task_done(actor=owner, task=task_of(owner))
    assert Task.objects.count() == 1


def test_delete_removes_and_audits(owner):
    task = task_of(owner, title="weg")
    services.task_delete(actor=owner, task=task)
    assert Task.objects.count() == 0
    assert AuditEntry.objects.filter(object_id=task.pk, action=AuditAction.DELETE).count() == 1
