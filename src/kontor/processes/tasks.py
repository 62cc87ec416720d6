"""Background work on processes (django-tasks), run periodically by the worker's
scheduler (settings.PERIODIC_TASKS): overdue steps and the "customer inactive"
trigger. Both are idempotent and bounded per run (see the services)."""

from django_tasks import task

from kontor.processes.deadlines import deadlines_check
from kontor.processes.triggers import inactive_customers_start


@task()
def check_deadlines() -> int:
    """Warn the assignees of overdue steps and escalate to their team leads; the
    number of e-mails sent."""
    return deadlines_check()


@task()
def check_inactive_customers() -> int:
    """Start the processes triggered by a customer's inactivity; the number started."""
    return inactive_customers_start()
