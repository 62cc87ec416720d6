"""Process instances in the API."""

import pytest

from kontor.processes.models import InstanceStatus, ProcessInstance, Transition
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
