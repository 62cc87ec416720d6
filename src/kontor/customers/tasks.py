"""Background work on customers (django-tasks), queued with transaction.on_commit."""

import json

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from kontor.core import jobs
from kontor.customers import duplicates
from kontor.customers.models import DuplicatePair, DuplicateScan, DuplicateStatus, ScanStatus

SCAN_BATCH_SIZE = 200
# Pairs per INSERT or UPDATE statement: each statement stays small, so a scan writes
# in time linear in its pairs (one CASE WHEN over every changed pair grew with their
# square: minutes for 59,000 pairs on PostgreSQL).
PAIR_WRITE_BATCH = 500


def duplicate_scan_start(*, kind: str, actor) -> DuplicateScan:
    """Queue a scan for duplicate pairs of ``kind``; an already running scan of the same
    kind is returned instead of starting a second one — unless its worker died, then
    it is recovered first (resumed, or failed after too many attempts)."""
    jobs.recover_stale(DuplicateScan.objects.filter(kind=kind))
    running = DuplicateScan.objects.filter(
        kind=kind, status__in=[ScanStatus.QUEUED, ScanStatus.RUNNING]
    ).first()
    if running is not None:
        return running
    scan = DuplicateScan.objects.create(kind=kind, started_by=actor)
    transaction.on_commit(lambda: duplicate_scan.enqueue(scan.pk))
    return scan


@task()
def duplicate_scan(scan_id: int) -> None:
    """Compare every record of the scan's kind with its candidates, a batch at a time
    in id order, and store the pairs; each batch is committed with the scan's progress,
    so a scan whose worker died resumes after its last batch. Idempotent: a finished
    scan is not run again; pairs are upserted (a dismissed or merged pair keeps its
    status), and open pairs the scan no longer finds are removed at the end."""
    jobs.run(DuplicateScan, scan_id, begin=_count, chunk=_compare_next_batch, end=_drop_stale)


def _count(scan: DuplicateScan) -> None:
    if scan.cursor == 0:  # a resumed scan keeps the total it started with
        model = duplicates.model_of(scan.kind)
        scan.total = model._base_manager.count()
        DuplicateScan.objects.filter(pk=scan.pk).update(total=scan.total, done=0)
        scan.done = 0


def _compare_next_batch(scan: DuplicateScan) -> jobs.Progress | None:
    model = duplicates.model_of(scan.kind)
    batch = list(model._base_manager.filter(pk__gt=scan.cursor).order_by("pk")[:SCAN_BATCH_SIZE])
    if not batch:
        return None
    found = _store_pairs(scan.kind, batch, model._base_manager.all())
    return jobs.Progress(cursor=batch[-1].pk, done=len(batch), counters={"pairs_found": found})


def _drop_stale(scan: DuplicateScan) -> None:
    """Open pairs no batch of this scan found again (not written since it started)."""
    DuplicatePair.objects.filter(
        kind=scan.kind, status=DuplicateStatus.OPEN, updated_at__lt=scan.started_at
    ).delete()


def _store_pairs(kind: str, batch: list, scope) -> int:
    """Upsert the pairs found for ``batch``; returns how many are new. A fixed number
    of statements per PAIR_WRITE_BATCH pairs."""
    best: dict[tuple[int, int], tuple[int, list[str]]] = {}
    for index, found in duplicates.match(batch, scope).items():
        probe = batch[index]
        for candidate in found:
            key = tuple(sorted((probe.pk, candidate.record.pk)))
            if key not in best or best[key][0] < candidate.score:
                best[key] = (candidate.score, candidate.reasons)
    if not best:
        return 0
    # Every pair names one of the batch's records: read the stored ones by those ids
    # (two index ranges), not by the whole set of pairs.
    ids = [record.pk for record in batch]
    existing = {
        (a, b): (pk, status)
        for pk, a, b, status in DuplicatePair.objects.filter(kind=kind)
        .filter(Q(a_id__in=ids) | Q(b_id__in=ids))
        .values_list("pk", "a_id", "b_id", "status")
    }
    new, changed = [], []
    for (a, b), (score, reasons) in best.items():
        stored = existing.get((a, b))
        if stored is None:
            new.append(DuplicatePair(kind=kind, a_id=a, b_id=b, score=score, reasons=reasons))
        elif stored[1] == DuplicateStatus.OPEN:
            changed.append((stored[0], score, reasons))
    DuplicatePair.objects.bulk_create(new, ignore_conflicts=True, batch_size=PAIR_WRITE_BATCH)
    for start in range(0, len(changed), PAIR_WRITE_BATCH):
        _update_pairs(changed[start : start + PAIR_WRITE_BATCH])
    return len(new)


def _update_pairs(rows: list[tuple[int, int, list[str]]]) -> None:
    """Set score and reasons of open pairs (id, score, reasons) in one statement: an
    UPDATE joined to a list of VALUES, linear in the rows (PostgreSQL, and SQLite
    since 3.33 — the one it ships with Python 3.11 and later)."""
    table = connection.ops.quote_name(DuplicatePair._meta.db_table)
    postgres = connection.vendor == "postgresql"
    row = "(%s::bigint, %s::integer, %s::jsonb)" if postgres else "(%s, %s, %s)"
    values = ", ".join([row] * len(rows))
    params: list = []
    for pk, score, reasons in rows:
        params += [pk, score, json.dumps(reasons)]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH v(id, score, reasons) AS (VALUES {values}) "  # noqa: S608 (placeholders only)
            f"UPDATE {table} SET score = v.score, reasons = v.reasons, updated_at = %s "
            f"FROM v WHERE {table}.id = v.id AND {table}.status = %s",
            [*params, now, DuplicateStatus.OPEN],
        )
