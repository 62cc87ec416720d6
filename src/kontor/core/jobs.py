"""Long background jobs that survive their worker: run in chunks with a heartbeat,
resumed or given up when the worker dies, cancelled and retried by their user.

A job is a row of a concrete ``BackgroundJob`` model (a bulk change, a duplicate
scan …); ``run`` drives it::

    jobs.run(DuplicateScan, scan_id, chunk=compare_next_batch, end=drop_stale_pairs)

- ``run`` claims a queued job (status "running", one more attempt, a new ``lease``),
  then calls ``chunk(job)`` again and again, each call in its own transaction together
  with the progress it reports (``Progress``: the new cursor, records done, counters),
  until ``chunk`` returns None. A chunk is committed with its progress or not at all.
- Between chunks the heartbeat moves; that same write finds out whether the job is
  still this worker's: cancelled by its user, or taken over after the sweep decided
  this worker was dead, the job stops here and the chunk in hand is not written.
- On SQLite the worker pauses briefly after each chunk (``let_other_writers_in``):
  SQLite has one writer at a time, and back-to-back chunk transactions would starve
  every other writer — a user's "Cancel" would wait for the lock until its busy
  timeout. Should a cancel or retry still find the database locked, it raises
  ``JobBusy`` and the view answers "try again in a moment" instead of an error.
- On SIGTERM the worker asks jobs to stop (``request_shutdown``): a job puts itself
  back in the queue at its last committed chunk and returns, and the next worker
  resumes it.
- ``recover_stale`` (the periodic ``sweep_stale_jobs`` task, ``kontor tick``) finds
  running jobs whose heartbeat is older than ``JOB_STALE_SECONDS``: each is queued
  again, or after ``JOB_MAX_ATTEMPTS`` runs failed with a message.

Core imports no domain app: the job models are found among the installed models, and
each names the task that runs it (``task_path``)."""

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy

from kontor.core import audit
from kontor.core.models import AuditAction
from kontor.core.models.jobs import ACTIVE, WORKER_LOST, BackgroundJob, JobStatus

logger = logging.getLogger(__name__)

_shutdown = threading.Event()


class JobStopped(Exception):
    """The job is no longer this worker's to run: cancelled, taken over, or the
    worker is shutting down. Nothing of the chunk in hand is written."""


class JobBusy(Exception):
    """A cancel or retry found the database locked by the job's worker (SQLite's one
    writer); nothing changed, the user may try again in a moment."""


BUSY_MESSAGE = gettext_lazy("Kontor is busy with this job; try again in a moment.")


class JobFailed(Exception):
    """A job cannot go on for a reason its user should read (the message); the job
    is marked failed and the task ends without an error of its own."""


@dataclass
class Progress:
    """What one committed chunk moved: ``cursor`` (the last primary key done),
    ``done`` (records done in this chunk) and counters to add (``{"changed": 3}``)."""

    cursor: int
    done: int
    counters: dict[str, int] = field(default_factory=dict)


def stale_after() -> timedelta:
    return timedelta(seconds=getattr(settings, "JOB_STALE_SECONDS", 120))


def max_attempts() -> int:
    return getattr(settings, "JOB_MAX_ATTEMPTS", 3)


def sqlite_pause() -> float:
    """Seconds a worker leaves SQLite's writer lock free after each chunk: long enough
    for a waiting writer's busy handler (it polls every 50-100 ms) to get in."""
    return getattr(settings, "JOB_SQLITE_PAUSE_SECONDS", 0.1)


# --- Shutdown ------------------------------------------------------------------------------


def request_shutdown() -> None:
    """Called by the worker on SIGTERM/SIGINT: running jobs stop after their chunk."""
    _shutdown.set()


def shutdown_requested() -> bool:
    return _shutdown.is_set()


def reset_shutdown() -> None:
    _shutdown.clear()


# --- Running ---------------------------------------------------------------------------------


def _owned(job: BackgroundJob) -> QuerySet:
    """The job's row while it is still running under this worker's lease."""
    return type(job)._base_manager.filter(pk=job.pk, status=JobStatus.RUNNING, lease=job.lease)


def claim(model: type[BackgroundJob], pk: int) -> BackgroundJob | None:
    """Mark a queued job running for this worker; None if it is not queued (done,
    cancelled, deleted, or another worker has it)."""
    now = timezone.now()
    claimed = model._base_manager.filter(pk=pk, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING,
        attempts=F("attempts") + 1,
        lease=F("lease") + 1,
        heartbeat_at=now,
        started_at=Coalesce(F("started_at"), now),
        finished_at=None,
        error="",
    )
    return model._base_manager.get(pk=pk) if claimed else None


def let_other_writers_in() -> None:
    """Between chunks on SQLite: sleep outside any transaction so that a waiting
    writer (a user's cancel, a request saving a record) takes the one writer lock.
    Without it the next chunk's transaction follows at once and the others wait until
    their busy timeout ends in "database is locked". PostgreSQL locks rows, not the
    database: no pause there."""
    if connection.vendor == "sqlite" and sqlite_pause() > 0:
        time.sleep(sqlite_pause())


def heartbeat(job: BackgroundJob) -> None:
    """Between chunks: show the job is alive, and stop it if it is no longer ours or
    the worker is shutting down (then it goes back to the queue to resume)."""
    if shutdown_requested():
        release(job)
        raise JobStopped
    if not _owned(job).update(heartbeat_at=timezone.now()):
        raise JobStopped


def advance(job: BackgroundJob, progress: Progress) -> None:
    """Record a chunk's progress, in the chunk's transaction; JobStopped (which rolls
    the chunk back) if the job was cancelled or taken over meanwhile."""
    changes = {name: F(name) + value for name, value in progress.counters.items()}
    moved = _owned(job).update(
        cursor=progress.cursor,
        done=F("done") + progress.done,
        heartbeat_at=timezone.now(),
        **changes,
    )
    if not moved:
        raise JobStopped
    job.cursor = progress.cursor
    job.done += progress.done
    for name, value in progress.counters.items():
        setattr(job, name, getattr(job, name) + value)


def release(job: BackgroundJob) -> None:
    """Give a running job back to the queue at its last committed chunk."""
    if _owned(job).update(status=JobStatus.QUEUED):
        _enqueue(job)


def finish(job: BackgroundJob) -> None:
    _owned(job).update(status=JobStatus.DONE, finished_at=timezone.now())


def fail(job: BackgroundJob, message: str) -> None:
    _owned(job).update(status=JobStatus.FAILED, error=message[:500], finished_at=timezone.now())


def run(
    model: type[BackgroundJob],
    pk: int,
    *,
    chunk: Callable[[BackgroundJob], Progress | None],
    begin: Callable[[BackgroundJob], None] | None = None,
    end: Callable[[BackgroundJob], None] | None = None,
) -> BackgroundJob | None:
    """Run the job ``pk`` of ``model`` to its end, a chunk per transaction (see the
    module). ``begin(job)`` prepares a run (first or resumed; it may set ``total``),
    ``end(job)`` runs in the last transaction with the job's completion. Returns the
    job, or None if there was nothing to run."""
    job = claim(model, pk)
    if job is None:
        return None
    try:
        if begin is not None:
            begin(job)
        while True:
            heartbeat(job)
            with transaction.atomic():
                progress = chunk(job)
                if progress is None:
                    if end is not None:
                        end(job)
                    finish(job)
                    break
                advance(job, progress)
            let_other_writers_in()
    except JobStopped:
        logger.info("Job %s %s stopped at cursor %s", model.__name__, pk, job.cursor)
    except JobFailed as exc:
        fail(job, str(exc))
    except Exception as exc:
        fail(job, str(exc) or type(exc).__name__)
        raise
    job.refresh_from_db()
    return job


# --- Recovery ----------------------------------------------------------------------------------


def job_models() -> list[type[BackgroundJob]]:
    return [m for m in apps.get_models() if issubclass(m, BackgroundJob)]


def _enqueue(job: BackgroundJob) -> None:
    task = import_string(type(job).task_path)
    transaction.on_commit(lambda: task.enqueue(job.pk))


def stale(queryset: QuerySet) -> QuerySet:
    """Running jobs whose worker has not been heard of for JOB_STALE_SECONDS."""
    cutoff = timezone.now() - stale_after()
    return queryset.filter(status=JobStatus.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True)
    )


@transaction.atomic
def recover_stale(queryset: QuerySet) -> dict[str, int]:
    """Queue each stale job of ``queryset`` again to resume from its last chunk, or
    mark it failed once it has had JOB_MAX_ATTEMPTS runs. Each row is changed only
    if it is still as read (another sweep may have been first)."""
    counts = {"resumed": 0, "failed": 0}
    for job in stale(queryset).only("pk", "attempts", "lease"):
        row = type(job)._base_manager.filter(pk=job.pk, status=JobStatus.RUNNING, lease=job.lease)
        if job.attempts >= max_attempts():
            if row.update(status=JobStatus.FAILED, error=WORKER_LOST, finished_at=timezone.now()):
                counts["failed"] += 1
        elif row.update(status=JobStatus.QUEUED):
            _enqueue(job)
            counts["resumed"] += 1
    return counts


def recover_all_stale() -> dict[str, int]:
    """Recover the stale jobs of every job model (the periodic sweep)."""
    totals = {"resumed": 0, "failed": 0}
    for model in job_models():
        for name, count in recover_stale(model._base_manager.all()).items():
            totals[name] += count
    return totals


# --- What users do -----------------------------------------------------------------------------


@contextlib.contextmanager
def _busy_when_locked() -> Iterator[None]:
    """A user's change to a job, in one transaction: SQLite's "database is locked" (or
    "… table is locked": the worker held the writer lock past the busy timeout) is
    JobBusy, with nothing changed."""
    try:
        with transaction.atomic():
            yield
    except OperationalError as exc:
        if "locked" in str(exc).lower():
            raise JobBusy from exc
        raise


def _user_change(job: BackgroundJob, actor, allowed, *, enqueue=False, **values) -> bool:
    """Set ``values`` on the job if its status is one of ``allowed``, audited as the
    actor's change, and queue it to run if ``enqueue``; False if the job was in
    another state."""
    before = audit.snapshot(job)
    with _busy_when_locked():
        changed = type(job)._base_manager.filter(pk=job.pk, status__in=allowed).update(**values)
        if changed:
            job.refresh_from_db()
            audit.record(actor=actor, action=AuditAction.UPDATE, instance=job, before=before)
            if enqueue:
                _enqueue(job)
    job.refresh_from_db()
    return bool(changed)


def job_cancel(*, job: BackgroundJob, actor=None) -> bool:
    """Stop a queued or running job: its worker notices before its next chunk and
    leaves what is committed as it is. False if the job had already ended; JobBusy
    if the database stayed locked (nothing changed)."""
    return _user_change(job, actor, ACTIVE, status=JobStatus.CANCELLED, finished_at=timezone.now())


def job_retry(*, job: BackgroundJob, actor=None) -> bool:
    """Queue a failed or cancelled job again: it resumes from its last committed
    chunk with a fresh count of attempts. False if it was not failed or cancelled;
    JobBusy if the database stayed locked (nothing changed)."""
    return _user_change(
        job,
        actor,
        (JobStatus.FAILED, JobStatus.CANCELLED),
        enqueue=True,
        status=JobStatus.QUEUED,
        attempts=0,
        error="",
        finished_at=None,
    )
