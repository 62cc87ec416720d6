"""Long background jobs (the duplicate scan, bulk changes) survive their worker: a job
left "running" by a dead worker is resumed from its last committed chunk or given up
with a message, the user can cancel and retry it, a worker asked to stop puts its job
back in the queue; and a scan's writes grow with batches of pairs, not with pairs."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from kontor.core import jobs
from kontor.core.models import AuditEntry, BulkJob, JobStatus
from kontor.core.tasks import sweep_stale_jobs
from kontor.customers import bulk, list_tasks, services, tasks
from kontor.customers.models import DuplicatePair, DuplicateScan, Person
from tests.customers.factories import PersonFactory, owned_by

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
LONG_AGO = timedelta(minutes=10)


@pytest.fixture(autouse=True)
def _no_shutdown():
    jobs.reset_shutdown()
    yield
    jobs.reset_shutdown()


def people(actor, count: int, *, email: str = "same@example.de") -> list[Person]:
    """``count`` persons who are all each other's duplicates (the same e-mail)."""
    return [
        services.person_create(
            actor=actor, data={"first_name": f"P{i}", "last_name": f"Name{i}", "email": email}
        )
        for i in range(count)
    ]


def pairs() -> list[tuple]:
    return sorted(DuplicatePair.objects.values_list("a_id", "b_id", "score", "reasons", "status"))


def worker_dies_after(job, chunks: int, chunk, begin=None) -> None:
    """What a worker does before ``kill -9``: claim the job and commit ``chunks``
    chunks; then nothing more, and its heartbeat grows old."""
    job = jobs.claim(type(job), job.pk)
    if begin is not None:
        begin(job)
    for _ in range(chunks):
        with transaction.atomic():
            jobs.advance(job, chunk(job))
    type(job).objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - LONG_AGO)


def full_scan_pairs(admin, settings, django_capture_on_commit_callbacks) -> list[tuple]:
    """The pairs an uninterrupted scan stores, to compare a resumed one with."""
    settings.TASKS = IMMEDIATE
    with django_capture_on_commit_callbacks(execute=True):
        tasks.duplicate_scan_start(kind="person", actor=admin)
    found = pairs()
    DuplicatePair.objects.all().delete()
    DuplicateScan.objects.all().delete()
    return found


# --- A worker that died --------------------------------------------------------------------


def test_a_scan_whose_worker_died_resumes_after_its_last_batch(
    admin, owner, settings, monkeypatch, django_capture_on_commit_callbacks
):
    # given five alike persons, scanned two at a time, and the pairs a whole scan finds
    monkeypatch.setattr(tasks, "SCAN_BATCH_SIZE", 2)
    persons = people(owner, 5)
    expected = full_scan_pairs(admin, settings, django_capture_on_commit_callbacks)
    assert len(expected) == 10
    # and a scan whose worker died after two batches (four persons)
    scan = DuplicateScan.objects.create(kind="person", started_by=admin)
    worker_dies_after(scan, 2, tasks._compare_next_batch, begin=tasks._count)
    scan.refresh_from_db()
    assert (scan.status, scan.done, scan.total, scan.cursor) == ("running", 4, 5, persons[3].pk)
    # when the periodic sweep runs
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_stale_jobs.call() == {"resumed": 1, "failed": 0}
    # then the scan went on from the fifth person and ended with the same pairs
    scan.refresh_from_db()
    assert (scan.status, scan.done, scan.total, scan.attempts) == ("done", 5, 5, 2)
    assert scan.pairs_found == 10
    assert pairs() == expected


def test_a_bulk_change_whose_worker_died_resumes_and_changes_each_record_once(
    owner, teammate, settings, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(bulk, "CHUNK", 2)
    for i in range(5):
        owned_by(PersonFactory, owner, last_name=f"Name{i}")
    # The filter is one the change itself affects: resumed, it still finds the rest.
    job = BulkJob.objects.create(
        entity="customers.person",
        action="set_owner",
        actor=owner,
        total=5,
        params={"value": str(teammate.uuid), "query": f"owner={owner.uuid}"},
    )
    records = Person.objects.filter(owner=owner)
    # The dead worker: one chunk of two committed.
    first_two = list(records.order_by("pk")[:2])
    with transaction.atomic():
        job = jobs.claim(BulkJob, job.pk)
        changed = bulk.records_bulk_change(
            records=Person.objects.filter(pk__in=[p.pk for p in first_two]),
            actor=owner,
            action="set_owner",
            target=teammate,
            via="bulk",
        )
        jobs.advance(
            job, jobs.Progress(cursor=first_two[-1].pk, done=2, counters={"changed": changed})
        )
    BulkJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - LONG_AGO)
    settings.TASKS = IMMEDIATE
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.recover_all_stale() == {"resumed": 1, "failed": 0}
    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.changed) == ("done", 5, 5, 5)
    assert Person.objects.filter(owner=teammate).count() == 5
    assert AuditEntry.objects.filter(via="bulk").count() == 5


def test_a_job_is_given_up_with_a_message_after_too_many_attempts(
    client, admin, owner, settings, django_capture_on_commit_callbacks
):
    settings.JOB_MAX_ATTEMPTS = 3
    people(owner, 3)
    scan = DuplicateScan.objects.create(
        kind="person",
        status=JobStatus.RUNNING,
        attempts=3,
        lease=3,
        done=1,
        total=3,
        heartbeat_at=timezone.now() - LONG_AGO,
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.recover_all_stale() == {"resumed": 0, "failed": 1}
    scan.refresh_from_db()
    assert (scan.status, scan.error, scan.done) == ("failed", "worker_lost", 1)
    assert DBTaskResult.objects.count() == 0  # not queued again
    client.force_login(admin)
    page = client.get(reverse("customers:duplicate_list"), {"kind": "person"})
    assert "The background worker stopped several times while running this job" in page.text
    assert reverse("customers:duplicate_scan_retry", args=[scan.pk]) in page.text
    # in the reader's language
    admin.language = "de"
    admin.save()
    page = client.get(reverse("customers:duplicate_list"), {"kind": "person"})
    assert "Der Hintergrund-Worker ist mehrmals ausgefallen" in page.text


def test_a_job_with_a_live_heartbeat_is_left_alone(owner):
    scan = DuplicateScan.objects.create(
        kind="person", status=JobStatus.RUNNING, attempts=1, lease=1, heartbeat_at=timezone.now()
    )
    assert jobs.recover_all_stale() == {"resumed": 0, "failed": 0}
    scan.refresh_from_db()
    assert scan.status == "running"


def test_kontor_tick_runs_the_sweep(settings):
    from io import StringIO

    from django.core.management import call_command

    assert ("kontor.core.tasks.sweep_stale_jobs", settings.JOB_SWEEP_SECONDS) in (
        settings.PERIODIC_TASKS
    )
    settings.PERIODIC_TASKS = [("kontor.core.tasks.sweep_stale_jobs", 60)]
    settings.JOB_MAX_ATTEMPTS = 1
    scan = DuplicateScan.objects.create(
        kind="person", status=JobStatus.RUNNING, attempts=1, lease=1, heartbeat_at=None
    )
    out = StringIO()
    call_command("tick", "--run", stdout=out)
    assert "sweep_stale_jobs: {'resumed': 0, 'failed': 1}" in out.getvalue()
    scan.refresh_from_db()
    assert scan.status == "failed"


# --- Starting a scan while one is stuck ----------------------------------------------------


def test_starting_a_scan_recovers_a_stuck_one_instead_of_handing_it_back(
    admin, owner, settings, django_capture_on_commit_callbacks
):
    people(owner, 3)
    stuck = DuplicateScan.objects.create(
        kind="person",
        status=JobStatus.RUNNING,
        attempts=1,
        lease=1,
        total=3,
        heartbeat_at=timezone.now() - LONG_AGO,
    )
    settings.TASKS = IMMEDIATE
    with django_capture_on_commit_callbacks(execute=True):
        started = tasks.duplicate_scan_start(kind="person", actor=admin)
    assert started.pk == stuck.pk
    stuck.refresh_from_db()
    assert (stuck.status, stuck.done, stuck.total, stuck.pairs_found) == ("done", 3, 3, 3)


def test_starting_a_scan_after_a_given_up_one_starts_a_new_scan(
    admin, owner, settings, django_capture_on_commit_callbacks
):
    settings.JOB_MAX_ATTEMPTS = 2
    stuck = DuplicateScan.objects.create(
        kind="person",
        status=JobStatus.RUNNING,
        attempts=2,
        lease=2,
        heartbeat_at=timezone.now() - LONG_AGO,
    )
    settings.TASKS = IMMEDIATE
    with django_capture_on_commit_callbacks(execute=True):
        started = tasks.duplicate_scan_start(kind="person", actor=admin)
    assert started.pk != stuck.pk
    stuck.refresh_from_db()
    assert stuck.status == "failed"
    assert DuplicateScan.objects.get(pk=started.pk).status == "done"


# --- Cancel and retry ------------------------------------------------------------------------


def test_a_scan_is_cancelled_between_batches_and_retried_from_the_ui(
    client, admin, owner, settings, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tasks, "SCAN_BATCH_SIZE", 2)
    people(owner, 5)
    expected = full_scan_pairs(admin, settings, django_capture_on_commit_callbacks)
    scan = DuplicateScan.objects.create(kind="person", started_by=admin)
    running = jobs.claim(DuplicateScan, scan.pk)
    tasks._count(running)
    with transaction.atomic():
        jobs.advance(running, tasks._compare_next_batch(running))
    client.force_login(admin)
    page = client.get(reverse("customers:duplicate_list"), {"kind": "person"})
    cancel = reverse("customers:duplicate_scan_cancel", args=[scan.pk])
    assert cancel in page.text
    # when the user cancels
    response = client.post(cancel, HTTP_HX_REQUEST="true")
    assert "was cancelled after 2 of 5 records" in response.text
    # then the worker stops before its next batch
    with pytest.raises(jobs.JobStopped):
        jobs.heartbeat(running)
    scan.refresh_from_db()
    assert (scan.status, scan.done) == ("cancelled", 2)
    # and a retry goes on from there to the same pairs as a whole scan
    retry = reverse("customers:duplicate_scan_retry", args=[scan.pk])
    assert retry in response.text
    with django_capture_on_commit_callbacks(execute=True):
        client.post(retry)
    scan.refresh_from_db()
    assert (scan.status, scan.done, scan.total, scan.attempts) == ("done", 5, 5, 1)
    assert pairs() == expected


def test_only_an_editor_cancels_or_retries_a_scan(client, readonly):
    scan = DuplicateScan.objects.create(kind="person", status=JobStatus.RUNNING)
    client.force_login(readonly)
    for name in ("duplicate_scan_cancel", "duplicate_scan_retry"):
        assert client.post(reverse(f"customers:{name}", args=[scan.pk])).status_code == 403
    scan.refresh_from_db()
    assert scan.status == "running"


def test_a_bulk_job_is_cancelled_and_retried_by_its_actor(
    client, owner, teammate, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(bulk, "CHUNK", 2)
    for i in range(5):
        owned_by(PersonFactory, owner, last_name=f"Name{i}")
    job = bulk.bulk_job_start(
        entity="customers.person",
        actor=owner,
        action="set_owner",
        value=str(teammate.uuid),
        params={"query": ""},
        total=5,
    )
    client.force_login(owner)
    page = client.get(reverse("customers:bulk_job", args=[job.pk]))
    cancel = reverse("customers:bulk_job_cancel", args=[job.pk])
    assert cancel in page.text
    response = client.post(cancel)
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "cancelled"
    list_tasks.bulk_change.func(job.pk)  # the queued task finds it cancelled
    assert Person.objects.filter(owner=teammate).count() == 0
    # another user may neither cancel nor retry it
    client.force_login(teammate)
    retry = reverse("customers:bulk_job_retry", args=[job.pk])
    assert client.post(retry).status_code == 404
    client.force_login(owner)
    page = client.get(reverse("customers:bulk_job", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert "Cancelled" in page.text and retry in page.text
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(retry)
    job.refresh_from_db()
    assert job.status == "queued"
    assert DBTaskResult.objects.get().task_path == "kontor.customers.list_tasks.bulk_change"
    list_tasks.bulk_change.func(job.pk)  # what the worker does
    job.refresh_from_db()
    assert (job.status, job.done, job.changed) == ("done", 5, 5)


# --- A worker asked to stop ------------------------------------------------------------------


def test_a_worker_shutting_down_puts_its_job_back_at_its_last_chunk(
    owner, teammate, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(bulk, "CHUNK", 2)
    for i in range(5):
        owned_by(PersonFactory, owner, last_name=f"Name{i}")
    job = BulkJob.objects.create(
        entity="customers.person",
        action="set_owner",
        actor=owner,
        total=5,
        params={"value": str(teammate.uuid), "query": ""},
    )
    jobs.request_shutdown()  # SIGTERM reached the worker
    with django_capture_on_commit_callbacks(execute=True):
        list_tasks.bulk_change.func(job.pk)
    job.refresh_from_db()
    assert (job.status, job.done, job.attempts) == ("queued", 0, 1)
    assert DBTaskResult.objects.get().task_path == "kontor.customers.list_tasks.bulk_change"
    jobs.reset_shutdown()  # the next worker
    list_tasks.bulk_change.func(job.pk)
    job.refresh_from_db()
    assert (job.status, job.done, job.changed) == ("done", 5, 5)


def test_the_worker_tells_jobs_to_stop_on_sigterm():
    import signal

    from kontor.core.management.commands.worker import KontorWorker

    worker = KontorWorker(
        queue_names=["*"],
        interval=1,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    )
    worker.running_task = True  # in the middle of a job: it does not exit at once
    worker.shutdown(signal.SIGTERM, None)
    assert jobs.shutdown_requested() and not worker.running


# --- Writes linear in the pairs --------------------------------------------------------------


def scan_queries(admin, settings, django_capture_on_commit_callbacks) -> int:
    settings.TASKS = IMMEDIATE
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=True),
    ):
        tasks.duplicate_scan_start(kind="person", actor=admin)
    return len(queries)


@pytest.mark.parametrize("count, new_pairs", [(12, 66), (24, 276)])
def test_a_scan_writes_pairs_in_batches(
    count, new_pairs, admin, owner, settings, monkeypatch, django_capture_on_commit_callbacks
):
    # given persons who are all alike, and writes of 100 pairs per statement
    monkeypatch.setattr(tasks, "PAIR_WRITE_BATCH", 100)
    people(owner, count)
    batches = -(-new_pairs // 100)
    # when the first scan inserts every pair, and a second one updates every pair
    first = scan_queries(admin, settings, django_capture_on_commit_callbacks)
    assert DuplicatePair.objects.count() == new_pairs
    DuplicatePair.objects.update(score=1, reasons=[])
    second = scan_queries(admin, settings, django_capture_on_commit_callbacks)
    # then both cost a fixed number of queries plus one per 100 pairs written
    assert first == FIXED_SCAN_QUERIES + batches
    assert second == FIXED_SCAN_QUERIES + batches
    assert {
        (score, tuple(reasons))
        for score, reasons in DuplicatePair.objects.values_list("score", "reasons")
    } == {(90, ("email",))}
    assert DuplicateScan.objects.filter(status="done").count() == 2


# A scan of one batch of records, besides the pair writes: recovering stale scans (3,
# in a savepoint), looking for a running one, creating it, claiming it (2), counting
# (2); the batch: heartbeat, savepoint, records, candidates, stored pairs, progress,
# release (7); the last, empty batch: heartbeat, savepoint, records, removing pairs
# not found again, done, release (6); reading the ended scan (1).
FIXED_SCAN_QUERIES = 23


# --- A cancel while the worker holds SQLite's writer lock -------------------------------------


def _database_locked(monkeypatch) -> None:
    """Every write to a job row fails as SQLite fails when the worker holds the writer
    lock beyond the busy timeout."""
    from django.db.models import QuerySet
    from django.db.utils import OperationalError

    from kontor.core.models import BackgroundJob

    update = QuerySet.update

    def locked(self, **kwargs):
        if issubclass(self.model, BackgroundJob):
            raise OperationalError("database is locked")
        return update(self, **kwargs)

    monkeypatch.setattr(QuerySet, "update", locked)


BUSY = "Kontor is busy with this job; try again in a moment."


def test_a_scan_cancel_on_a_locked_database_asks_to_try_again(client, admin, monkeypatch):
    scan = DuplicateScan.objects.create(kind="person", started_by=admin, status="running")
    client.force_login(admin)
    _database_locked(monkeypatch)
    for name in ("duplicate_scan_cancel", "duplicate_scan_retry"):
        url = reverse(f"customers:{name}", args=[scan.pk])
        response = client.post(url, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        assert BUSY in response.text
        response = client.post(url, follow=True)
        assert response.status_code == 200
        assert BUSY in response.text
    scan.refresh_from_db()
    assert scan.status == "running"


def test_a_bulk_job_cancel_on_a_locked_database_asks_to_try_again(
    client, owner, teammate, monkeypatch
):
    job = bulk.bulk_job_start(
        entity="customers.person",
        actor=owner,
        action="set_owner",
        value=str(teammate.uuid),
        params={"query": ""},
        total=5,
    )
    client.force_login(owner)
    _database_locked(monkeypatch)
    for name in ("bulk_job_cancel", "bulk_job_retry"):
        url = reverse(f"customers:{name}", args=[job.pk])
        response = client.post(url, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        assert BUSY in response.text
        response = client.post(url, follow=True)
        assert response.status_code == 200
        assert BUSY in response.text
    job.refresh_from_db()
    assert job.status == "queued"


def test_a_cancel_recorded_between_chunks_stops_the_job(owner, teammate, monkeypatch):
    monkeypatch.setattr(bulk, "CHUNK", 2)
    for i in range(5):
        owned_by(PersonFactory, owner, last_name=f"Name{i}")
    job = bulk.bulk_job_start(
        entity="customers.person",
        actor=owner,
        action="set_owner",
        value=str(teammate.uuid),
        params={"query": ""},
        total=5,
    )
    pauses = []

    def user_cancels_in_the_pause() -> None:
        # the moment the worker leaves the writer lock free, the user's cancel gets in
        pauses.append(True)
        assert jobs.job_cancel(job=BulkJob.objects.get(pk=job.pk))

    monkeypatch.setattr(jobs, "let_other_writers_in", user_cancels_in_the_pause)
    list_tasks.bulk_change.func(job.pk)
    job.refresh_from_db()
    assert (job.status, job.done, len(pauses)) == ("cancelled", 2, 1)
    assert Person.objects.filter(owner=teammate).count() == 2


def test_the_worker_pauses_between_chunks_on_sqlite_only(monkeypatch, settings):
    slept = []
    monkeypatch.setattr(jobs.time, "sleep", slept.append)
    settings.JOB_SQLITE_PAUSE_SECONDS = 0.1
    jobs.let_other_writers_in()
    assert slept == ([0.1] if connection.vendor == "sqlite" else [])


def test_cancel_and_retry_are_in_the_audit_trail_with_who_did_it(
    owner, teammate, django_capture_on_commit_callbacks
):
    job = bulk.bulk_job_start(
        entity="customers.person",
        actor=owner,
        action="set_owner",
        value=str(teammate.uuid),
        params={"query": ""},
        total=0,
    )
    assert jobs.job_cancel(job=job, actor=owner)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.job_retry(job=job, actor=owner)
    assert not jobs.job_retry(job=job, actor=owner)  # queued already: nothing to audit
    entries = AuditEntry.objects.filter(object_id=job.pk, actor=owner).order_by("pk")
    statuses = [entry.changes["status"] for entry in entries]
    assert statuses == [["queued", "cancelled"], ["cancelled", "queued"]]
