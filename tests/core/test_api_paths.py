"""Paths the API has no operation for answer problems, never the HTML pages: a write
to a malformed UUID got the "form expired" page of the CSRF check (42 conformance
failures per fuzz run). UUIDs in capitals name the same record as in lower case."""

import json

import pytest
from django.test import Client, RequestFactory

from kontor.activities.models import TaskStatus
from kontor.core.views import csrf_failure
from tests.activities.factories import TaskFactory
from tests.core.test_api import PROBLEM, assert_problem, reader, writer

pytestmark = pytest.mark.django_db

NOT_FOUND = ("Page not found", "This page does not exist, or you may not see it.")


@pytest.fixture
def task(owner, team):
    return TaskFactory(owner=owner, team=team, title="Anrufen")


def test_a_uuid_in_capitals_names_the_same_record(owner, task):
    client = Client(enforce_csrf_checks=True)
    upper = str(task.uuid).upper()
    response = client.get(f"/api/v1/tasks/{upper}", **reader(owner))
    assert (response.status_code, response.json()["uuid"]) == (200, str(task.uuid))
    response = client.post(f"/api/v1/tasks/{upper}/done", **writer(owner))
    assert response.status_code == 200
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE


# Paths the document has no operation for, on purpose: the answer is checked here.
@pytest.mark.undocumented
@pytest.mark.parametrize("method", ["post", "patch", "delete", "put"])
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tasks/not-a-uuid/done",
        "/api/v1/tasks/1234",
        "/api/v1/persons/00000000-0000-0000-0000-00000000000G",
        "/api/v1/no/such/thing",
    ],
)
def test_a_write_to_a_path_without_operation_is_a_404_problem(owner, method, path):
    # As a real server does it: the CSRF check on (the test client leaves it off).
    client = Client(enforce_csrf_checks=True)
    # Decided before the token is read: the language comes from the request.
    response = getattr(client, method)(path, HTTP_ACCEPT_LANGUAGE="en", **writer(owner))
    assert_problem(response, 404, *NOT_FOUND)


def test_a_capital_uuid_of_a_record_one_may_not_see_is_404(client, outsider, task):
    response = client.post(f"/api/v1/tasks/{str(task.uuid).upper()}/done", **writer(outsider))
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM


def test_a_browser_write_without_csrf_token_is_a_403_problem(owner, task):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    for path in (f"/api/v1/tasks/{task.uuid}/done", f"/api/v1/tasks/{str(task.uuid).upper()}/done"):
        response = browser.post(path)
        assert response.status_code == 403
        assert response["Content-Type"] == PROBLEM
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_the_csrf_failure_view_answers_a_problem_under_api_and_a_page_elsewhere():
    factory = RequestFactory()
    response = csrf_failure(factory.post("/api/v1/tasks"), reason="CSRF cookie not set.")
    assert (response.status_code, response["Content-Type"]) == (403, PROBLEM)
    assert json.loads(response.content)["detail"] == (
        "The CSRF check failed: send the X-CSRFToken header with the session cookie."
    )
    response = csrf_failure(factory.post("/customers/persons/new/"))
    assert response.status_code == 403
    assert "The form has expired" in response.content.decode()
