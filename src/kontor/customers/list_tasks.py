"""Background work for the customer lists: bulk changes too large for a request."""

from django.http import QueryDict
from django_tasks import task

from kontor.core.models import BulkJob
from kontor.customers import bulk, listing


@task()
def bulk_change(job_id: int) -> None:
    """Run a bulk job (or resume it after its last committed chunk)."""
    job = BulkJob.objects.select_related("actor").filter(pk=job_id).first()
    if job is None or job.finished:
        return  # deleted, or already run: nothing to do twice
    entity = listing.ENTITIES[job.entity.split(".")[-1]]
    params = job.params
    if params.get("ids"):
        records = entity.model.objects.filter(uuid__in=params["ids"])
    else:
        query = QueryDict(params.get("query", ""))
        records = listing.parse(entity, job.actor, query).queryset()
    bulk.bulk_job_run(job=job, records=records)
