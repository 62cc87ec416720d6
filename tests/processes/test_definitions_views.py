"""The process editor pages: the list (one query for the figures), the process page
with the version picker, the edit flows, publishing, and "edit as new draft"."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kontor.core.permissions import RoleCode
from kontor.processes.models import Process, ProcessVersion, Step, StepActivity, Transition
from kontor.processes.services import definitions as services
from tests.conftest import role
from tests.core.factories import UserFactory
from tests.processes.test_definitions import rich_process, start_instance, state

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(team):
    """A sales manager: may define processes (processes.manage)."""
    return UserFactory(username="manager", role=role(RoleCode.SALES_MANAGER), teams=[team])


def detail(process, number=None) -> str:
    url = reverse("processes:process_detail", args=[process.uuid])
    return f"{url}?version={number}" if number else url


def v_url(name, process, number, *args) -> str:
    return reverse(f"processes:{name}", args=[process.uuid, number, *args])


def test_the_list_shows_each_process_with_its_figures_in_fixed_queries(
    client, manager, owner, django_assert_max_num_queries
):
    published = rich_process(manager)
    services.version_publish(actor=manager, version=published.versions.get())
    services.version_new_draft(actor=manager, process=published)
    start_instance(published.versions.get(number=1), owner)
    start_instance(published.versions.get(number=1), owner)
    for n in range(5):
        services.process_create(actor=manager, name=f"Entwurf {n}", goal="G")
    client.force_login(owner)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("processes:process_list"))
    assert response.status_code == 200
    rows = {p.name: p for p in response.context["processes"]}
    row = rows["Messebesucher wird Neukunde"]
    assert (row.published_number, row.has_draft, row.running_count) == (1, True, 2)
    assert row.published_trigger == "trade_fair_capture"
    assert f"<td>{row.trigger_label}</td>" in response.content.decode()
    draft = rows["Entwurf 0"]
    assert (draft.published_number, draft.has_draft, draft.running_count) == (None, True, 0)
    assert response.context["can_manage"] is False
    assert b'href="/processes/new/"' not in response.content


def test_the_list_query_count_does_not_grow_with_the_rows(
    client, manager, django_assert_num_queries
):
    client.force_login(manager)
    services.process_create(actor=manager, name="Eins", goal="G")
    with django_assert_num_queries(5) as one:
        client.get(reverse("processes:process_list"))
    for n in range(10):
        services.process_create(actor=manager, name=f"P{n}", goal="G")
    with django_assert_num_queries(len(one.captured_queries)):
        client.get(reverse("processes:process_list"))


def test_creating_a_process_in_the_browser(client, manager):
    client.force_login(manager)
    assert client.get(reverse("processes:process_create")).status_code == 200
    response = client.post(
        reverse("processes:process_create"),
        {
            "name": "Reklamation",
            "subject_kind": "person",
            "goal": "Zufriedener Kunde",
            "trigger": "customer_inactive",
            "trigger_config": '{"months": 12}',
            "description": "",
        },
    )
    process = Process.objects.get(name="Reklamation")
    assert response.status_code == 302
    assert response["Location"] == process.get_absolute_url()
    version = process.versions.get()
    assert (version.trigger, version.trigger_config) == ("customer_inactive", {"months": 12})


def test_an_invalid_create_form_saves_nothing(client, manager):
    client.force_login(manager)
    response = client.post(
        reverse("processes:process_create"),
        {
            "name": "",
            "subject_kind": "person",
            "goal": "",
            "trigger": "manual",
            "trigger_config": "[1]",
        },
    )
    assert response.status_code == 422
    assert set(response.context["form"].errors) == {"name", "goal", "trigger_config"}
    assert Process.objects.count() == 0


@pytest.mark.parametrize("persona", ["owner", "readonly"])
def test_users_without_processes_manage_may_look_but_not_edit(client, request, manager, persona):
    process = rich_process(manager)
    client.force_login(request.getfixturevalue(persona))
    response = client.get(detail(process))
    assert response.status_code == 200
    assert response.context["can_edit"] is False
    assert b"/steps/new/" not in response.content
    before = state()
    assert client.get(reverse("processes:process_create")).status_code == 403
    assert client.post(v_url("step_create", process, 1), {"name": "X"}).status_code == 403
    assert client.post(v_url("version_publish", process, 1)).status_code == 403
    assert (
        client.post(reverse("processes:process_new_draft", args=[process.uuid])).status_code == 403
    )
    assert state() == before


def test_the_process_page_shows_steps_activities_ways_and_problems(
    client, manager, django_assert_max_num_queries
):
    process = rich_process(manager)
    Step.objects.filter(version__process=process, key="offer").update(responsible="")
    client.force_login(manager)
    with django_assert_max_num_queries(14):
        response = client.get(detail(process))
    assert response.status_code == 200
    html = response.content.decode()
    assert [s.key for s in response.context["steps"]] == [
        "start", "nachfassen", "offer", "end", "kein-interesse",
    ]  # fmt: skip
    assert [p.code for p in response.context["problems"]] == ["no_responsible"]
    assert 'data-code="no_responsible"' in html
    for grade in ("must", "should", "can", "out"):
        assert f'class="grade grade-{grade}"' in html
    assert 'id="step-offer"' in html
    assert "Hannover Messe" in html
    assert response.context["can_edit"] is True


def test_the_page_costs_the_same_queries_for_a_bigger_process(
    client, manager, django_assert_num_queries
):
    small = services.process_create(actor=manager, name="Klein", goal="G")
    big = rich_process(manager)
    client.force_login(manager)
    client.get(detail(small))  # warm the session and content-type caches
    with CaptureQueriesContext(connection) as small_q:
        client.get(detail(small))
    with django_assert_num_queries(len(small_q.captured_queries)):
        client.get(detail(big))


def test_the_version_picker_shows_an_older_version(client, manager):
    process = rich_process(manager)
    services.version_publish(actor=manager, version=process.versions.get())
    v2 = services.version_new_draft(actor=manager, process=process)
    services.step_create(actor=manager, version=v2, name="Nur in zwei")
    client.force_login(manager)
    response = client.get(detail(process))
    assert response.context["version"].number == 1  # the published one by default
    assert "nur-in-zwei" not in [s.key for s in response.context["steps"]]
    assert response.context["frozen"] is True
    response = client.get(detail(process, 2))
    assert response.context["version"].number == 2
    assert "nur-in-zwei" in [s.key for s in response.context["steps"]]
    assert client.get(detail(process, 9)).status_code == 404


def test_editing_steps_ways_and_activities_in_the_browser(client, manager):
    process = services.process_create(actor=manager, name="P", goal="G")
    client.force_login(manager)
    response = client.post(
        v_url("step_create", process, 1),
        {
            "name": "Angebot schreiben",
            "key": "",
            "lane": "sales",
            "responsible": "sales_rep",
            "deadline_days": "5",
            "required_fields": "person.email\ncustom.budget",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == detail(process, 1)
    step = Step.objects.get(version__process=process, key="angebot-schreiben")
    assert (step.position, step.deadline_days, step.required_fields) == (
        2,
        5,
        ["person.email", "custom.budget"],
    )
    response = client.post(
        v_url("step_edit", process, 1, "angebot-schreiben"),
        {"name": "Angebot", "lane": "sales", "responsible": "record_owner"},
    )
    assert response.status_code == 302
    step.refresh_from_db()
    assert (step.name, step.key, step.deadline_days, step.required_fields) == (
        "Angebot", "angebot-schreiben", None, [],
    )  # fmt: skip
    response = client.post(v_url("step_move", process, 1, step.key), {"direction": "up"})
    step.refresh_from_db()
    assert step.position == 1
    response = client.post(
        v_url("transition_create", process, 1, step.key),
        {"target": "end", "label": "Auftrag", "condition_field": "", "condition_equals": ""},
    )
    assert response.status_code == 302
    way = Transition.objects.get(source=step)
    assert (way.target.key, way.label, way.condition) == ("end", "Auftrag", {})
    response = client.post(
        v_url("transition_edit", process, 1, way.pk),
        {"target": "end", "label": "", "condition_field": "person.vip", "condition_equals": "true"},
    )
    way.refresh_from_db()
    assert way.condition == {"field": "person.vip", "equals": True}
    response = client.post(
        v_url("step_activity_create", process, 1, step.key),
        {
            "kind": "task",
            "title": "Angebot senden",
            "grade": "should",
            "required": "on",
            "config": "",
        },
    )
    assert response.status_code == 302
    activity = StepActivity.objects.get(step=step)
    assert (activity.kind, activity.grade, activity.required, activity.config) == (
        "task", "should", True, {},
    )  # fmt: skip
    client.post(
        v_url("step_activity_edit", process, 1, activity.pk),
        {"kind": "email", "title": "Mail", "grade": "out", "config": '{"send": true}'},
    )
    activity.refresh_from_db()
    assert (activity.kind, activity.title, activity.grade, activity.required, activity.config) == (
        "email", "Mail", "out", False, {"send": True},
    )  # fmt: skip
    client.post(v_url("step_activity_delete", process, 1, activity.pk))
    assert not StepActivity.objects.filter(step=step).exists()
    client.post(v_url("transition_delete", process, 1, way.pk))
    assert not Transition.objects.filter(source=step).exists()
    client.post(v_url("step_delete", process, 1, step.key))
    assert not Step.objects.filter(pk=step.pk).exists()


def test_a_step_form_error_is_shown_and_nothing_saved(client, manager):
    process = services.process_create(actor=manager, name="P", goal="G")
    client.force_login(manager)
    before = state()
    response = client.post(
        v_url("step_create", process, 1),
        {"name": "X", "key": "start", "lane": "sales", "responsible": "sales_rep"},
    )
    assert response.status_code == 422
    assert list(response.context["form"].errors) == ["key"]
    assert state() == before


def test_publish_with_problems_shows_them_and_changes_nothing(client, manager):
    process = rich_process(manager)
    Transition.objects.filter(version__process=process, source__key="offer").delete()
    client.force_login(manager)
    before = state()
    response = client.post(v_url("version_publish", process, 1), follow=True)
    assert response.redirect_chain == [(detail(process, 1), 302)]
    assert [p.code for p in response.context["problems"]] == ["dead_end", "unreachable"]
    assert len(list(response.context["messages"])) == 1
    assert state() == before


def test_publish_then_edit_as_new_draft(client, manager, owner):
    process = rich_process(manager)
    client.force_login(manager)
    client.post(v_url("version_publish", process, 1))
    assert process.versions.get().status == "published"
    start_instance(process.versions.get(), owner)
    # The published version's forms refuse and send back to the page.
    before = state()
    response = client.post(
        v_url("step_edit", process, 1, "offer"),
        {"name": "Anders", "lane": "sales", "responsible": "sales_rep"},
    )
    assert response.status_code == 302
    assert state() == before
    response = client.get(detail(process, 1))
    assert b"/drafts/" in response.content
    response = client.post(reverse("processes:process_new_draft", args=[process.uuid]))
    assert response["Location"] == detail(process, 2)
    v2 = ProcessVersion.objects.get(process=process, number=2)
    assert v2.status == "draft"
    response = client.post(
        v_url("step_edit", process, 2, "offer"),
        {"name": "Anders", "lane": "sales", "responsible": "sales_rep"},
    )
    assert response.status_code == 302
    assert Step.objects.get(version=v2, key="offer").name == "Anders"
    assert (
        Step.objects.get(version__number=1, version__process=process, key="offer").name == "Angebot"
    )
    # The open draft is reused, not copied again.
    client.post(reverse("processes:process_new_draft", args=[process.uuid]))
    assert process.versions.count() == 2


def test_version_form_saves_and_detects_a_conflict(client, manager):
    process = services.process_create(actor=manager, name="P", goal="G")
    client.force_login(manager)
    url = v_url("version_edit", process, 1)
    data = {
        "goal": "Neu",
        "description": "",
        "trigger": "manual",
        "trigger_config": "",
        "lock_version": 1,
    }
    assert client.post(url, data).status_code == 302
    response = client.post(url, {**data, "goal": "Alt"})
    assert response.status_code == 409
    assert process.versions.get().goal == "Neu"
    # Saving again (the form now carries the current lock_version) keeps mine.
    assert response.context["form"].data["lock_version"] == 2
    assert client.post(url, {**data, "goal": "Alt", "lock_version": 2}).status_code == 302
    assert process.versions.get().goal == "Alt"


def test_an_unknown_process_is_404(client, manager):
    client.force_login(manager)
    assert client.get("/processes/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_archive_hides_the_process_from_the_list(client, manager):
    process = services.process_create(actor=manager, name="Alt", goal="G")
    client.force_login(manager)
    client.post(reverse("processes:process_archive", args=[process.uuid]), {"archived": "1"})
    assert [
        p.name for p in client.get(reverse("processes:process_list")).context["processes"]
    ] == []
    archived = client.get(reverse("processes:process_list") + "?archived=1").context["processes"]
    assert [p.name for p in archived] == ["Alt"]


def test_a_trigger_whose_app_is_missing_is_explained_on_the_process_page(client, manager):
    process = rich_process(manager)
    client.force_login(manager)
    waiting = "This trigger fires once the sales or service app is installed"
    assert waiting not in client.get(detail(process)).content.decode()
    ProcessVersion.objects.filter(process=process).update(trigger="lead_created")
    assert waiting in client.get(detail(process)).content.decode()
