"""Processes that start by themselves: a customer inactive for N months, and the events
of the sales and service apps (lead created, case opened, opportunity lost)."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from kontor.activities.models import ActivityKind
from kontor.core import hooks
from kontor.core.models import Role
from kontor.core.permissions import RoleCode
from kontor.customers.models import Organization, Person
from kontor.processes.forms.definitions import ProcessCreateForm, VersionForm
from kontor.processes.models import (
    ActivityType,
    InstanceStatus,
    Process,
    ProcessInstance,
    ProcessVersion,
    Step,
    StepActivity,
    SubjectKind,
    Transition,
    TriggerKind,
    VersionStatus,
)
from kontor.processes.services import definitions
from kontor.processes.services import instances as engine
from kontor.processes.tasks import check_inactive_customers
from kontor.processes.triggers import available_triggers, inactive_customers_start
from tests.activities.factories import ActivityFactory
from tests.core.factories import UserFactory
from tests.core.test_api import post_json, writer
from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by

pytestmark = pytest.mark.django_db

NOW = timezone.now()
LONG_AGO = NOW - dt.timedelta(days=800)


def build(
    name,
    trigger,
    config=None,
    *,
    kind=SubjectKind.PERSON,
    status=VersionStatus.PUBLISHED,
    archived=False,
):
    process = Process.objects.create(name=name, subject_kind=kind, archived=archived)
    version = ProcessVersion.objects.create(
        process=process,
        number=1,
        status=status,
        goal="Back again",
        trigger=trigger,
        trigger_config=config or {},
    )
    first = Step.objects.create(version=version, key="call", name="Call", position=0)
    # Work to do, so the instance stays running on its first step.
    StepActivity.objects.create(step=first, kind=ActivityType.CHECKLIST, title="Call")
    end = Step.objects.create(version=version, key="end", name="End", position=1, is_end=True)
    Transition.objects.create(version=version, source=first, target=end)
    return version


def old(factory, owner, **kwargs):
    record = owned_by(factory, owner, **kwargs)
    type(record).objects.filter(pk=record.pk).update(created_at=LONG_AGO)
    return record


def started(process_name) -> list:
    return sorted(
        (i.person or i.organization).pk
        for i in ProcessInstance.objects.filter(version__process__name=process_name)
    )


# --- Customer inactive ----------------------------------------------------------------------


def test_inactive_customers_get_the_process_once(owner):
    build("Win back", TriggerKind.CUSTOMER_INACTIVE, {"months": 12})
    quiet = old(PersonFactory, owner)
    ActivityFactory(person=quiet, occurred_at=NOW - dt.timedelta(days=400))
    never = old(PersonFactory, owner)
    active = old(PersonFactory, owner)
    ActivityFactory(person=active, occurred_at=NOW - dt.timedelta(days=30))
    PersonFactory(owner=owner)  # new: created just now
    # Kontor's own notes (a process reaching a step) are no contact with the customer.
    noted = old(PersonFactory, owner)
    ActivityFactory(person=noted, kind=ActivityKind.NOTE, author=None, occurred_at=NOW)

    assert inactive_customers_start(now=NOW) == 3

    assert started("Win back") == sorted([quiet.pk, never.pk, noted.pk])
    instance = ProcessInstance.objects.get(person=quiet)
    assert (instance.started_via, instance.started_by) == ("customer_inactive", None)
    # Not again the next day — not even once the instance has ended.
    engine.instance_cancel(actor=None, instance=instance, reason="Kein Interesse")
    assert inactive_customers_start(now=NOW + dt.timedelta(days=1)) == 0
    assert ProcessInstance.objects.count() == 3


def test_a_customer_is_started_on_again_after_another_inactive_period(owner):
    build("Win back", TriggerKind.CUSTOMER_INACTIVE, {"months": 12})
    person = old(PersonFactory, owner)
    assert inactive_customers_start(now=NOW) == 1
    instance = ProcessInstance.objects.get()
    engine.instance_cancel(actor=None, instance=instance, reason="Kein Interesse")

    assert inactive_customers_start(now=NOW + dt.timedelta(days=200)) == 0
    assert inactive_customers_start(now=NOW + dt.timedelta(days=370)) == 1
    assert ProcessInstance.objects.filter(person=person).count() == 2


def test_the_inactive_trigger_respects_the_subject_kind(owner):
    build("Persons", TriggerKind.CUSTOMER_INACTIVE, {"months": 6})
    build("Companies", TriggerKind.CUSTOMER_INACTIVE, {"months": 6}, kind=SubjectKind.ORGANIZATION)
    quiet_org = old(OrganizationFactory, owner)
    busy_org = old(OrganizationFactory, owner)
    contact = old(PersonFactory, owner, organization=busy_org)
    # A contact with a person at the organization is a contact with the organization.
    ActivityFactory(person=contact, organization=busy_org, occurred_at=NOW - dt.timedelta(days=3))

    assert inactive_customers_start(now=NOW) == 1

    assert started("Companies") == [quiet_org.pk]
    assert started("Persons") == []
    assert not ProcessInstance.objects.filter(person__isnull=False).exists()


def test_inactive_starts_are_bounded_per_run(owner):
    build("Win back", TriggerKind.CUSTOMER_INACTIVE, {"months": 12})
    people = [old(PersonFactory, owner) for _ in range(3)]

    assert inactive_customers_start(now=NOW, limit=2) == 2
    assert inactive_customers_start(now=NOW, limit=2) == 1
    assert started("Win back") == sorted(p.pk for p in people)


def test_only_published_processes_with_valid_months_start(owner):
    build("Draft", TriggerKind.CUSTOMER_INACTIVE, {"months": 1}, status=VersionStatus.DRAFT)
    build("Archived", TriggerKind.CUSTOMER_INACTIVE, {"months": 1}, archived=True)
    build("No months", TriggerKind.CUSTOMER_INACTIVE, {})
    build("By hand", TriggerKind.MANUAL, {"months": 1})
    old(PersonFactory, owner)

    assert inactive_customers_start(now=NOW) == 0
    assert ProcessInstance.objects.count() == 0


def test_the_daily_task_runs_the_inactivity_check(owner):
    build("Win back", TriggerKind.CUSTOMER_INACTIVE, {"months": 12})
    old(PersonFactory, owner)

    assert check_inactive_customers.call() == 1


def test_the_inactivity_query_is_bounded(owner, django_assert_max_num_queries):
    build("Win back", TriggerKind.CUSTOMER_INACTIVE, {"months": 12})
    for _ in range(3):
        ActivityFactory(person=old(PersonFactory, owner), occurred_at=NOW)

    # The versions and one query for the candidates, whatever the number of customers.
    with django_assert_max_num_queries(2):
        assert inactive_customers_start(now=NOW) == 0


# --- Events of the sales and service apps ------------------------------------------------


@pytest.fixture
def declared(monkeypatch):
    """The sales and service apps installed (they declare their events)."""
    for hook in (hooks.lead_created, hooks.case_opened, hooks.opportunity_lost):
        monkeypatch.setattr(hook, "declared", True)


def test_a_lead_from_a_source_starts_the_matching_processes_only(owner, readonly):
    build("Web leads", TriggerKind.LEAD_CREATED, {"source": "Web"})
    build("Any lead", TriggerKind.LEAD_CREATED, {})
    build("Fair leads", TriggerKind.LEAD_CREATED, {"source": "fair"})
    build("Lost deals", TriggerKind.OPPORTUNITY_LOST)
    build("Draft", TriggerKind.LEAD_CREATED, status=VersionStatus.DRAFT)
    person = owned_by(PersonFactory, owner)

    # Whoever created the lead — even a role that may not run processes.
    hooks.lead_created.emit(record=person, source="web", actor=readonly)

    instances = ProcessInstance.objects.filter(person=person).order_by("version__process__name")
    assert [i.version.process.name for i in instances] == ["Any lead", "Web leads"]
    assert {(i.started_via, i.started_by, i.status) for i in instances} == {
        ("lead_created", readonly, InstanceStatus.RUNNING)
    }
    # The same lead again: the processes are running on it already.
    hooks.lead_created.emit(record=person, source="web", actor=readonly)
    assert ProcessInstance.objects.count() == 2


def test_an_opened_case_starts_the_processes_for_its_kind(owner):
    build("Complaint", TriggerKind.CASE_OPENED, {"case_kind": "complaint"})
    build("Question", TriggerKind.CASE_OPENED, {"case_kind": "question"})
    build("Company case", TriggerKind.CASE_OPENED, kind=SubjectKind.ORGANIZATION)
    organization = owned_by(OrganizationFactory, owner)
    person = owned_by(PersonFactory, owner, organization=organization)

    hooks.case_opened.emit(record=person, case_kind="complaint", actor=owner)

    assert started("Complaint") == [person.pk]
    assert started("Question") == []
    # A process on organizations starts on the person's organization.
    assert started("Company case") == [organization.pk]


def test_a_lost_opportunity_starts_its_processes(owner):
    build("Win back", TriggerKind.OPPORTUNITY_LOST, kind=SubjectKind.ORGANIZATION)
    build("Lead", TriggerKind.LEAD_CREATED)
    organization = owned_by(OrganizationFactory, owner)

    hooks.opportunity_lost.emit(record=organization, actor=owner)

    assert started("Win back") == [organization.pk]
    assert started("Lead") == []
    assert Person.objects.count() == 0
    assert Organization.objects.count() == 1


# --- What the editor offers ----------------------------------------------------------------


def test_only_triggers_that_can_fire_are_available():
    assert available_triggers() == [
        TriggerKind.MANUAL,
        TriggerKind.TRADE_FAIR_CAPTURE,
        TriggerKind.CUSTOMER_INACTIVE,
    ]


def test_declared_events_make_their_triggers_available(declared):
    assert available_triggers() == list(TriggerKind)


def test_the_forms_offer_available_triggers_and_the_current_one():
    assert [v for v, _ in ProcessCreateForm().fields["trigger"].choices] == [
        "manual",
        "trade_fair_capture",
        "customer_inactive",
    ]
    form = VersionForm(initial={"trigger": "lead_created"})
    assert [v for v, _ in form.fields["trigger"].choices] == [
        "manual",
        "trade_fair_capture",
        "lead_created",
        "customer_inactive",
    ]
    refused = ProcessCreateForm(
        {"name": "X", "subject_kind": "person", "goal": "Y", "trigger": "case_opened"}
    )
    assert set(refused.errors) == {"trigger"}


# --- NUL in the trigger settings (PostgreSQL's jsonb cannot hold it) --------------------


def test_trigger_settings_with_a_nul_are_refused_in_form_service_and_api(client, team):
    manager = UserFactory(
        username="manager", role=Role.objects.get(code=RoleCode.SALES_MANAGER), teams=[team]
    )
    form = ProcessCreateForm(
        {
            "name": "X",
            "subject_kind": "person",
            "goal": "Y",
            "trigger": "manual",
            "trigger_config": '{"source": "web\\u0000"}',
        }
    )
    assert form.errors == {"trigger_config": ["Null characters are not allowed."]}
    with pytest.raises(ValidationError) as exc:
        definitions.process_create(
            actor=manager, name="X", goal="Y", trigger_config={"source": "web\x00"}
        )
    assert exc.value.message_dict == {"trigger_config": ["Null characters are not allowed."]}
    response = post_json(
        client,
        "/api/v1/processes",
        {"name": "X", "goal": "Y", "trigger_config": {"source": "web\u0000"}},
        **writer(manager),
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "trigger_config.source", "message": "Null characters are not allowed."}
    ]
    assert not Process.objects.exists()
