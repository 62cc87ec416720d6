"""Overdue steps: the assignee is warned once, in their language; after the business-day
delay the team lead gets the escalation; paused instances wait. Real SMTP."""

import datetime as dt
import zoneinfo

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kontor.activities.models import Activity
from kontor.core.models import AuditEntry
from kontor.core.permissions import RoleCode
from kontor.processes.deadlines import (
    deadline_escalations_send,
    deadline_warnings_send,
    deadlines_check,
    escalate_at,
)
from kontor.processes.models import (
    ActivityType,
    Process,
    ProcessVersion,
    Step,
    StepActivity,
    StepRun,
    StepRunStatus,
    Transition,
    VersionStatus,
)
from kontor.processes.services import instances as engine
from kontor.processes.tasks import check_deadlines
from tests.conftest import role
from tests.core.factories import UserFactory
from tests.customers.factories import PersonFactory, owned_by

pytestmark = pytest.mark.django_db

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
# Thursday before Easter 2027: Good Friday (26th) and Easter Monday (29th) are
# public holidays, so one business day later is Tuesday the 30th.
DUE = dt.datetime(2027, 3, 25, 23, 59, 59, tzinfo=BERLIN)
ESCALATION = dt.datetime(2027, 3, 30, 23, 59, 59, tzinfo=BERLIN)


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.PROCESS_ESCALATE_AFTER_DAYS = 1
    settings.SITE_URL = "https://crm.example.com"
    # The history notes are written in the installation's language; asserted in English.
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def version():
    process = Process.objects.create(name="Onboarding")
    version = ProcessVersion.objects.create(
        process=process, number=1, status=VersionStatus.PUBLISHED, goal="Customer"
    )
    first = Step.objects.create(
        version=version, key="call", name="Welcome call", position=0, deadline_days=3
    )
    StepActivity.objects.create(step=first, kind=ActivityType.TASK, title="Call", position=0)
    done = Step.objects.create(
        version=version, key="done", name="Done", position=1, is_end=True, goal_reached=True
    )
    Transition.objects.create(version=version, source=first, target=done)
    return version


@pytest.fixture
def lead(team):
    user = UserFactory(
        username="lead", first_name="Lena", role=role(RoleCode.SALES_MANAGER), teams=[team]
    )
    team.lead = user
    team.save()
    return user


def start(version, actor, person=None, due=DUE):
    person = person or owned_by(PersonFactory, actor, first_name="Erika", last_name="Muster")
    instance = engine.instance_start(actor=actor, version_or_process=version, person=person)
    StepRun.objects.filter(instance=instance, status=StepRunStatus.ACTIVE).update(due_at=due)
    return instance


def run_of(instance) -> StepRun:
    return StepRun.objects.get(instance=instance, status=StepRunStatus.ACTIVE)


def test_escalation_is_one_business_day_after_the_due_date_with_holidays():
    assert escalate_at(DUE) == ESCALATION
    friday = dt.datetime(2027, 6, 4, 23, 59, 59, tzinfo=BERLIN)
    assert escalate_at(friday) == dt.datetime(2027, 6, 7, 23, 59, 59, tzinfo=BERLIN)


def test_an_overdue_step_warns_its_assignee_once(version, owner, smtp_sink):
    instance = start(version, owner)

    assert deadlines_check(now=DUE - dt.timedelta(minutes=1)) == 0
    now = DUE + dt.timedelta(hours=1)
    assert deadlines_check(now=now) == 1
    # A second run (or a second worker) sends nothing more.
    assert deadlines_check(now=now + dt.timedelta(minutes=15)) == 0

    (message,) = smtp_sink.messages
    assert message["To"] == "owner@example.com"
    assert message["Subject"] == "Overdue: Welcome call – Erika Muster"
    body = message.get_content().replace("\r\n", "\n")
    assert "Customer: Erika Muster\n" in body
    assert "Process: Onboarding\n" in body
    assert "Step: Welcome call\n" in body
    assert "Due: 03/25/2027\n" in body
    assert f"https://crm.example.com/processes/instances/{instance.uuid}/" in body
    run = run_of(instance)
    assert (run.overdue_notified_at, run.escalated_at) == (now, None)


def test_the_warning_is_in_the_assignees_language(version, owner, smtp_sink):
    owner.language = "de"
    owner.save()
    start(version, owner)

    assert deadline_warnings_send(now=DUE + dt.timedelta(hours=1)) == 1

    (message,) = smtp_sink.messages
    # German date format (the German wording comes with the translations).
    assert "25.03.2027" in message.get_content()


def test_a_step_claimed_by_another_worker_is_not_warned(version, owner, smtp_sink):
    instance = start(version, owner)
    claimed = DUE + dt.timedelta(minutes=5)
    StepRun.objects.filter(instance=instance).update(overdue_notified_at=claimed)

    assert deadline_warnings_send(now=DUE + dt.timedelta(hours=1)) == 0
    assert smtp_sink.messages == []
    assert run_of(instance).overdue_notified_at == claimed


def test_a_paused_instance_is_not_warned_nor_escalated(version, owner, lead, smtp_sink):
    instance = start(version, owner)
    engine.instance_pause(actor=owner, instance=instance)

    assert deadlines_check(now=ESCALATION + dt.timedelta(days=10)) == 0

    assert smtp_sink.messages == []
    run = run_of(instance)
    assert (run.overdue_notified_at, run.escalated_at) == (None, None)


def test_a_step_without_deadline_or_done_in_time_is_not_warned(version, owner, smtp_sink):
    no_deadline = start(version, owner, due=None)
    done = start(version, owner)
    engine.item_done(actor=owner, item=run_of(done).items.get())

    assert deadlines_check(now=ESCALATION + dt.timedelta(days=10)) == 0
    assert smtp_sink.messages == []
    assert run_of(no_deadline).overdue_notified_at is None


def test_escalation_goes_to_the_team_lead_after_the_business_day_delay(
    version, owner, lead, smtp_sink
):
    instance = start(version, owner)
    assert deadlines_check(now=DUE + dt.timedelta(hours=1)) == 1  # the warning
    # Good Friday and Easter Monday do not count.
    assert deadlines_check(now=dt.datetime(2027, 3, 30, 12, tzinfo=BERLIN)) == 0

    now = ESCALATION + dt.timedelta(minutes=1)
    assert deadlines_check(now=now) == 1
    assert deadlines_check(now=now + dt.timedelta(hours=1)) == 0

    warning, escalation = smtp_sink.messages
    assert warning["To"] == "owner@example.com"
    assert escalation["To"] == "lead@example.com"
    assert escalation["Subject"].strip() == "Escalation: Welcome call – Erika Muster is overdue"
    body = escalation.get_content().replace("\r\n", "\n")
    assert body.startswith("Hello Lena,\n")
    assert f"Responsible: {owner}\n" in body
    assert "Due: 03/25/2027\n" in body
    assert f"https://crm.example.com/processes/instances/{instance.uuid}/" in body
    run = run_of(instance)
    assert run.escalated_at == now
    entry = AuditEntry.objects.get(
        content_type=ContentType.objects.get_for_model(StepRun), object_id=run.pk
    )
    assert entry.actor is None
    assert entry.changes["escalated_to"] == [None, "lead"]
    assert entry.changes["escalated_at"][0] is None
    note = Activity.objects.filter(person=instance.person).order_by("-id").first()
    assert note.subject == (f"Process Onboarding: step Welcome call overdue, escalated to {lead}")
    assert note.author is None


def test_a_lead_who_is_the_assignee_escalates_to_the_customers_team_lead(
    version, owner, other_team, smtp_sink
):
    owner.teams.first().lead = owner
    owner.teams.first().save()
    manager = UserFactory(username="south", role=role(RoleCode.SALES_MANAGER), teams=[other_team])
    other_team.lead = manager
    other_team.save()
    person = PersonFactory(owner=owner, team=other_team, first_name="Erika", last_name="Muster")
    instance = start(version, owner, person=person)

    assert deadline_escalations_send(now=ESCALATION + dt.timedelta(minutes=1)) == 1

    (message,) = smtp_sink.messages
    assert message["To"] == "south@example.com"
    assert run_of(instance).escalated_at is not None


def test_with_nobody_to_escalate_to_the_step_is_marked_and_noted(version, owner, smtp_sink):
    instance = start(version, owner)
    now = ESCALATION + dt.timedelta(minutes=1)

    assert deadline_escalations_send(now=now) == 0
    assert deadline_escalations_send(now=now + dt.timedelta(days=1)) == 0

    assert smtp_sink.messages == []
    assert run_of(instance).escalated_at == now
    notes = Activity.objects.filter(person=instance.person, subject__contains="overdue")
    assert [n.subject for n in notes] == [
        "Process Onboarding: step Welcome call overdue, no team lead to escalate to"
    ]


def test_a_failed_mail_is_released_for_the_next_run(version, owner, settings, smtp_sink):
    instance = start(version, owner)
    now = DUE + dt.timedelta(hours=1)
    sink_port, settings.EMAIL_PORT = settings.EMAIL_PORT, 1  # nothing listens on port 1

    assert deadline_warnings_send(now=now) == 0
    assert run_of(instance).overdue_notified_at is None

    settings.EMAIL_PORT = sink_port
    assert deadline_warnings_send(now=now) == 1
    assert len(smtp_sink.messages) == 1


def test_the_batch_takes_the_oldest_due_first_and_the_rest_next_run(version, owner, smtp_sink):
    late = start(version, owner)
    later = start(version, owner, due=DUE + dt.timedelta(days=1))
    now = DUE + dt.timedelta(days=2)

    assert deadline_warnings_send(now=now, batch=1) == 1
    assert run_of(late).overdue_notified_at == now
    assert run_of(later).overdue_notified_at is None
    assert deadline_warnings_send(now=now, batch=1) == 1
    assert run_of(later).overdue_notified_at == now


def _reads(fn) -> int:
    """SELECTs that load rows (not the existence checks of the history note's full_clean)."""
    with CaptureQueriesContext(connection) as queries:
        fn()
    return sum(
        1
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT") and not q["sql"].startswith("SELECT 1 AS")
    )


def test_reads_do_not_grow_with_the_number_of_overdue_steps(
    version, owner, teammate, lead, smtp_sink
):
    for user in (owner, teammate, owner):
        start(version, user, person=owned_by(PersonFactory, user))
    now = ESCALATION + dt.timedelta(minutes=1)

    # The rows with all the mails need; then only a claiming UPDATE per row.
    assert _reads(lambda: deadline_warnings_send(now=now)) == 1
    assert len(smtp_sink.messages) == 3
    # The rows, the assignees' teams, those teams with their leads.
    assert _reads(lambda: deadline_escalations_send(now=now)) == 3
    assert len(smtp_sink.messages) == 6


def test_the_periodic_task_runs_the_check(version, owner, smtp_sink):
    start(version, owner, due=dt.datetime(2020, 1, 2, 23, 59, 59, tzinfo=BERLIN))

    # Long overdue: the warning and (nobody leads the team) the marked escalation.
    assert check_deadlines.call() == 1
    assert [m["To"] for m in smtp_sink.messages] == ["owner@example.com"]
    assert StepRun.objects.get(status=StepRunStatus.ACTIVE).escalated_at is not None
