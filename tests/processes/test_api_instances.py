"""Process instances in the API."""

import pytest

from kontor.activities.models import Activity, Task
from kontor.core.models import AuditEntry
from kontor.processes.models import (
    ActivityType,
    InstanceStatus,
    ProcessInstance,
    Step,
    StepActivity,
    Transition,
)
from kontor.processes.services import instances as engine
from tests.core.test_api import post_json, reader, writer
from tests.customers.factories import PersonFactory, owned_by
from tests.processes.test_instances import build

pytestmark = pytest.mark.django_db


def test_start_list_detail_done_choose(client, owner, outsider):
    version = build(branch=True)
    person = owned_by(PersonFactory, owner)
    response = post_json(
        client,
        "/api/v1/process-instances",
        {"process": str(version.process.uuid), "person": str(person.uuid)},
        **writer(owner),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["current_step"] == "first"
    assert [i["kind"] for i in body["items"]] == ["task", "checklist"]
    assert body["items"][0]["task"] is not None
    uuid = body["uuid"]

    listing = client.get(f"/api/v1/process-instances?person={person.uuid}", **reader(owner))
    assert [i["uuid"] for i in listing.json()["items"]] == [uuid]
    assert client.get("/api/v1/process-instances", **reader(outsider)).json()["items"] == []
    assert client.get(f"/api/v1/process-instances/{uuid}", **reader(outsider)).status_code == 404

    item_id = body["items"][0]["id"]
    done = post_json(
        client, f"/api/v1/process-instances/{uuid}/items/{item_id}/done", {}, **writer(owner)
    )
    assert done.status_code == 200, done.content
    assert [c["label"] for c in done.json()["choices"]] == ["won", "lost"]
    again = post_json(
        client, f"/api/v1/process-instances/{uuid}/items/{item_id}/done", {}, **writer(owner)
    )
    assert again.status_code == 422

    won = Transition.objects.get(version=version, label="won")
    chosen = post_json(
        client, f"/api/v1/process-instances/{uuid}/choose", {"transition": won.pk}, **writer(owner)
    )
    assert chosen.status_code == 200
    assert chosen.json()["status"] == "completed"
    assert chosen.json()["goal_reached"] is True


def test_start_refused_for_outsider_and_unpublished(client, owner, outsider):
    version = build()
    draft = build(name="Draft", status="draft")
    person = owned_by(PersonFactory, owner)
    data = {"process": str(version.process.uuid), "person": str(person.uuid)}
    assert (
        post_json(client, "/api/v1/process-instances", data, **writer(outsider)).status_code == 404
    )
    data["process"] = str(draft.process.uuid)
    assert post_json(client, "/api/v1/process-instances", data, **writer(owner)).status_code == 422
    assert ProcessInstance.objects.count() == 0


def test_cancel(client, owner):
    version = build()
    person = owned_by(PersonFactory, owner)
    instance = engine.instance_start(actor=owner, version_or_process=version, person=person)
    url = f"/api/v1/process-instances/{instance.uuid}/cancel"
    assert post_json(client, url, {"reason": ""}, **writer(owner)).status_code == 422
    response = post_json(client, url, {"reason": "Not interested"}, **writer(owner))
    assert response.status_code == 200
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.CANCELLED
    assert instance.cancel_reason == "Not interested"


def two_steps_of_work():
    """first (a task, an optional checkbox) → second (two tasks, a checkbox) → done."""
    version = build()
    done = Step.objects.get(version=version, key="done")
    second = Step.objects.create(
        version=version, key="second", name="Visit", position=1, deadline_days=5
    )
    StepActivity.objects.create(step=second, kind=ActivityType.TASK, title="Visit", position=0)
    StepActivity.objects.create(step=second, kind=ActivityType.TASK, title="Offer", position=1)
    StepActivity.objects.create(step=second, kind=ActivityType.CHECKLIST, title="Notes", position=2)
    Transition.objects.filter(version=version).update(target=second)
    Transition.objects.create(version=version, source=second, target=done)
    return version


def test_item_done_stays_cheap(client, owner, django_assert_max_num_queries):
    # given an instance in its first step
    version = two_steps_of_work()
    person = owned_by(PersonFactory, owner)
    instance = engine.instance_start(actor=owner, version_or_process=version, person=person)
    first = instance.step_runs.get()
    optional = first.items.get(activity__required=False)
    task = first.items.get(activity__kind=ActivityType.TASK)
    url = f"/api/v1/process-instances/{instance.uuid}/items/%s/done"
    headers = writer(owner)
    audited = AuditEntry.objects.count()

    # when an item is ticked that does not finish the step (the token's own
    # bookkeeping included: 5 queries)
    with django_assert_max_num_queries(15):
        ticked = post_json(client, url % optional.pk, {}, **headers)
    # then
    assert ticked.status_code == 200, ticked.content
    assert ticked.json()["current_step"] == "first"
    assert ticked.json()["lock_version"] == 2
    assert AuditEntry.objects.count() == audited + 1

    # when the item that finishes it is done: the next step is entered with its
    # two tasks (each created and audited by the tasks service), a history note
    with django_assert_max_num_queries(33):
        advanced = post_json(client, url % task.pk, {}, **headers)
    # then
    assert advanced.status_code == 200, advanced.content
    body = advanced.json()
    assert body["current_step"] == "second"
    assert body["lock_version"] == 3
    assert [(i["title"], i["kind"], i["done_at"]) for i in body["items"]] == [
        ("Visit", "task", None),
        ("Offer", "task", None),
        ("Notes", "checklist", None),
    ]
    tasks = Task.objects.filter(person=person).exclude(title="Onboarding: Call them")
    assert sorted(str(t.uuid) for t in tasks) == sorted(i["task"] for i in body["items"][:2])
    assert [(s["step"], s["status"]) for s in body["steps"]] == [
        ("first", "done"),
        ("second", "active"),
    ]
    assert body["choices"] == []
    assert (
        Activity.objects.filter(person=person, subject="Process Onboarding: Visit reached").count()
        == 1
    )
    # the instance's update, the two tasks, the note
    assert AuditEntry.objects.count() == audited + 1 + 4
    assert client.get(f"/api/v1/process-instances/{instance.uuid}", **headers).json() == body


def test_item_done_of_another_instance_or_unseen_is_404_and_changes_nothing(
    client, owner, outsider, readonly
):
    version = build()
    person = owned_by(PersonFactory, owner)
    instance = engine.instance_start(actor=owner, version_or_process=version, person=person)
    other = engine.instance_start(
        actor=owner, version_or_process=version, person=owned_by(PersonFactory, owner)
    )
    item = instance.step_runs.get().items.get(activity__kind=ActivityType.TASK)
    url = f"/api/v1/process-instances/%s/items/{item.pk}/done"

    assert post_json(client, url % other.uuid, {}, **writer(owner)).status_code == 404
    assert post_json(client, url % instance.uuid, {}, **writer(outsider)).status_code == 404
    assert post_json(client, url % instance.uuid, {}, **writer(readonly)).status_code == 403
    item.refresh_from_db()
    assert item.done_at is None
    assert ProcessInstance.objects.get(pk=instance.pk).lock_version == 1


def test_pause_resume_and_undone(client, owner, outsider):
    version = build(branch=True)
    person = owned_by(PersonFactory, owner)
    instance = engine.instance_start(actor=owner, version_or_process=version, person=person)
    base = f"/api/v1/process-instances/{instance.uuid}"
    # an outsider cannot pause what they cannot see; a read-only token cannot write
    assert post_json(client, f"{base}/pause", {}, **writer(outsider)).status_code == 404
    assert post_json(client, f"{base}/pause", {}, **reader(owner)).status_code == 403
    paused = post_json(client, f"{base}/pause", {}, **writer(owner))
    assert (paused.status_code, paused.json()["status"]) == (200, "paused")
    assert post_json(client, f"{base}/pause", {}, **writer(owner)).status_code == 422
    stale = post_json(client, f"{base}/resume", {"lock_version": 1}, **writer(owner))
    assert stale.status_code == 422
    resumed = post_json(client, f"{base}/resume", {}, **writer(owner))
    assert (resumed.status_code, resumed.json()["status"]) == (200, "running")

    checklist = next(i for i in resumed.json()["items"] if i["kind"] == "checklist")
    done = post_json(client, f"{base}/items/{checklist['id']}/done", {}, **writer(owner))
    assert done.status_code == 200
    undone = post_json(client, f"{base}/items/{checklist['id']}/undone", {}, **writer(owner))
    assert undone.status_code == 200
    item = next(i for i in undone.json()["items"] if i["id"] == checklist["id"])
    assert item["done_at"] is None
    # taking back what is not done changes nothing (idempotent, as in the UI)
    audits = AuditEntry.objects.count()
    again = post_json(client, f"{base}/items/{checklist['id']}/undone", {}, **writer(owner))
    assert (again.status_code, AuditEntry.objects.count()) == (200, audits)
