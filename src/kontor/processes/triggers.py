"""Processes that start by themselves: the triggers of a process version.

- ``manual``: started by hand only.
- ``trade_fair_capture``: on the ``trade_fair_captured`` event (kontor.processes.listeners).
- ``lead_created`` / ``case_opened`` / ``opportunity_lost``: on the events of the same
  names (kontor.core.hooks; kontor.processes.listeners), which the sales and service
  apps emit once they exist.
  ``trigger_config`` narrows them: {"source": "web"} starts only on leads from that
  source, {"case_kind": "complaint"} only on cases of that kind; an empty config (or
  an empty value) matches any.
- ``customer_inactive`` ({"months": N}): ``inactive_customers_start``, run daily by the
  worker (kontor.processes.tasks.check_inactive_customers).

A trigger is *available* when it can fire in this installation: manual and
customer_inactive always, the event triggers once an installed app declares their
event (``hooks.declare`` in its ``ready()``). The editor offers only those; a version
that already has another (a shipped scene waiting for the sales app) stays valid, is
started by hand meanwhile, and its page says so.

Processes started by a trigger are started by Kontor itself (``actor=None``): the
user whose action fired the event need not be allowed to run processes, and a process
that cannot start (already running there, say) never makes their action fail — it is
logged and skipped."""

import datetime as dt
import logging
from typing import Any

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from kontor.activities.models import Activity, ActivityKind
from kontor.core import hooks
from kontor.core.access import customer_kind
from kontor.customers.models import Organization, Person
from kontor.processes.models import (
    InstanceStatus,
    ProcessInstance,
    ProcessVersion,
    SubjectKind,
    TriggerKind,
    VersionStatus,
)
from kontor.processes.validation import months_of  # (not defined here: no import cycle)

logger = logging.getLogger(__name__)

# The event that fires each event trigger.
TRIGGER_EVENTS: dict[str, str] = {
    TriggerKind.TRADE_FAIR_CAPTURE: "trade_fair_captured",
    TriggerKind.LEAD_CREATED: "lead_created",
    TriggerKind.CASE_OPENED: "case_opened",
    TriggerKind.OPPORTUNITY_LOST: "opportunity_lost",
}
ALWAYS_AVAILABLE = (TriggerKind.MANUAL, TriggerKind.CUSTOMER_INACTIVE)
# Starts per process and run of the inactivity check; the rest follow the next day.
INACTIVE_STARTS_PER_RUN = 200
ACTIVE = (InstanceStatus.RUNNING, InstanceStatus.PAUSED)


def available_triggers() -> list[TriggerKind]:
    """The triggers that can fire here, in the order of TriggerKind."""
    return [
        kind
        for kind in TriggerKind
        if kind in ALWAYS_AVAILABLE
        or (kind in TRIGGER_EVENTS and hooks.is_declared(TRIGGER_EVENTS[kind]))
    ]


def is_available(trigger: str) -> bool:
    return trigger in available_triggers()


def _published(trigger: str):
    return (
        ProcessVersion.objects.filter(
            trigger=trigger, status=VersionStatus.PUBLISHED, process__archived=False
        )
        .select_related("process")
        .order_by("process__name", "process_id")
    )


def _config_matches(config: Any, key: str, value: Any) -> bool:
    """An empty config or value matches anything; else the same text, any case."""
    wanted = config.get(key) if isinstance(config, dict) else None
    if wanted in (None, ""):
        return True
    return value is not None and str(wanted).strip().casefold() == str(value).strip().casefold()


def _start(version: ProcessVersion, *, person, organization, trigger: str, via: str, actor=None):
    """Start ``version`` on its subject as Kontor; None when it cannot start there."""
    from kontor.processes.services.instances import instance_start

    kind = version.process.subject_kind
    subject = person if kind == SubjectKind.PERSON else organization
    if subject is None:
        return None
    if ProcessInstance.objects.filter(
        version__process=version.process, status__in=ACTIVE, **{kind: subject}
    ).exists():
        return None
    try:
        with transaction.atomic():
            instance = instance_start(
                actor=None,
                version_or_process=version,
                person=subject if kind == SubjectKind.PERSON else None,
                organization=subject if kind == SubjectKind.ORGANIZATION else None,
                via=via,
                started_via=trigger,
            )
    except ValidationError as error:
        logger.warning(
            "Process %s (trigger %s) not started on %s %s: %s",
            version,
            trigger,
            kind,
            subject.pk,
            error.messages,
        )
        return None
    if getattr(actor, "pk", None):
        # Who fired it, for the record; the checks were Kontor's.
        ProcessInstance.objects.filter(pk=instance.pk).update(started_by=actor)
        instance.started_by = actor
    return instance


def _subjects(record) -> tuple[Person | None, Organization | None]:
    """A person and their organization, or an organization alone: a process runs on
    the one its subject kind says (as for a trade-fair capture)."""
    kind = customer_kind(record) if hasattr(record, "_meta") else None
    if kind == "person":
        return record, record.organization if record.organization_id else None
    if kind == "organization":
        return None, record
    return None, None


def start_for_event(
    *, trigger: str, record, actor=None, config_key: str = "", value: Any = None
) -> list[ProcessInstance]:
    """Start every published version with ``trigger`` (and a matching config) on
    ``record``; the instances started."""
    person, organization = _subjects(record)
    started = []
    for version in _published(trigger):
        if config_key and not _config_matches(version.trigger_config, config_key, value):
            continue
        instance = _start(
            version,
            person=person,
            organization=organization,
            trigger=trigger,
            via="system",
            actor=actor,
        )
        if instance is not None:
            started.append(instance)
    return started


# --- Customer inactive --------------------------------------------------------------------


def inactive_candidates(version: ProcessVersion, *, cutoff: dt.datetime):
    """The customers (persons or organizations, as the process runs on) with no
    activity since ``cutoff`` and created before it, on which the process was not
    started since ``cutoff`` and is not running or paused; by id.

    Kontor's own notes (the process engine's "step reached" entries: kind note, no
    author) are not contact with the customer and do not count. Each condition is a
    correlated NOT EXISTS probed per customer through an index — activities by
    (person | organization, occurred_at), instances by (person | organization,
    status) — never an ``IN`` over millions of ids."""
    kind = version.process.subject_kind
    model = Person if kind == SubjectKind.PERSON else Organization
    recent_activity = (
        Activity.objects.filter(**{kind: OuterRef("pk")}, occurred_at__gte=cutoff)
        .exclude(kind=ActivityKind.NOTE, author__isnull=True)
        .values("pk")
    )
    same_process = (
        ProcessInstance.objects.filter(**{kind: OuterRef("pk")}, version__process=version.process)
        .filter(Q(started_at__gte=cutoff) | Q(status__in=ACTIVE))
        .values("pk")
    )
    return (
        model.objects.filter(created_at__lt=cutoff)
        .filter(~Exists(recent_activity), ~Exists(same_process))
        .order_by("pk")
    )


def inactive_customers_start(
    *, now: dt.datetime | None = None, limit: int = INACTIVE_STARTS_PER_RUN
) -> int:
    """Start each published process with the customer_inactive trigger on up to
    ``limit`` customers inactive for its ``months``; the number started. Run daily:
    a customer it started on is not started on again until inactive for another
    ``months`` after that start."""
    now = now or timezone.now()
    started = 0
    for version in _published(TriggerKind.CUSTOMER_INACTIVE):
        months = months_of(version.trigger_config)
        if months is None:
            logger.warning("Process %s: customer_inactive without valid months", version)
            continue
        cutoff = now - relativedelta(months=months)
        kind = version.process.subject_kind
        for subject in inactive_candidates(version, cutoff=cutoff)[:limit]:
            instance = _start(
                version,
                person=subject if kind == SubjectKind.PERSON else None,
                organization=subject if kind == SubjectKind.ORGANIZATION else None,
                trigger=TriggerKind.CUSTOMER_INACTIVE,
                via="system",
            )
            started += instance is not None
    return started
