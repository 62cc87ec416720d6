"""Process definitions in the API: list, create, read with the nested version, patch
a draft (with optimistic locking), publish (422 listing the problems) and new drafts."""

import json

import pytest
from django.utils import translation

from kontor.core.permissions import RoleCode
from kontor.processes.models import ProcessVersion, Step, Transition
from kontor.processes.services import definitions as services
from tests.conftest import role
from tests.core.factories import UserFactory
from tests.core.test_api import post_json, reader, writer
from tests.processes.test_definitions import rich_process, start_instance, state

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(team):
    """A sales manager: may define processes (processes.manage)."""
    return UserFactory(username="manager", role=role(RoleCode.SALES_MANAGER), teams=[team])


@pytest.fixture(autouse=True)
def _english(settings):
    # Problem texts are asserted in English (the msgids).
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def patch_json(client, url, data, **headers):
    return client.patch(url, data=json.dumps(data), content_type="application/json", **headers)


def test_list_shows_published_version_draft_and_running_count(client, manager, owner):
    process = rich_process(manager)
    services.version_publish(actor=manager, version=process.versions.get())
    start_instance(process.versions.get(), owner)
    services.process_create(actor=manager, name="Angebot wird Auftrag", goal="Auftrag")
    response = client.get("/api/v1/processes", **reader(owner))
    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    assert [
        (p["name"], p["published_version"], p["has_draft"], p["running_instances"])
        for p in body["items"]
    ] == [
        ("Angebot wird Auftrag", None, True, 0),
        ("Messebesucher wird Neukunde", 1, False, 1),
    ]


def test_list_pages_with_a_cursor(client, manager):
    for n in range(3):
        services.process_create(actor=manager, name=f"P{n}", goal="G")
    first = client.get("/api/v1/processes?limit=2", **reader(manager)).json()
    assert [p["name"] for p in first["items"]] == ["P0", "P1"]
    second = client.get(
        f"/api/v1/processes?limit=2&cursor={first['next_cursor']}", **reader(manager)
    ).json()
    assert ([p["name"] for p in second["items"]], second["next_cursor"]) == (["P2"], None)


def test_create_and_read_a_process_with_its_nested_version(client, manager):
    response = post_json(
        client,
        "/api/v1/processes",
        {
            "name": "Kundenbesuch",
            "goal": "Besuchsbericht",
            "subject_kind": "organization",
            "trigger": "manual",
        },
        **writer(manager),
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["subject_kind"], body["owner"]) == (
        "Kundenbesuch",
        "organization",
        "manager",
    )
    assert body["versions"] == [{"number": 1, "status": "draft", "published_at": None}]
    version = body["version"]
    assert (version["number"], version["editable"], version["problems"]) == (1, True, [])
    assert [(s["key"], s["is_end"], s["transitions"]) for s in version["steps"]] == [
        ("start", False, [{"id": version["steps"][0]["transitions"][0]["id"], "source": "start",
                           "target": "end", "label": "", "condition": {}}]),
        ("end", True, []),
    ]  # fmt: skip


def test_detail_shows_steps_activities_and_transitions_of_the_asked_version(
    client, manager, django_assert_max_num_queries
):
    process = rich_process(manager)
    services.version_publish(actor=manager, version=process.versions.get())
    v2 = services.version_new_draft(actor=manager, process=process)
    services.step_update(
        actor=manager, step=v2.steps.get(key="offer"), name="Angebot v2", responsible="sales_rep"
    )
    headers = reader(manager)
    with django_assert_max_num_queries(14):
        body = client.get(f"/api/v1/processes/{process.uuid}", **headers).json()
    assert body["version"]["number"] == 1
    assert [v["number"] for v in body["versions"]] == [2, 1]
    steps = {s["key"]: s for s in body["version"]["steps"]}
    assert steps["offer"]["name"] == "Angebot"
    assert [(a["kind"], a["grade"], a["required"]) for a in steps["nachfassen"]["activities"]] == [
        ("task", "must", True),
        ("email", "should", False),
        ("appointment", "can", False),
    ]
    assert steps["nachfassen"]["activities"][0]["config"] == {"priority": "high"}
    assert [
        (t["target"], t["label"], t["condition"]) for t in steps["nachfassen"]["transitions"]
    ] == [
        ("offer", "Interessiert", {}),
        ("kein-interesse", "Kein Interesse", {"field": "person.lifecycle", "equals": "lost"}),
    ]
    assert steps["nachfassen"]["required_fields"] == ["person.email", "custom.budget"]
    assert (steps["offer"]["activities"][0]["acceptance"], body["version"]["editable"]) == (
        "accepted",
        False,
    )
    body = client.get(f"/api/v1/processes/{process.uuid}?version=2", **headers).json()
    assert body["version"]["number"] == 2
    assert {s["key"]: s["name"] for s in body["version"]["steps"]}["offer"] == "Angebot v2"
    assert client.get(f"/api/v1/processes/{process.uuid}?version=7", **headers).status_code == 404


def test_patch_a_draft_with_optimistic_locking(client, manager):
    process = services.process_create(actor=manager, name="P", goal="G")
    url = f"/api/v1/processes/{process.uuid}/versions/1"
    headers = writer(manager)
    response = patch_json(
        client, url, {"goal": "Neu", "trigger": "customer_inactive",
                      "trigger_config": {"months": 6}, "lock_version": 1}, **headers,
    )  # fmt: skip
    assert response.status_code == 200
    version = response.json()["version"]
    assert version["goal"] == "Neu"
    assert (version["trigger"], version["trigger_config"]) == ("customer_inactive", {"months": 6})
    assert version["lock_version"] == 2
    response = patch_json(client, url, {"goal": "Alt", "lock_version": 1}, **headers)
    assert response.status_code == 409
    assert response.json()["current_version"] == 2
    assert process.versions.get().goal == "Neu"
    # Unknown fields are refused.
    assert patch_json(client, url, {"name": "x", "lock_version": 2}, **headers).status_code == 422


def test_patch_a_published_version_is_refused(client, manager):
    process = rich_process(manager)
    services.version_publish(actor=manager, version=process.versions.get())
    before = state()
    response = patch_json(
        client,
        f"/api/v1/processes/{process.uuid}/versions/1",
        {"goal": "x", "lock_version": 1},
        **writer(manager),
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": None,
            "message": "Version 1 is published or in use and cannot be changed. Edit a new "
            "draft: running instances finish on the version they started with.",
        }
    ]
    assert state() == before


def test_publish_with_problems_is_a_422_listing_them(client, manager):
    process = rich_process(manager)
    Step.objects.filter(version__process=process, key="offer").update(responsible="")
    Transition.objects.filter(version__process=process, source__key="offer").delete()
    before = state()
    response = client.post(
        f"/api/v1/processes/{process.uuid}/versions/1/publish", **writer(manager)
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert [(p["code"], p["step"]) for p in body["problems"]] == [
        ("no_responsible", "offer"),
        ("dead_end", "offer"),
        ("unreachable", "end"),
    ]
    assert body["errors"][0] == {
        "field": "offer",
        "message": "Step “Angebot” has no responsible role.",
    }
    assert state() == before


def test_publish_and_new_draft(client, manager, owner):
    process = rich_process(manager)
    headers = writer(manager)
    response = client.post(f"/api/v1/processes/{process.uuid}/versions/1/publish", **headers)
    assert response.status_code == 200
    assert response.json()["version"]["status"] == "published"
    start_instance(process.versions.get(), owner)
    response = client.post(f"/api/v1/processes/{process.uuid}/drafts", **headers)
    assert response.status_code == 201
    assert (response.json()["version"]["number"], response.json()["version"]["editable"]) == (
        2,
        True,
    )
    # Asking again returns the open draft.
    response = client.post(f"/api/v1/processes/{process.uuid}/drafts", **headers)
    assert response.status_code == 200
    assert response.json()["version"]["number"] == 2
    assert ProcessVersion.objects.filter(process=process).count() == 2


def test_writes_need_processes_manage_and_a_writing_token(client, manager, owner):
    process = rich_process(manager)
    before = state()
    rep = writer(owner)
    assert (
        post_json(client, "/api/v1/processes", {"name": "X", "goal": "Y"}, **rep).status_code == 403
    )
    assert (
        patch_json(
            client,
            f"/api/v1/processes/{process.uuid}/versions/1",
            {"goal": "x", "lock_version": 1},
            **rep,
        )
    ).status_code == 403
    assert (
        client.post(f"/api/v1/processes/{process.uuid}/versions/1/publish", **rep).status_code
        == 403
    )
    assert client.post(f"/api/v1/processes/{process.uuid}/drafts", **rep).status_code == 403
    assert (
        post_json(client, "/api/v1/processes", {"name": "X", "goal": "Y"}, **reader(manager))
    ).status_code == 403
    assert state() == before
    assert client.get(f"/api/v1/processes/{process.uuid}", **reader(owner)).status_code == 200


def test_unknown_process_is_404(client, manager):
    response = client.get(
        "/api/v1/processes/00000000-0000-0000-0000-000000000000", **reader(manager)
    )
    assert response.status_code == 404
