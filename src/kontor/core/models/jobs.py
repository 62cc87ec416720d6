"""What every long background job keeps: its status, its progress, the cursor of its
last committed chunk and a heartbeat. ``kontor.core.jobs`` runs, recovers, cancels and
retries any concrete subclass; the subclass names the task that runs it."""

from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", pgettext_lazy("job", "Cancelled")


ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
ENDED = (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)

# Stored in ``error`` when the sweep gives a job up: translated when shown, so each
# reader sees it in their own language rather than in the worker's.
WORKER_LOST = "worker_lost"


class BackgroundJob(models.Model):
    """A job a worker runs in chunks, one transaction per chunk.

    ``cursor`` is where the last committed chunk ended (a primary key): a resumed job
    goes on from there. ``heartbeat_at`` moves with every chunk; a running job whose
    heartbeat is older than ``JOB_STALE_SECONDS`` lost its worker. ``attempts`` counts
    the runs since the job was started or retried by a user; ``lease`` counts every
    run and tells a worker whether the job is still its own."""

    # Dotted path of the django-tasks task that runs a job given its primary key.
    task_path: str = ""

    status = models.CharField(
        _("status"), max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    cursor = models.BigIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        abstract = True

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, self.done * 100 // self.total)

    @property
    def is_running(self) -> bool:
        return self.status in ACTIVE

    @property
    def finished(self) -> bool:
        return self.status in ENDED

    @property
    def can_cancel(self) -> bool:
        return self.status in ACTIVE

    @property
    def can_retry(self) -> bool:
        return self.status in (JobStatus.FAILED, JobStatus.CANCELLED)

    @property
    def error_message(self) -> str:
        if self.error == WORKER_LOST:
            return gettext(
                "The background worker stopped several times while running this job, "
                "so it was given up. The work done so far is kept; retry to finish it."
            )
        return self.error
