"""The tasks API: list with filters and cursor, create, read, change with the
version (409), delete, done and reopen; visibility and capabilities."""

import datetime as dt
import json

import pytest

from kontor.activities.models import Recurrence, Task, TaskStatus
from kontor.activities.services import tasks as services
from kontor.core.models import AuditAction, AuditEntry
from tests.activities.factories import TaskFactory
from tests.core.test_api import post_json, reader, writer
from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by

pytestmark = pytest.mark.django_db

D = dt.date


def task_of(user, **kwargs) -> Task:
    return TaskFactory(owner=user, team=user.teams.order_by("id").first(), **kwargs)


def patch_json(client, url, data, **headers):
    return client.patch(url, data=json.dumps(data), content_type="application/json", **headers)


def state():
    return sorted(Task.objects.values_list("title", "status", "due_date", "version"))


def test_api_creates_a_task_for_a_colleague_on_a_customer(client, owner, teammate):
    person = owned_by(PersonFactory, owner)
    response = post_json(
        client,
        "/api/v1/tasks",
        {
            "title": "Angebot nachfassen",
            "due_date": "2025-05-02",
            "due_time": "09:30:00",
            "priority": "high",
            "assignee": "teammate",
            "recurrence": "weekly",
            "person": str(person.uuid),
        },
        **writer(owner),
    )
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("title", "due_date", "due_time", "priority", "status")} == {
        "title": "Angebot nachfassen",
        "due_date": "2025-05-02",
        "due_time": "09:30:00",
        "priority": "high",
        "status": "open",
    }
    assert (body["assignee"], body["created_by"], body["person"], body["version"]) == (
        "teammate",
        "owner",
        str(person.uuid),
        1,
    )
    assert AuditEntry.objects.get(action=AuditAction.CREATE).via == "api"


def test_api_create_refuses_bad_input_with_field_errors(client, owner):
    response = post_json(
        client,
        "/api/v1/tasks",
        {"title": "x", "due_date": "2025-05-02", "assignee": "nobody"},
        **writer(owner),
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["assignee"]
    response = post_json(client, "/api/v1/tasks", {"title": "x"}, **writer(owner))
    assert response.status_code == 422
    assert Task.objects.count() == 0


def test_api_read_only_token_and_role_cannot_create(client, owner, readonly):
    data = {"title": "x", "due_date": "2025-05-02"}
    assert post_json(client, "/api/v1/tasks", data, **reader(owner)).status_code == 403
    assert post_json(client, "/api/v1/tasks", data, **writer(readonly)).status_code == 403
    assert Task.objects.count() == 0


def test_api_list_filters_and_pages(client, owner, teammate, outsider):
    person = owned_by(PersonFactory, owner)
    organization = owned_by(OrganizationFactory, owner)
    a = task_of(owner, title="a", due_date=D(2025, 5, 1), person=person)
    b = task_of(owner, title="b", due_date=D(2025, 5, 2), organization=organization)
    c = task_of(teammate, title="c", due_date=D(2025, 5, 3))
    task_of(outsider, title="hidden", due_date=D(2025, 5, 3))
    d = task_of(owner, title="d", due_date=D(2025, 5, 4), status=TaskStatus.DONE)
    headers = reader(owner)

    def titles(query=""):
        response = client.get(f"/api/v1/tasks{query}", **headers)
        assert response.status_code == 200
        return [item["title"] for item in response.json()["items"]]

    assert titles() == ["a", "b", "c", "d"]
    assert titles("?assignee=me") == ["a", "b", "d"]
    assert titles("?assignee=teammate") == ["c"]
    assert titles("?assignee=outsider") == []
    assert titles("?status=done") == ["d"]
    assert titles("?due_after=2025-05-02&due_before=2025-05-03") == ["b", "c"]
    assert titles(f"?person={person.uuid}") == ["a"]
    assert titles(f"?organization={organization.uuid}") == ["b"]
    first = client.get("/api/v1/tasks?limit=2", **headers).json()
    assert [i["uuid"] for i in first["items"]] == [str(a.uuid), str(b.uuid)]
    second = client.get(f"/api/v1/tasks?limit=2&cursor={first['next_cursor']}", **headers).json()
    assert [i["uuid"] for i in second["items"]] == [str(c.uuid), str(d.uuid)]
    assert second["next_cursor"] is None


def test_api_patch_with_version_and_conflict(client, owner):
    task = task_of(owner, title="alt")
    url = f"/api/v1/tasks/{task.uuid}"
    response = patch_json(client, url, {"title": "neu", "version": 1}, **writer(owner))
    assert (response.status_code, response.json()["title"], response.json()["version"]) == (
        200,
        "neu",
        2,
    )
    before = state()
    response = patch_json(client, url, {"title": "zu spät", "version": 1}, **writer(owner))
    assert response.status_code == 409
    assert response.json()["current_version"] == 2
    assert state() == before


def test_api_done_creates_the_next_occurrence_and_reopen(client, owner):
    task = task_of(owner, due_date=D(2025, 1, 31), recurrence=Recurrence.MONTHLY)
    response = client.post(f"/api/v1/tasks/{task.uuid}/done", **writer(owner))
    assert (response.status_code, response.json()["status"], response.json()["done_by"]) == (
        200,
        "done",
        "owner",
    )
    following = Task.objects.get(previous=task)
    body = client.get(f"/api/v1/tasks/{following.uuid}", **reader(owner)).json()
    assert (body["due_date"], body["previous"]) == ("2025-02-28", str(task.uuid))
    response = client.post(f"/api/v1/tasks/{task.uuid}/reopen", **writer(owner))
    assert (response.json()["status"], response.json()["done_at"]) == ("open", None)


def test_api_delete(client, owner):
    task = task_of(owner)
    assert client.delete(f"/api/v1/tasks/{task.uuid}", **writer(owner)).status_code == 204
    assert Task.objects.count() == 0


def test_api_outsider_gets_404_and_nothing_changes(client, owner, outsider):
    task = task_of(owner)
    services.task_update(actor=owner, task=task, data={"title": "intern"})
    before = state()
    headers = writer(outsider)
    url = f"/api/v1/tasks/{task.uuid}"
    assert client.get(url, **headers).status_code == 404
    assert patch_json(client, url, {"title": "x", "version": 2}, **headers).status_code == 404
    assert client.post(f"{url}/done", **headers).status_code == 404
    assert client.delete(url, **headers).status_code == 404
    assert state() == before


def test_api_read_only_role_cannot_complete(client, owner, readonly):
    task = task_of(owner)
    assert client.post(f"/api/v1/tasks/{task.uuid}/done", **writer(readonly)).status_code == 403
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


@pytest.mark.parametrize("due_time", ["10:00:00+02:00", "10:00Z", "08:00:00-05:00"])
def test_a_due_time_with_a_utc_offset_is_refused_on_create_and_change(client, owner, due_time):
    # The due time is the wall-clock time of the due day; an offset is not converted.
    headers = writer(owner)
    refused = [{"field": "due_time", "message": "Enter the time without a UTC offset, e.g. 09:30."}]
    response = post_json(
        client,
        "/api/v1/tasks",
        {"title": "Anrufen", "due_date": "2027-05-03", "due_time": due_time},
        **headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"] == refused
    assert not Task.objects.exists()
    task = task_of(owner, title="Anrufen", due_date=D(2027, 5, 3), due_time=dt.time(9, 30))
    change = {"due_time": due_time, "version": task.version}
    response = patch_json(client, f"/api/v1/tasks/{task.uuid}", change, **headers)
    assert response.status_code == 422
    assert response.json()["errors"] == refused
    task.refresh_from_db()
    assert task.due_time == dt.time(9, 30)
    change = {"due_time": "10:15", "version": task.version}
    response = patch_json(client, f"/api/v1/tasks/{task.uuid}", change, **headers)
    assert (response.status_code, response.json()["due_time"]) == (200, "10:15:00")
