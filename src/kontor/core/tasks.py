"""Core's own background work (django-tasks)."""

from django_tasks import task

from kontor.core import jobs


@task()
def sweep_stale_jobs() -> dict[str, int]:
    """Resume or give up the jobs whose worker died (periodic, and in ``kontor tick``)."""
    return jobs.recover_all_stale()
