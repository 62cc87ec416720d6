"""Task pages: the list with filters and "show more", detail, create (with a
customer prefilled), edit (409 on a conflict), delete, and the 360° section."""

import datetime as dt
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from kontor.activities.models import Task, TaskStatus
from kontor.activities.services import tasks as services
from tests.activities.factories import TaskFactory
from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by

pytestmark = pytest.mark.django_db

D = dt.date
HTMX = {"HTTP_HX_REQUEST": "true"}
LIST = "/activities/tasks/"


def task_of(user, **kwargs) -> Task:
    return TaskFactory(owner=user, team=user.teams.order_by("id").first(), **kwargs)


def titles_in(response) -> list[str]:
    return re.findall(
        r'href="/activities/tasks/[0-9a-f-]+/">([^<]+)</a>', response.content.decode()
    )


def more_link(response) -> str:
    found = re.search(
        r'<tr class="more"><td colspan="6"><a href="\?([^"]+)"', response.content.decode()
    )
    return html.unescape(found.group(1)) if found else ""


def state():
    return sorted(Task.objects.values_list("title", "status", "due_date", "version"))


# --- The list --------------------------------------------------------------------------


def test_list_shows_my_open_tasks_by_default(client, owner, teammate):
    task_of(owner, title="Meine offene")
    task_of(owner, title="Meine erledigte", status=TaskStatus.DONE)
    task_of(teammate, title="Vom Kollegen")
    client.force_login(owner)
    html = client.get(LIST).content.decode()
    assert "Meine offene" in html
    assert "Meine erledigte" not in html
    assert "Vom Kollegen" not in html


def test_list_filters_by_team_user_status_due_and_priority(client, owner, teammate, outsider):
    task_of(owner, title="Eigene", due_date=D(2025, 5, 1), priority="high")
    task_of(teammate, title="Team", due_date=D(2025, 5, 2))
    task_of(outsider, title="Fremd", due_date=D(2025, 5, 2))
    task_of(teammate, title="Team erledigt", due_date=D(2025, 5, 3), status=TaskStatus.DONE)
    client.force_login(owner)

    def titles(**params):
        return titles_in(client.get(LIST, {"status": "", **params}, **HTMX))

    assert titles(assignee="team") == ["Eigene", "Team", "Team erledigt"]
    assert titles(assignee="teammate", status="open") == ["Team"]
    assert titles(assignee="") == ["Eigene", "Team", "Team erledigt"]  # outsider not visible
    assert titles(assignee="team", due_after="2025-05-02", due_before="2025-05-02") == ["Team"]
    assert titles(assignee="team", priority="high") == ["Eigene"]


def test_list_pages_with_show_more_in_fixed_queries(client, owner, django_assert_max_num_queries):
    person = owned_by(PersonFactory, owner)
    for i in range(55):
        task_of(
            owner, title=f"T{i:02}", due_date=D(2025, 5, 1) + dt.timedelta(days=i), person=person
        )
    client.force_login(owner)
    with django_assert_max_num_queries(9):
        response = client.get(LIST)
    assert titles_in(response) == [f"T{i:02}" for i in range(50)]
    more = more_link(response)
    assert more
    response = client.get(f"{LIST}?{more}", **HTMX)
    assert titles_in(response) == [f"T{i}" for i in range(50, 55)]
    assert more_link(response) == ""
    assert "<html" not in response.content.decode()


# --- One task --------------------------------------------------------------------------


def test_detail_of_a_task_one_cannot_see_is_404(client, owner, outsider):
    task = task_of(owner)
    client.force_login(outsider)
    assert client.get(task.get_absolute_url()).status_code == 404
    client.force_login(owner)
    assert client.get(task.get_absolute_url()).status_code == 200


def test_create_page_prefills_the_customer_and_saves(client, owner):
    person = owned_by(PersonFactory, owner, last_name="Vorbelegt")
    client.force_login(owner)
    url = reverse("activities:task_create") + f"?person={person.uuid}"
    html = client.get(url).content.decode()
    assert f'<option value="person:{person.uuid}" selected>' in html
    response = client.post(
        url,
        {
            "title": "Besuch planen",
            "due_date": "2025-06-02",
            "due_time": "14:00",
            "priority": "normal",
            "assignee": owner.pk,
            "customer": f"person:{person.uuid}",
            "recurrence": "",
            "recurrence_interval": "1",
        },
    )
    task = Task.objects.get()
    assert response.status_code == 302
    assert response["Location"] == task.get_absolute_url()
    assert (task.title, task.due_time, task.person, task.created_by) == (
        "Besuch planen",
        dt.time(14, 0),
        person,
        owner,
    )


def test_create_page_with_a_hidden_customer_is_404(client, owner, outsider):
    organization = owned_by(OrganizationFactory, outsider)
    client.force_login(owner)
    url = reverse("activities:task_create") + f"?organization={organization.uuid}"
    assert client.get(url).status_code == 404


def test_create_page_needs_activities_edit(client, readonly):
    client.force_login(readonly)
    assert client.get(reverse("activities:task_create")).status_code == 403


def test_edit_saves_and_a_stale_form_is_a_409(client, owner):
    task = task_of(owner, title="alt", due_date=D(2025, 5, 2))
    url = reverse("activities:task_edit", args=[task.uuid])
    data = {
        "title": "neu",
        "due_date": "2025-05-09",
        "priority": "low",
        "assignee": owner.pk,
        "recurrence": "monthly",
        "recurrence_interval": "2",
        "version": "1",
    }
    client.force_login(owner)
    assert client.post(url, data).status_code == 302
    task.refresh_from_db()
    assert (task.title, task.due_date, task.priority, task.recurrence_interval, task.version) == (
        "neu",
        D(2025, 5, 9),
        "low",
        2,
        2,
    )
    before = state()
    response = client.post(url, {**data, "title": "zu spät"})
    assert response.status_code == 409
    assert "Someone else changed this record" in response.content.decode()
    assert state() == before


def test_delete_removes_the_task(client, owner, outsider):
    task = task_of(owner)
    url = reverse("activities:task_delete", args=[task.uuid])
    client.force_login(outsider)
    assert client.post(url).status_code == 404
    assert Task.objects.count() == 1
    client.force_login(owner)
    assert client.post(url)["Location"] == LIST
    assert Task.objects.count() == 0


# --- The 360° section ------------------------------------------------------------------


def test_customer_page_loads_the_tasks_section(client, owner):
    person = owned_by(PersonFactory, owner)
    client.force_login(owner)
    html = client.get(person.get_absolute_url()).content.decode()
    assert '<h2 id="tasks-heading">Open tasks</h2>' in html
    assert f'hx-get="{reverse("activities:customer_tasks", args=[person.uuid])}"' in html


def test_customer_section_lists_open_visible_tasks(client, owner, teammate, outsider):
    organization = owned_by(OrganizationFactory, owner)
    task_of(owner, title="Offen", organization=organization)
    task_of(teammate, title="Vom Team", organization=organization)
    task_of(owner, title="Erledigt", organization=organization, status=TaskStatus.DONE)
    task_of(outsider, title="Unsichtbar", organization=organization)
    task_of(owner, title="Anderer Kunde")
    client.force_login(owner)
    html = client.get(reverse("activities:customer_tasks", args=[organization.uuid])).content
    html = html.decode()
    assert "Offen" in html
    assert "Vom Team" in html
    for absent in ("Erledigt", "Unsichtbar", "Anderer Kunde", "<html"):
        assert absent not in html


def test_customer_section_adds_a_follow_up(client, owner):
    person = owned_by(PersonFactory, owner)
    url = reverse("activities:customer_tasks", args=[person.uuid])
    client.force_login(owner)
    response = client.post(
        url, {"title": "Nachfassen", "due_date": "2025-05-02", "priority": "normal"}, **HTMX
    )
    assert response.status_code == 200
    assert "Nachfassen" in response.content.decode()
    task = Task.objects.get()
    assert (task.person, task.owner, task.due_date) == (person, owner, D(2025, 5, 2))


def test_customer_section_of_a_hidden_customer_is_404(client, owner, outsider):
    person = owned_by(PersonFactory, outsider)
    url = reverse("activities:customer_tasks", args=[person.uuid])
    client.force_login(owner)
    assert client.get(url).status_code == 404
    response = client.post(url, {"title": "x", "due_date": "2025-05-02", "priority": "normal"})
    assert response.status_code == 404
    assert Task.objects.count() == 0


def test_customer_section_costs_fixed_queries(client, owner, django_assert_max_num_queries):
    person = owned_by(PersonFactory, owner)
    for _ in range(10):
        services.task_create(actor=owner, title="x", due_date=timezone.localdate(), person=person)
    client.force_login(owner)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("activities:customer_tasks", args=[person.uuid]))
    assert response.status_code == 200
