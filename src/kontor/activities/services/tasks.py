"""Writes on tasks and follow-ups (Wiedervorlagen): one function per use case."""

from datetime import date, time

from django.db import transaction
from django.utils.translation import gettext as _  # noqa: F401

from kontor.activities.models import Activity, Task, TaskPriority
from kontor.activities.services.activities import clean_text, require_can_log, require_visible
from kontor.core import audit
from kontor.core.models import AuditAction
from kontor.customers.models import Organization, Person


@transaction.atomic
def task_create(
    *,
    actor,
    title: str,
    due_date: date,
    assignee=None,
    due_time: time | None = None,
    priority: str = TaskPriority.NORMAL,
    description: str = "",
    person: Person | None = None,
    organization: Organization | None = None,
    activity: Activity | None = None,
    recurrence: str = "",
    recurrence_interval: int = 1,
    via: str = "ui",
) -> Task:
    """Create a task for ``assignee`` (default: the actor), in the assignee's team."""
    require_can_log(actor)
    require_visible(actor, person)
    require_visible(actor, organization)
    assignee = assignee or actor
    task = Task(
        title=clean_text(title, field="title", required=True, max_length=200),
        description=clean_text(description, field="description", required=False, max_length=20_000),
        due_date=due_date,
        due_time=due_time,
        priority=priority,
        owner=assignee,
        team=assignee.primary_team if assignee is not None else None,
        created_by=actor,
        person=person,
        organization=organization,
        activity=activity,
        recurrence=recurrence,
        recurrence_interval=recurrence_interval,
    )
    task.full_clean()
    task.save()
    audit.record(actor=actor, action=AuditAction.CREATE, instance=task, via=via)
    return task
