"""Process figures in the API: the same numbers as kontor.processes.measurement (and
so as the figures page), the same version choice and the same permission."""

import datetime as dt

import pytest
from django.utils import timezone, translation

from kontor.core.models import Role
from kontor.core.permissions import Capability, RoleCode
from kontor.processes.measurement import version_figures
from kontor.processes.models import (
    InstanceStatus,
    Process,
    ProcessInstance,
    ProcessVersion,
    Step,
    StepRun,
    StepRunStatus,
    VersionStatus,
)
from tests.core.test_api import assert_problem, reader
from tests.customers.factories import PersonFactory, owned_by

pytestmark = pytest.mark.django_db

# Ten days back, so that "overdue now" is the same for the API and for the test.
BASE = timezone.now().replace(microsecond=0) - dt.timedelta(days=10)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def _version(process=None, number=1, status=VersionStatus.PUBLISHED):
    process = process or Process.objects.create(name="Messe")
    version = ProcessVersion.objects.create(
        process=process, number=number, status=status, goal="Auftrag"
    )
    first = Step.objects.create(version=version, key="call", name="Anruf", position=1, lane="sales")
    last = Step.objects.create(version=version, key="won", name="Auftrag", position=2, is_end=True)
    return version, first, last


def _instance(version, person, *, status, goal=False, hours=None):
    instance = ProcessInstance.objects.create(
        version=version, person=person, status=status, goal_reached=goal
    )
    ended = BASE + dt.timedelta(hours=hours) if hours is not None else None
    ProcessInstance.objects.filter(pk=instance.pk).update(started_at=BASE, ended_at=ended)
    return instance


def _run(instance, step, *, hours=None, due_in=None):
    return StepRun.objects.create(
        instance=instance,
        step=step,
        status=StepRunStatus.DONE if hours is not None else StepRunStatus.ACTIVE,
        entered_at=BASE,
        finished_at=BASE + dt.timedelta(hours=hours) if hours is not None else None,
        due_at=BASE + dt.timedelta(hours=due_in) if due_in is not None else None,
    )


def _populated(owner):
    """Four instances: two completed (10 h with the goal, 30 h without), one running,
    one cancelled; the first step finished twice (2 h, 48 h — late) and open once
    (past its due time)."""
    version, call, won = _version()
    person = owned_by(PersonFactory, owner)
    a = _instance(version, person, status=InstanceStatus.COMPLETED, goal=True, hours=10)
    b = _instance(version, person, status=InstanceStatus.COMPLETED, goal=False, hours=30)
    c = _instance(version, person, status=InstanceStatus.RUNNING)
    _instance(version, person, status=InstanceStatus.CANCELLED, hours=1)
    _run(a, call, hours=2, due_in=24)
    _run(a, won, hours=0)
    _run(b, call, hours=48, due_in=24)
    _run(c, call, due_in=1)
    return version


def _url(version):
    return f"/api/v1/processes/{version.process.uuid}/figures"


def _seconds(value):
    return None if value is None else round(value.total_seconds())


def test_figures_agree_with_the_measurement(client, owner, django_assert_max_num_queries):
    version = _populated(owner)
    headers = reader(owner)

    # The token's four (look-up, rate counter and its clean-up, last use), process,
    # version, the measurement's three (SQLite: five, with the durations).
    with django_assert_max_num_queries(11):
        response = client.get(_url(version), **headers)

    assert response.status_code == 200
    body = response.json()
    expected = version_figures(version)
    figures = body["figures"]
    assert (body["process"], body["name"], body["compare"]) == (
        str(version.process.uuid),
        "Messe",
        None,
    )
    assert {k: v for k, v in figures.items() if k != "steps"} == {
        "version": 1,
        "status": "published",
        "started": expected.started,
        "running": expected.running,
        "paused": expected.paused,
        "completed": expected.completed,
        "cancelled": expected.cancelled,
        "goal_reached": expected.goal_reached,
        "conversion": expected.conversion,
        "median_seconds": _seconds(expected.median),
        "p90_seconds": _seconds(expected.p90),
    }
    assert figures["steps"] == [
        {
            "key": s.step.key,
            "name": s.step.name,
            "position": s.step.position,
            "lane": s.step.lane,
            "entered": s.entered,
            "finished": s.finished,
            "active": s.active,
            "overdue": s.overdue,
            "overdue_rate": s.overdue_rate,
            "reached": s.reached,
            "median_seconds": _seconds(s.median),
            "p90_seconds": _seconds(s.p90),
        }
        for s in expected.steps
    ]
    # And the numbers themselves, so that agreeing is not agreeing on nothing.
    assert (figures["started"], figures["running"], figures["completed"]) == (4, 1, 2)
    assert (figures["cancelled"], figures["goal_reached"], figures["conversion"]) == (1, 1, 0.25)
    assert (figures["median_seconds"], figures["p90_seconds"]) == (20 * 3600, 28 * 3600)
    call, won = figures["steps"]
    assert (call["entered"], call["finished"], call["active"], call["overdue"]) == (3, 2, 1, 2)
    assert round(call["overdue_rate"], 3) == 0.667
    assert (call["median_seconds"], call["p90_seconds"]) == (25 * 3600, 43 * 3600 + 24 * 60)
    assert (won["entered"], won["reached"], won["overdue_rate"]) == (1, 0.25, 0.0)


def test_version_defaults_to_the_published_one_and_compares(client, owner):
    published = _populated(owner)
    _version(process=published.process, number=2, status=VersionStatus.DRAFT)
    headers = reader(owner)

    default = client.get(_url(published), **headers).json()
    asked = client.get(_url(published), {"version": 2, "compare": 1}, **headers).json()

    assert (default["figures"]["version"], default["figures"]["started"]) == (1, 4)
    assert (asked["figures"]["version"], asked["figures"]["status"]) == (2, "draft")
    assert (asked["figures"]["started"], asked["figures"]["conversion"]) == (0, None)
    assert [s["reached"] for s in asked["figures"]["steps"]] == [None, None]
    assert (asked["compare"]["version"], asked["compare"]["started"]) == (1, 4)
    assert asked["compare"] == default["figures"]


def test_without_a_published_version_the_latest_is_shown(client, owner):
    first, _call, _won = _version(status=VersionStatus.RETIRED)
    _version(process=first.process, number=2, status=VersionStatus.DRAFT)
    body = client.get(_url(first), **reader(owner)).json()
    assert body["figures"]["version"] == 2


def test_unknown_version_or_process_is_a_404_problem(client, owner):
    version, _call, _won = _version()
    headers = reader(owner)
    detail = "No such record, or you may not see it."

    assert_problem(client.get(_url(version), {"version": 9}, **headers), 404, "Not found", detail)
    assert_problem(client.get(_url(version), {"compare": 9}, **headers), 404, "Not found", detail)
    assert_problem(
        client.get("/api/v1/processes/3f1c1b2e-0000-4000-8000-000000000000/figures", **headers),
        404,
        "Not found",
        detail,
    )


def test_a_version_that_is_no_number_is_a_422(client, owner):
    version, _call, _won = _version()
    response = client.get(_url(version), {"version": "zwei"}, **reader(owner))
    assert_problem(
        response,
        422,
        "Invalid input",
        "Some fields are not valid.",
        errors=[{"field": "version", "message": "Enter a whole number."}],
    )


def test_same_permission_as_the_figures_page(client, owner):
    """A sales rep who may see customers sees the figures, in the API as on the page;
    without the capability both refuse."""
    version = _populated(owner)
    client.force_login(owner)
    assert client.get(f"/processes/{version.process.uuid}/figures/").status_code == 200
    assert client.get(_url(version), **reader(owner)).status_code == 200

    capabilities = [
        c for c in Role.objects.get(code=RoleCode.SALES_REP).capabilities if c != "customers.view"
    ]
    Role.objects.filter(code=RoleCode.SALES_REP).update(capabilities=capabilities)

    assert client.get(f"/processes/{version.process.uuid}/figures/").status_code == 403
    assert_problem(
        client.get(_url(version), **reader(owner)),
        403,
        "Forbidden",
        "Your role does not allow this.",
    )


def test_processes_manage_alone_is_enough(client, owner):
    version = _populated(owner)
    Role.objects.filter(code=RoleCode.SALES_REP).update(
        capabilities=[Capability.PROCESSES_MANAGE.value]
    )
    assert client.get(_url(version), **reader(owner)).json()["figures"]["started"] == 4


def test_without_a_token_or_session_it_is_a_401(client, owner):
    version, _call, _won = _version()
    response = client.get(_url(version))
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_the_browser_session_works_too(client, owner):
    version = _populated(owner)
    client.force_login(owner)
    assert client.get(_url(version)).json()["figures"]["started"] == 4
