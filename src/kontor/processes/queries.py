"""Reading process definitions, for the pages and the API alike.

Who may look: everyone with ``customers.view`` (the processes are how the team
works with customers, so everyone who works with customers may read them);
``processes.manage`` may also edit. The running-instance counts on the list are
plain numbers over all instances — they name no customer.
"""

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from kontor.core.access import require_that, user_can
from kontor.core.permissions import Capability
from kontor.processes.models import (
    InstanceStatus,
    Process,
    ProcessInstance,
    ProcessVersion,
    Step,
    StepActivity,
    Transition,
    VersionStatus,
)


def can_view(user) -> bool:
    return user_can(user, Capability.CUSTOMERS_VIEW) or user_can(user, Capability.PROCESSES_MANAGE)


def can_manage(user) -> bool:
    return user_can(user, Capability.PROCESSES_MANAGE)


def process_list(*, user, archived: bool = False) -> QuerySet[Process]:
    """The processes with, in the same query: the published version's number and
    trigger, whether a draft exists, and how many instances are running."""
    require_that(can_view(user))
    published = ProcessVersion.objects.filter(
        process=OuterRef("pk"), status=VersionStatus.PUBLISHED
    )
    running = (
        ProcessInstance.objects.filter(
            version__process=OuterRef("pk"),
            status__in=[InstanceStatus.RUNNING, InstanceStatus.PAUSED],
        )
        .order_by()
        .values("version__process")
        .annotate(n=Count("pk"))
        .values("n")
    )
    latest = ProcessVersion.objects.filter(process=OuterRef("pk")).order_by("-number")
    return (
        Process.objects.filter(archived=archived)
        .select_related("owner")
        .annotate(
            published_number=Subquery(published.values("number")[:1]),
            published_trigger=Subquery(published.values("trigger")[:1]),
            latest_number=Subquery(latest.values("number")[:1]),
            latest_trigger=Subquery(latest.values("trigger")[:1]),
            has_draft=Exists(
                ProcessVersion.objects.filter(process=OuterRef("pk"), status=VersionStatus.DRAFT)
            ),
            running_count=Coalesce(Subquery(running, output_field=IntegerField()), 0),
        )
        .order_by("name", "id")
    )


def process_get(*, user, uuid) -> Process:
    """The process (archived ones too); 404 for a malformed or unknown id."""
    require_that(can_view(user))
    try:
        return Process.objects.select_related("owner").get(uuid=uuid)
    except (Process.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        # A malformed id (e.g. not a UUID) is simply "not found".
        raise Http404 from exc


def versions_of(process: Process) -> list[ProcessVersion]:
    """All versions, newest first, each with its instance count."""
    return list(
        ProcessVersion.objects.filter(process=process)
        .annotate(instance_count=Count("instances"))
        .order_by("-number")
    )


def version_shown(process: Process, number: int | str | None = None) -> ProcessVersion:
    """Version ``number`` of ``process``; without one (None or "") the published
    version, else the newest. 404 when there is none or ``number`` is not a number
    (as it comes from ``?version=``). The one home of this rule: the pages, the API,
    the drawing, BPMN and the requirements document all ask here."""
    versions = ProcessVersion.objects.filter(process=process)
    if number not in (None, ""):
        try:
            shown = versions.get(number=int(number))
        except (ValueError, TypeError, ProcessVersion.DoesNotExist) as exc:
            raise Http404 from exc
    else:
        shown = (
            versions.filter(status=VersionStatus.PUBLISHED).first()
            or versions.order_by("-number").first()
        )
        if shown is None:
            raise Http404
    shown.process = process  # the caller's row: not read again
    return shown


def version_steps(version: ProcessVersion) -> list[Step]:
    """The steps in order, each with ``activities`` and ``outgoing`` (with target)
    loaded — three queries whatever the size."""
    return list(
        Step.objects.filter(version=version)
        .order_by("position", "id")
        .prefetch_related(
            Prefetch("activities", queryset=StepActivity.objects.order_by("position", "id")),
            Prefetch(
                "outgoing",
                queryset=Transition.objects.select_related("target").order_by("position", "id"),
            ),
        )
    )


def version_has_instances(version: ProcessVersion) -> bool:
    return ProcessInstance.objects.filter(version=version).exists()


def step_get(version: ProcessVersion, key: str) -> Step:
    try:
        return Step.objects.select_related("version").get(version=version, key=key)
    except Step.DoesNotExist as exc:
        raise Http404 from exc


def transition_get(version: ProcessVersion, pk) -> Transition:
    try:
        return Transition.objects.select_related("version", "source", "target").get(
            version=version, pk=pk
        )
    except (Transition.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def activity_get(version: ProcessVersion, pk) -> StepActivity:
    try:
        return StepActivity.objects.select_related("step", "step__version").get(
            step__version=version, pk=pk
        )
    except (StepActivity.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
