"""Background work on customers (django-tasks), queued with transaction.on_commit."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_tasks import task

from kontor.customers import duplicates
from kontor.customers.models import DuplicatePair, DuplicateScan, DuplicateStatus, ScanStatus

SCAN_BATCH_SIZE = 200


def duplicate_scan_start(*, kind: str, actor) -> DuplicateScan:
    """Queue a scan for duplicate pairs of ``kind``; an already running scan of the same
    kind is returned instead of starting a second one."""
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
    """Compare every record of the scan's kind with its candidates, a batch at a time,
    and store the pairs. Idempotent: a finished scan is not run again; pairs are
    upserted (a dismissed or merged pair keeps its status), and open pairs the scan no
    longer finds are removed at the end."""
    scan = DuplicateScan.objects.filter(pk=scan_id).first()
    if scan is None or scan.status in (ScanStatus.DONE, ScanStatus.FAILED):
        return
    model = duplicates.model_of(scan.kind)
    started = timezone.now()
    DuplicateScan.objects.filter(pk=scan.pk).update(
        status=ScanStatus.RUNNING, total=model._base_manager.count(), done=0
    )
    try:
        last_id = 0
        while True:
            batch = list(
                model._base_manager.filter(pk__gt=last_id).order_by("pk")[:SCAN_BATCH_SIZE]
            )
            if not batch:
                break
            found = _store_pairs(scan.kind, batch, model._base_manager.all())
            last_id = batch[-1].pk
            DuplicateScan.objects.filter(pk=scan.pk).update(
                done=F("done") + len(batch), pairs_found=F("pairs_found") + found
            )
        DuplicatePair.objects.filter(
            kind=scan.kind, status=DuplicateStatus.OPEN, updated_at__lt=started
        ).delete()
    except Exception:
        DuplicateScan.objects.filter(pk=scan.pk).update(
            status=ScanStatus.FAILED, finished_at=timezone.now()
        )
        raise
    DuplicateScan.objects.filter(pk=scan.pk).update(
        status=ScanStatus.DONE, finished_at=timezone.now()
    )


def _store_pairs(kind: str, batch: list, scope) -> int:
    """Upsert the pairs found for ``batch``; returns how many are new."""
    best: dict[tuple[int, int], tuple[int, list[str]]] = {}
    for index, found in duplicates.match(batch, scope).items():
        probe = batch[index]
        for candidate in found:
            key = tuple(sorted((probe.pk, candidate.record.pk)))
            if key not in best or best[key][0] < candidate.score:
                best[key] = (candidate.score, candidate.reasons)
    if not best:
        return 0
    now = timezone.now()
    with transaction.atomic():
        existing = {
            (p.a_id, p.b_id): p
            for p in DuplicatePair.objects.select_for_update().filter(
                kind=kind, a_id__in={a for a, _b in best}, b_id__in={b for _a, b in best}
            )
        }
        new, changed = [], []
        for (a, b), (score, reasons) in best.items():
            pair = existing.get((a, b))
            if pair is None:
                new.append(DuplicatePair(kind=kind, a_id=a, b_id=b, score=score, reasons=reasons))
            elif pair.status == DuplicateStatus.OPEN:
                pair.score, pair.reasons, pair.updated_at = score, reasons, now
                changed.append(pair)
        DuplicatePair.objects.bulk_create(new, ignore_conflicts=True)
        DuplicatePair.objects.bulk_update(changed, ["score", "reasons", "updated_at"])
    return len(new)
