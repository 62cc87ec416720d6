"""My day: the user's overdue, today's and upcoming tasks, today's appointments,
done/undone with htmx, the quick form."""

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from kontor.activities.models import AppointmentStatus, Task, TaskStatus
from tests.activities.factories import AppointmentFactory, TaskFactory
from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by

pytestmark = pytest.mark.django_db

URL = "/activities/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def task_of(user, **kwargs) -> Task:
    return TaskFactory(owner=user, team=user.teams.order_by("id").first(), **kwargs)


def section(html: str, name: str) -> str:
    start = html.index(f'data-section="{name}"')
    return html[start : html.index("</section>", start)]


def test_my_day_is_the_named_url():
    assert reverse("activities:my_day") == URL


def test_my_day_sorts_the_users_own_tasks_into_overdue_today_and_upcoming(client, owner, teammate):
    today = timezone.localdate()
    task_of(owner, title="Gestern fällig", due_date=today - dt.timedelta(days=1))
    task_of(owner, title="Heute fällig", due_date=today)
    task_of(owner, title="In drei Tagen", due_date=today + dt.timedelta(days=3))
    task_of(owner, title="In zwei Wochen", due_date=today + dt.timedelta(days=14))
    task_of(owner, title="Schon erledigt", due_date=today - dt.timedelta(days=2), status="done")
    task_of(teammate, title="Nicht meine", due_date=today)
    client.force_login(owner)
    html = client.get(URL).content.decode()
    assert "Gestern fällig" in section(html, "overdue")
    assert "Heute fällig" in section(html, "today")
    assert "In drei Tagen" in section(html, "upcoming")
    for absent in ("In zwei Wochen", "Schon erledigt", "Nicht meine"):
        assert absent not in html


def test_my_day_shows_todays_appointments_the_user_owns_or_attends(client, owner, teammate):
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    today = timezone.localdate()
    at = dt.datetime.combine(today, dt.time(10, 0), tzinfo=berlin)
    AppointmentFactory(owner=owner, title="Eigener Termin", starts_at=at)
    attended = AppointmentFactory(owner=teammate, title="Als Gast", starts_at=at)
    attended.attendees.add(owner)
    AppointmentFactory(owner=teammate, title="Fremder Termin", starts_at=at)
    AppointmentFactory(
        owner=owner, title="Abgesagt", starts_at=at, status=AppointmentStatus.CANCELLED
    )
    AppointmentFactory(owner=owner, title="Morgen", starts_at=at + dt.timedelta(days=1))
    client.force_login(owner)
    html = section(client.get(URL).content.decode(), "appointments-today")
    assert "Eigener Termin" in html
    assert "Als Gast" in html
    for absent in ("Fremder Termin", "Abgesagt", "Morgen"):
        assert absent not in html


def test_my_day_costs_a_fixed_number_of_queries(client, owner, django_assert_max_num_queries):
    today = timezone.localdate()
    person = owned_by(PersonFactory, owner)
    organization = owned_by(OrganizationFactory, owner)
    for i in range(15):
        task_of(
            owner,
            due_date=today + dt.timedelta(days=i % 9 - 2),
            person=person,
            organization=organization,
        )
    for _ in range(3):
        AppointmentFactory(owner=owner, starts_at=timezone.now().replace(hour=12), person=person)
    client.force_login(owner)
    with django_assert_max_num_queries(8):
        response = client.get(URL)
    assert response.status_code == 200


def test_done_and_undone_answer_htmx_with_the_row(client, owner):
    task = task_of(owner, title="Anrufen")
    client.force_login(owner)
    response = client.post(reverse("activities:task_done", args=[task.uuid]), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.strip().startswith("<li")
    assert 'class="task task-done' in html
    assert reverse("activities:task_reopen", args=[task.uuid]) in html
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    response = client.post(reverse("activities:task_reopen", args=[task.uuid]), **HTMX)
    assert 'class="task task-open' in response.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_done_without_htmx_redirects_to_a_local_next_only(client, owner):
    task = task_of(owner)
    client.force_login(owner)
    url = reverse("activities:task_done", args=[task.uuid])
    assert client.post(url, {"next": "/activities/"})["Location"] == "/activities/"
    reopen = reverse("activities:task_reopen", args=[task.uuid])
    assert client.post(reopen, {"next": "https://evil.example/"})["Location"] == (
        task.get_absolute_url()
    )


def test_a_task_done_today_stays_on_my_day_to_be_undone(client, owner):
    task = task_of(owner, title="Erledigt heute")
    client.force_login(owner)
    client.post(reverse("activities:task_done", args=[task.uuid]))
    assert "Erledigt heute" in section(client.get(URL).content.decode(), "today")


def test_quick_form_adds_a_task_for_today_and_answers_with_the_sections(client, owner):
    person = owned_by(PersonFactory, owner, last_name="Kunde")
    client.force_login(owner)
    response = client.post(
        reverse("activities:task_quick_create"),
        {
            "title": "Angebot schicken",
            "due_date": timezone.localdate().isoformat(),
            "priority": "high",
            "customer": f"person:{person.uuid}",
        },
        **HTMX,
    )
    assert response.status_code == 200
    assert "Angebot schicken" in section(response.content.decode(), "today")
    task = Task.objects.get()
    assert (task.title, task.priority, task.owner, task.person) == (
        "Angebot schicken",
        "high",
        owner,
        person,
    )


def test_quick_form_refuses_a_customer_one_cannot_see(client, owner, outsider):
    hidden = owned_by(PersonFactory, outsider)
    client.force_login(owner)
    response = client.post(
        reverse("activities:task_quick_create"),
        {
            "title": "x",
            "due_date": timezone.localdate().isoformat(),
            "priority": "normal",
            "customer": f"person:{hidden.uuid}",
        },
        **HTMX,
    )
    assert response.status_code == 200
    assert "Choose a customer from the list." in response.content.decode()
    assert Task.objects.count() == 0


def test_quick_form_needs_activities_edit(client, readonly):
    client.force_login(readonly)
    response = client.post(
        reverse("activities:task_quick_create"),
        {"title": "x", "due_date": timezone.localdate().isoformat(), "priority": "normal"},
    )
    assert response.status_code == 403
    assert Task.objects.count() == 0


def test_customer_options_list_only_visible_customers(client, owner, outsider):
    mine = owned_by(OrganizationFactory, owner, name="Müller Maschinenbau", city="Köln")
    owned_by(OrganizationFactory, outsider, name="Müller Logistik")
    client.force_login(owner)
    response = client.get(reverse("activities:task_customer_options"), {"customer_q": "Mül"})
    html = response.content.decode()
    assert f'value="organization:{mine.uuid}"' in html
    assert "Müller Maschinenbau (Köln)" in html
    assert "Logistik" not in html


def test_a_task_line_starts_with_its_first_part_not_a_separator(client, owner):
    # Today's tasks show no due date: the line began "· Anna Abel". The "·" between the
    # parts is drawn by tasks.css now, the parts are separated by a space.
    person = owned_by(PersonFactory, owner, first_name="Anna", last_name="Abel")
    task_of(owner, title="Anrufen", due_date=timezone.localdate(), person=person)
    client.force_login(owner)
    html = section(client.get(URL).content.decode(), "today")
    meta = html[html.index('<span class="task-meta" hx-disable>') :]
    meta = meta[: meta.index("</li>")]
    assert "·" not in meta
    start = f'<span class="task-meta" hx-disable><a href="{person.get_absolute_url()}">'
    assert meta.startswith(start)
