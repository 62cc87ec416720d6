"""Overdue steps: warn the responsible person, then escalate to the team lead.

Run by the worker every PROCESS_DEADLINE_SECONDS (kontor.processes.tasks.check_deadlines):

- **Warning**: the active step of a *running* instance (a paused one waits) is past
  its ``due_at`` → one e-mail to the step's assignee, in their language and time
  zone, with the customer, the process, the step, the due date and a link;
  ``overdue_notified_at`` is set. A step without a reachable assignee (none, left,
  no e-mail address) is marked without a mail and left to the escalation.
- **Escalation**: still active PROCESS_ESCALATE_AFTER_DAYS business days after
  ``due_at`` → one e-mail to the team lead: the lead of the assignee's primary team
  (``User.primary_team``); when the assignee leads it themselves or there is none, the
  lead of the customer's team. ``escalated_at`` is set, the change is audited and the
  customer's history gets a note. With nobody to escalate to, that is logged and
  noted and the step is marked escalated all the same (it must not retry for ever).

Idempotent and safe with several workers, like the task reminders
(kontor.activities.services.tasks.task_reminders_send): each row is claimed with a
conditional UPDATE (outside any transaction: of two workers exactly one changes it)
before its mail goes out, and released again when sending fails, for the next run.

Each run takes at most ``batch`` rows of each kind, the oldest due first, through
the (status, due_at) index; the rest follow on the next run. The mails' data come
with the rows (select_related) and the leads in two queries per batch."""

import datetime as dt
import logging
import zoneinfo
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kontor.core import audit
from kontor.core.models import AuditAction, Team
from kontor.processes.business_days import add_business_days
from kontor.processes.models import InstanceStatus, StepRun, StepRunStatus
from kontor.processes.services.engine import history_note

logger = logging.getLogger(__name__)

__all__ = ["deadline_escalations_send", "deadline_warnings_send", "deadlines_check", "escalate_at"]

BATCH = 500


def _zone(name: str | None = None) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def escalate_at(due_at: dt.datetime) -> dt.datetime:
    """When a step due at ``due_at`` is escalated: PROCESS_ESCALATE_AFTER_DAYS business
    days later, at the same time of day (in settings.TIME_ZONE, where the deadlines
    are reckoned)."""
    zone = _zone()
    local = due_at.astimezone(zone)
    day = add_business_days(local.date(), settings.PROCESS_ESCALATE_AFTER_DAYS)
    return dt.datetime.combine(day, local.time(), tzinfo=zone)


def _overdue(now: dt.datetime):
    """Active steps of running instances due before ``now``, oldest due first, with
    what the mails need."""
    return (
        StepRun.objects.filter(
            status=StepRunStatus.ACTIVE, due_at__lt=now, instance__status=InstanceStatus.RUNNING
        )
        .select_related(
            "step",
            "assignee",
            "instance__version__process",
            "instance__person__team__lead",
            "instance__organization__team__lead",
        )
        .order_by("due_at", "id")
    )


def _subject_of(run: StepRun):
    instance = run.instance
    return instance.person if instance.person_id else instance.organization


def _reachable(user) -> bool:
    return user is not None and user.is_active and bool(user.email)


def _claim(run: StepRun, field: str, now: dt.datetime) -> bool:
    # A conditional UPDATE outside any transaction: of two workers looking at the
    # same row, exactly one changes it and sends.
    return bool(
        StepRun.objects.filter(
            pk=run.pk, status=StepRunStatus.ACTIVE, **{f"{field}__isnull": True}
        ).update(**{field: now})
    )


def _release(run: StepRun, field: str, now: dt.datetime) -> None:
    StepRun.objects.filter(pk=run.pk, **{field: now}).update(**{field: None})


def _message(template: str, user, context: dict) -> EmailMessage:
    """The mail ``processes/mail/<template>_subject.txt`` / ``_body.txt`` to ``user``, in
    their language and time zone."""
    with (
        translation.override(user.language or settings.LANGUAGE_CODE),
        timezone.override(_zone(user.time_zone)),
    ):
        context = {"user": user, **context}
        subject = render_to_string(f"processes/mail/{template}_subject.txt", context)
        body = render_to_string(f"processes/mail/{template}_body.txt", context)
    return EmailMessage(subject=" ".join(subject.split())[:250], body=body, to=[user.email])


def _context(run: StepRun) -> dict:
    instance = run.instance
    return {
        "run": run,
        "customer": _subject_of(run),
        "process": instance.version.process,
        "step": run.step,
        # The deadline is a business day where Kontor reckons them: shown as that date.
        "due_date": run.due_at.astimezone(_zone()).date(),
        "assignee": run.assignee,
        "url": settings.SITE_URL + instance.get_absolute_url(),
    }


class _Mailer:
    """One SMTP connection for a batch, opened at the first mail."""

    def __init__(self):
        self.connection = mail.get_connection()

    def send(self, message: EmailMessage) -> None:
        self.connection.open()  # no-op once open
        message.connection = self.connection
        message.send()

    def close(self) -> None:
        try:
            self.connection.close()
        except Exception:  # closing a broken connection must not hide what was sent
            logger.exception("Closing the SMTP connection failed")


def deadline_warnings_send(*, now: dt.datetime | None = None, batch: int = BATCH) -> int:
    """Warn the assignees of overdue steps not warned yet; the number of e-mails."""
    now = now or timezone.now()
    runs = list(_overdue(now).filter(overdue_notified_at__isnull=True)[:batch])
    if not runs:
        return 0
    sent = 0
    mailer = _Mailer()
    try:
        for run in runs:
            if not _claim(run, "overdue_notified_at", now):
                continue  # another worker has it
            if not _reachable(run.assignee):
                logger.info("Overdue step run %s has no assignee to warn", run.pk)
                continue
            try:
                mailer.send(_message("overdue", run.assignee, _context(run)))
            except Exception:
                logger.exception("Overdue warning for step run %s failed; will retry", run.pk)
                _release(run, "overdue_notified_at", now)
                continue
            sent += 1
    finally:
        mailer.close()
    return sent


def _first_teams(user_ids: Iterable[int]) -> dict[int, int]:
    """Each user's primary team id (the first by id, as ``User.primary_team``)."""
    through = get_user_model().teams.through
    first: dict[int, int] = {}
    rows = (
        through.objects.filter(user_id__in=set(user_ids))
        .order_by("user_id", "team_id")
        .values_list("user_id", "team_id")
    )
    for user_id, team_id in rows:
        first.setdefault(user_id, team_id)
    return first


def _leads(runs: list[StepRun]) -> dict[int, object]:
    """The team lead to escalate each run to (by run id; None: nobody). Two queries."""
    first_team = _first_teams(run.assignee_id for run in runs if run.assignee_id)
    teams = Team.objects.select_related("lead").in_bulk(set(first_team.values()))
    leads: dict[int, object] = {}
    for run in runs:
        candidates = []
        team = teams.get(first_team.get(run.assignee_id))
        if team is not None:
            candidates.append(team.lead)
        customer_team = _subject_of(run).team
        if customer_team is not None:
            candidates.append(customer_team.lead)
        leads[run.pk] = next(
            (
                lead
                for lead in candidates
                if _reachable(lead) and (run.assignee_id is None or lead.pk != run.assignee_id)
            ),
            None,
        )
    return leads


@transaction.atomic
def _record_escalation(run: StepRun, *, before: dict, lead) -> None:
    audit.record(
        actor=None,
        action=AuditAction.UPDATE,
        instance=run,
        before=before,
        related={"escalated_to": [None, lead.get_username() if lead else ""]},
        via="system",
    )
    # The history is the team's: written in the installation's language.
    with translation.override(settings.LANGUAGE_CODE):
        values = {
            "process": run.instance.version.process.name,
            "step": run.step.name,
            "lead": str(lead) if lead else "",
        }
        if lead is not None:
            subject = _("Process %(process)s: step %(step)s overdue, escalated to %(lead)s")
        else:
            subject = _("Process %(process)s: step %(step)s overdue, no team lead to escalate to")
        history_note(run.instance, subject % values, via="system")


def deadline_escalations_send(*, now: dt.datetime | None = None, batch: int = BATCH) -> int:
    """Escalate the steps still active PROCESS_ESCALATE_AFTER_DAYS business days after
    their due date to the team lead; the number of e-mails."""
    now = now or timezone.now()
    # Business days are at least as long as calendar days: the database narrows it
    # down, the holidays are checked here. Oldest due first, so the rows not due for
    # escalation yet are the last ones of a batch.
    latest = now - dt.timedelta(days=settings.PROCESS_ESCALATE_AFTER_DAYS)
    runs = [
        run
        for run in _overdue(now).filter(escalated_at__isnull=True, due_at__lte=latest)[:batch]
        if escalate_at(run.due_at) <= now
    ]
    if not runs:
        return 0
    leads = _leads(runs)
    sent = 0
    mailer = _Mailer()
    try:
        for run in runs:
            before = audit.snapshot(run)
            if not _claim(run, "escalated_at", now):
                continue
            run.escalated_at = now
            lead = leads[run.pk]
            if lead is None:
                logger.warning("Overdue step run %s: no team lead to escalate to", run.pk)
                _record_escalation(run, before=before, lead=None)
                continue
            try:
                mailer.send(_message("escalation", lead, _context(run)))
            except Exception:
                logger.exception("Escalation of step run %s failed; will retry", run.pk)
                _release(run, "escalated_at", now)
                continue
            _record_escalation(run, before=before, lead=lead)
            sent += 1
    finally:
        mailer.close()
    return sent


def deadlines_check(*, now: dt.datetime | None = None, batch: int = BATCH) -> int:
    """Warnings, then escalations (a step found late enough gets both); the number of
    e-mails sent."""
    now = now or timezone.now()
    return deadline_warnings_send(now=now, batch=batch) + deadline_escalations_send(
        now=now, batch=batch
    )
