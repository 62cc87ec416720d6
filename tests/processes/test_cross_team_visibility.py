"""A process instance that names several customers is visible only to who may see all
of them (ProcessInstanceQuerySet.visible_to, on the rule of
VisibleQuerySet.every_visible_through) — as an activity, an appointment or a task.

The teams: the owner is a sales rep of "Vertrieb Nord", the outsider one of
"Vertrieb Süd" (team visibility each); the admin and a sales manager see all. A
process started by hand or by a trigger names one customer (the one it runs on); one
naming both a person and an organization comes from data written before (an import,
an earlier version), and is the case checked here.

- A hidden person at a visible organization: Süd's Sven Südlich at Nordwerk GmbH
  (Nord's). An instance naming both is none of the Nord rep's business: not in the
  API's list (by organization either), its detail, its page, its drawing, the
  organization's processes section; no write reaches it.
- A visible person at a hidden organization: Nord's Nora Nordlicht at Geheimwerk Süd
  AG. An instance naming both is hidden from the Nord rep, so the organization's name
  shows nowhere; a process the Nord rep runs on Nora keeps its history in sight."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from kontor.activities.models import Activity
from kontor.core.access import sees_every
from kontor.core.models import AuditEntry
from kontor.processes.models import (
    InstanceStatus,
    ProcessInstance,
    StepRun,
    StepRunItem,
    SubjectKind,
    TriggerKind,
)
from kontor.processes.services import instances as engine
from kontor.processes.triggers import start_for_event
from tests.core.test_api import post_json, reader, writer
from tests.cross_team import HIDDEN_ORG_NAME
from tests.processes.test_instances import build

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def naming_both(person, organization, *, name) -> ProcessInstance:
    """An instance of a person process on ``person`` that names ``organization`` too
    (as data written before may)."""
    version = build(name=name)
    instance = engine.instance_start(actor=None, version_or_process=version, person=person)
    ProcessInstance.objects.filter(pk=instance.pk).update(organization=organization)
    instance.refresh_from_db()
    return instance


@pytest.fixture
def sued_instance(sued_person, nord_org):
    return naming_both(sued_person, nord_org, name="Süd-Angebot")


@pytest.fixture
def nord_instance(nord_person, hidden_org):
    return naming_both(nord_person, hidden_org, name="Nord-Besuch")


def state():
    return (
        list(ProcessInstance.objects.order_by("pk").values()),
        list(StepRun.objects.order_by("pk").values()),
        list(StepRunItem.objects.order_by("pk").values()),
        AuditEntry.objects.count(),
    )


def api_list(client, user, **params) -> list[str]:
    response = client.get("/api/v1/process-instances", params, **reader(user))
    assert response.status_code == 200
    return [item["process_name"] for item in response.json()["items"]]


def section(client, user, customer) -> str:
    client.force_login(user)
    response = client.get(reverse("processes:customer_processes", args=[customer.uuid]))
    assert response.status_code == 200
    return response.content.decode()


# --- The rule -----------------------------------------------------------------------------


def test_the_queryset_and_the_single_record_check_agree(
    owner, outsider, teammate, admin, manager, sued_instance, nord_instance, nord_org, nord_person
):
    on_org = engine.instance_start(
        actor=owner,
        version_or_process=build(name="Org", kind=SubjectKind.ORGANIZATION),
        organization=nord_org,
    )
    on_person = engine.instance_start(
        actor=owner, version_or_process=build(name="Person"), person=nord_person
    )
    instances = [sued_instance, nord_instance, on_org, on_person]
    for user in (owner, outsider, teammate, admin, manager):
        visible = set(ProcessInstance.objects.visible_to(user).values_list("pk", flat=True))
        expected = {i.pk for i in instances if sees_every(user, i.person, i.organization)}
        assert visible == expected, user
    assert set(ProcessInstance.objects.visible_to(owner)) == {on_org, on_person}
    assert set(ProcessInstance.objects.visible_to(outsider)) == set()
    assert set(ProcessInstance.objects.visible_to(admin)) == set(instances)


# --- A hidden person at a visible organization ---------------------------------------------


def test_the_api_lists_nothing_by_organization_and_the_detail_is_404(
    client, owner, nord_org, sued_person, sued_instance
):
    assert api_list(client, owner) == []
    assert api_list(client, owner, organization=str(nord_org.uuid)) == []
    assert api_list(client, owner, person=str(sued_person.uuid)) == []
    url = f"/api/v1/process-instances/{sued_instance.uuid}"
    assert client.get(url, **reader(owner)).status_code == 404


def test_no_write_of_the_api_or_the_pages_reaches_it(client, owner, sued_instance):
    item = StepRunItem.objects.filter(step_run__instance=sued_instance).first()
    api = f"/api/v1/process-instances/{sued_instance.uuid}"
    before = state()
    for path, payload in (
        (f"{api}/items/{item.pk}/done", {}),
        (f"{api}/items/{item.pk}/undone", {}),
        (f"{api}/pause", {}),
        (f"{api}/cancel", {"reason": "Übernommen"}),
    ):
        assert post_json(client, path, payload, **writer(owner)).status_code == 404, path
    client.force_login(owner)
    assert client.get(sued_instance.get_absolute_url()).status_code == 404
    drawing = reverse("processes:instance_drawing", args=[sued_instance.uuid])
    assert client.get(drawing).status_code == 404
    for name, args, data in (
        ("processes:instance_item", [sued_instance.uuid, item.pk], {"done": "1"}),
        ("processes:instance_pause", [sued_instance.uuid], {}),
        ("processes:instance_cancel", [sued_instance.uuid], {"reason": "Übernommen"}),
    ):
        assert client.post(reverse(name, args=args), data).status_code == 404, name
    assert state() == before


def test_the_organizations_section_leaves_it_out(client, owner, nord_org, sued_instance):
    own = engine.instance_start(
        actor=owner,
        version_or_process=build(name="Eigener Prozess", kind=SubjectKind.ORGANIZATION),
        organization=nord_org,
    )
    body = section(client, owner, nord_org)
    assert f'data-instance="{own.uuid}"' in body
    assert str(sued_instance.uuid) not in body
    assert "Süd-Angebot" not in body


# --- A visible person at a hidden organization ---------------------------------------------


def test_an_instance_naming_a_hidden_organization_is_hidden_and_its_name_shows_nowhere(
    client, owner, nord_person, nord_instance
):
    assert api_list(client, owner, person=str(nord_person.uuid)) == []
    url = f"/api/v1/process-instances/{nord_instance.uuid}"
    assert client.get(url, **reader(owner)).status_code == 404
    body = section(client, owner, nord_person)
    assert str(nord_instance.uuid) not in body
    assert HIDDEN_ORG_NAME not in body
    client.force_login(owner)
    assert client.get(nord_instance.get_absolute_url()).status_code == 404


def test_a_process_run_on_the_person_keeps_its_history_in_sight(
    client, owner, nord_person, hidden_org
):
    """Kontor writes the history notes; linked to the person's organization of another
    team they would be hidden from the very rep who runs the process."""
    instance = engine.instance_start(
        actor=owner, version_or_process=build(name="Onboarding"), person=nord_person
    )
    assert instance.organization_id is None
    notes = Activity.objects.filter(person=nord_person)
    assert notes.exists()
    assert not notes.filter(organization=hidden_org).exists()
    assert set(Activity.objects.visible_to(owner)) == set(notes)
    assert [i["uuid"] for i in client.get(
        "/api/v1/process-instances", {"person": str(nord_person.uuid)}, **reader(owner)
    ).json()["items"]] == [str(instance.uuid)]  # fmt: skip


def test_a_trigger_still_starts_as_kontor_on_either_customer(
    client, owner, outsider, nord_person, hidden_org
):
    """A trade-fair capture by the Nord rep on Nora starts the person process on Nora
    and the organization process on Süd's organization — Kontor's checks, not the
    rep's; each instance is seen by the team of the customer it names."""
    build(name="Messe Person", trigger=TriggerKind.TRADE_FAIR_CAPTURE)
    build(name="Messe Firma", kind=SubjectKind.ORGANIZATION, trigger=TriggerKind.TRADE_FAIR_CAPTURE)
    started = start_for_event(
        trigger=TriggerKind.TRADE_FAIR_CAPTURE, record=nord_person, actor=owner
    )
    assert sorted(i.version.process.name for i in started) == ["Messe Firma", "Messe Person"]
    assert all(i.started_by == owner for i in started)
    assert all(i.status == InstanceStatus.RUNNING for i in started)
    assert api_list(client, owner) == ["Messe Person"]
    assert api_list(client, outsider) == ["Messe Firma"]


# --- Who sees all, and the cost -----------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "manager"])
def test_who_sees_all_still_sees_everything(
    client, request, who, nord_org, sued_instance, nord_instance
):
    user = request.getfixturevalue(who)
    assert sorted(api_list(client, user)) == ["Nord-Besuch", "Süd-Angebot"]
    assert str(sued_instance.uuid) in section(client, user, nord_org)
    assert client.get(sued_instance.get_absolute_url()).status_code == 200
    assert client.get(nord_instance.get_absolute_url()).status_code == 200


def test_the_list_costs_the_same_queries_for_one_instance_or_many(
    client, owner, nord_org, django_assert_num_queries
):
    def start(name):
        engine.instance_start(
            actor=owner,
            version_or_process=build(name=name, kind=SubjectKind.ORGANIZATION),
            organization=nord_org,
        )

    start("Eins")
    with CaptureQueriesContext(connection) as one:
        assert api_list(client, owner) == ["Eins"]
    start("Zwei")
    start("Drei")
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(api_list(client, owner)) == 3
