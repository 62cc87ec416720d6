"""A record that names several customers is visible only to who may see all of them
(ActivityQuerySet / AppointmentQuerySet / TaskQuerySet.visible_to, on the rule of
VisibleQuerySet.every_visible_through; core.access.sees_every on loaded records).

The teams: the owner is a sales rep of "Vertrieb Nord", the outsider one of
"Vertrieb Süd" (team visibility each); the admin and a sales manager see all.

- A hidden person at a visible organization: Süd's person Sven Südlich works at
  Nordwerk GmbH (Nord's). What Süd logged on Sven — linked to both — is none of the
  Nord rep's business: not on the organization's timeline, its page, the API (list
  by person or by organization, detail, PATCH, DELETE, files), the filed e-mail,
  the calendar, My day or the calendar feed; every try answers 404 and changes
  nothing.
- A visible person at a hidden organization: Nord's person Nora Nordlicht works at
  Geheimwerk Süd AG. An activity linked to both is hidden from the Nord rep, so the
  organization's name shows nowhere; what the Nord rep logs on Nora from now on is
  not linked to that organization and stays theirs to see."""

import datetime as dt
import json
from urllib.parse import urlparse

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from kontor.activities.models import Activity, Appointment, Attachment, Task
from kontor.activities.services import activities as services
from kontor.activities.services import feeds
from kontor.activities.services.attachments import attachment_add
from kontor.core import search
from kontor.core.access import sees_every
from kontor.core.models import AuditEntry
from kontor.mail import inbound
from kontor.mail.models import MailDirection, MailMessage, MailStatus
from tests.activities.factories import ActivityFactory, AppointmentFactory, TaskFactory
from tests.core.test_api import reader, writer
from tests.cross_team import HIDDEN_ORG_NAME
from tests.customers.factories import PersonFactory, owned_by

pytestmark = pytest.mark.django_db

SECRET_TEXT = "Vertraulich: Preisnachlass 40 Prozent"
SECRET_FILE = b"Kalkulation Sued"


@pytest.fixture
def sued_activity(outsider, sued_person, nord_org):
    """What Süd logged on Sven, linked to both customers (as every activity on a
    person at an organization was before), with a file."""
    activity = ActivityFactory(
        person=sued_person,
        organization=nord_org,
        author=outsider,
        subject="Preisgespräch Süd",
        text=SECRET_TEXT,
    )
    attachment_add(actor=None, activity=activity, name="kalkulation.txt", content=SECRET_FILE)
    return activity


@pytest.fixture
def nord_activity(owner, nord_person, hidden_org):
    """An activity on Nora linked to the organization Nord may not see (filed by
    Kontor from an e-mail, or logged before the rule)."""
    return ActivityFactory(
        person=nord_person, organization=hidden_org, author=owner, subject="Besuch bei Nora"
    )


def state():
    return (
        list(Activity.objects.order_by("pk").values()),
        list(Attachment.objects.order_by("pk").values()),
        AuditEntry.objects.count(),
    )


def login(client, user):
    client.force_login(user)
    return client


def history(client, customer) -> str:
    response = client.get(reverse("activities:customer_history", args=[customer.uuid]))
    assert response.status_code == 200
    return response.content.decode()


def api_items(client, user, **params) -> list[str]:
    response = client.get("/api/v1/activities", params, **reader(user))
    assert response.status_code == 200
    return [item["subject"] for item in response.json()["items"]]


def attachment_url(activity) -> str:
    attachment = activity.attachments.get()
    return reverse("activities:attachment_download", args=[activity.uuid, attachment.uuid])


def api_attachment_url(activity) -> str:
    attachment = activity.attachments.get()
    return f"/api/v1/activities/{activity.uuid}/attachments/{attachment.uuid}"


# --- The rule -----------------------------------------------------------------------------


def test_the_queryset_and_the_single_record_check_agree(
    owner, outsider, teammate, admin, manager, sued_activity, nord_activity, nord_org, nord_person
):
    on_org_only = ActivityFactory(organization=nord_org, author=owner)
    on_person_only = ActivityFactory(person=nord_person, author=owner)
    activities = [sued_activity, nord_activity, on_org_only, on_person_only]
    for user in (owner, outsider, teammate, admin, manager):
        visible = set(Activity.objects.visible_to(user).values_list("pk", flat=True))
        expected = {a.pk for a in activities if sees_every(user, a.person, a.organization)}
        assert visible == expected, user
    assert set(Activity.objects.visible_to(owner)) == {on_org_only, on_person_only}
    assert set(Activity.objects.visible_to(outsider)) == set()
    assert set(Activity.objects.visible_to(admin)) == set(activities)


# --- A hidden person at a visible organization ---------------------------------------------


def test_the_organizations_timeline_leaves_out_the_hidden_persons_activities(
    client, owner, nord_org, sued_activity
):
    ActivityFactory(organization=nord_org, author=owner, subject="Eigener Anruf")
    page = history(login(client, owner), nord_org)
    assert "Eigener Anruf" in page
    assert "Preisgespräch Süd" not in page
    assert SECRET_TEXT not in page


def test_the_hidden_persons_timeline_page_and_files_are_404(
    client, owner, sued_person, sued_activity
):
    login(client, owner)
    before = state()
    assert (
        client.get(reverse("activities:customer_history", args=[sued_person.uuid])).status_code
        == 404
    )
    assert client.get(sued_activity.get_absolute_url()).status_code == 404
    assert (
        client.get(reverse("activities:activity_edit", args=[sued_activity.uuid])).status_code
        == 404
    )
    edit = client.post(
        reverse("activities:activity_edit", args=[sued_activity.uuid]),
        {"kind": "call", "subject": "Übernommen", "occurred_at": "2026-01-05T10:00"},
    )
    assert edit.status_code == 404
    assert (
        client.post(reverse("activities:activity_delete", args=[sued_activity.uuid])).status_code
        == 404
    )
    assert client.get(attachment_url(sued_activity)).status_code == 404
    assert state() == before


def test_the_api_answers_404_by_person_and_lists_nothing_by_organization(
    client, owner, sued_person, nord_org, sued_activity
):
    response = client.get("/api/v1/activities", {"person": sued_person.uuid}, **reader(owner))
    assert response.status_code == 404
    assert api_items(client, owner, organization=nord_org.uuid) == []
    assert api_items(client, owner) == []


def test_the_api_detail_patch_delete_and_file_are_404_and_change_nothing(
    client, owner, sued_activity
):
    url = f"/api/v1/activities/{sued_activity.uuid}"
    before = state()
    assert client.get(url, **reader(owner)).status_code == 404
    patch = client.patch(
        url,
        data=json.dumps({"subject": "Übernommen", "text": "", "version": sued_activity.version}),
        content_type="application/json",
        **writer(owner),
    )
    assert patch.status_code == 404
    assert client.delete(url, **writer(owner)).status_code == 404
    assert client.get(api_attachment_url(sued_activity), **reader(owner)).status_code == 404
    assert state() == before


def test_the_filed_email_of_the_activity_is_404(client, owner, sued_activity):
    message = MailMessage.objects.create(
        direction=MailDirection.INCOMING,
        status=MailStatus.FILED,
        message_id="<sued@example>",
        message_id_hash=inbound.message_id_hash("<sued@example>"),
        from_address="sven@sued.example",
        subject="Preisgespräch Süd",
        text_body=SECRET_TEXT,
        activity=sued_activity,
    )
    login(client, owner)
    assert client.get(reverse("mail:message_detail", args=[message.uuid])).status_code == 404
    assert client.get(f"/api/v1/mail/messages/{message.uuid}", **reader(owner)).status_code == 404


def titles(results) -> list[str]:
    return [hit.title for group in results.groups for hit in group.hits]


def test_search_finds_neither_the_hidden_person_nor_their_activity(
    client, owner, admin, sued_activity
):
    # Activities are not searched; the hidden person behind them is not found.
    assert titles(search.search(user=owner, q="Südlich")) == []
    assert titles(search.search(user=owner, q="Preisgespräch")) == []
    assert titles(search.search(user=admin, q="Südlich")) == ["Sven Südlich"]
    page = login(client, owner).get(reverse("core:search"), {"q": "Preisgespräch Südlich"})
    assert "Südlich" not in page.text.replace("Preisgespräch Südlich", "")


def test_appointments_and_tasks_on_the_hidden_person_are_out_of_calendar_my_day_and_feed(
    client, owner, outsider, sued_person, nord_org
):
    start = timezone.now().replace(microsecond=0) + dt.timedelta(hours=1)
    meeting = owned_by(
        AppointmentFactory,
        outsider,
        title="Süd-Termin bei Sven",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        person=sued_person,
        organization=nord_org,
    )
    meeting.attendees.set([owner])
    task = owned_by(
        TaskFactory, owner, title="Sven anrufen", person=sued_person, organization=nord_org
    )
    own_task = owned_by(TaskFactory, owner, title="Nordwerk anrufen", organization=nord_org)
    login(client, owner)
    assert client.get(meeting.get_absolute_url()).status_code == 404
    assert client.get(task.get_absolute_url()).status_code == 404
    day = client.get(reverse("activities:my_day")).content.decode()
    assert own_task.title in day
    assert "Sven anrufen" not in day and "Süd-Termin" not in day
    calendar = client.get(reverse("activities:calendar")).content.decode()
    assert "Süd-Termin" not in calendar
    _feed, url = feeds.feed_create(actor=owner)
    ics = Calendar.from_ical(client.get(urlparse(url).path).content)
    summaries = {str(c["SUMMARY"]) for c in ics.walk() if "SUMMARY" in c}
    assert summaries == {"Task: Nordwerk anrufen"}
    assert set(Appointment.objects.visible_to(owner)) == set()
    assert set(Task.objects.visible_to(owner)) == {own_task}


@pytest.mark.parametrize("who", ["admin", "manager"])
def test_who_sees_all_still_sees_everything(
    client, request, who, sued_person, nord_org, sued_activity, nord_activity, hidden_org
):
    user = request.getfixturevalue(who)
    login(client, user)
    assert "Preisgespräch Süd" in history(client, nord_org)
    assert "Preisgespräch Süd" in history(client, sued_person)
    detail = client.get(nord_activity.get_absolute_url())
    assert detail.status_code == 200
    assert HIDDEN_ORG_NAME in detail.content.decode()
    assert client.get(attachment_url(sued_activity)).getvalue() == SECRET_FILE
    assert api_items(client, user, person=sued_person.uuid) == ["Preisgespräch Süd"]
    assert api_items(client, user, organization=nord_org.uuid) == ["Preisgespräch Süd"]
    assert sorted(api_items(client, user)) == ["Besuch bei Nora", "Preisgespräch Süd"]
    response = client.get(f"/api/v1/activities/{sued_activity.uuid}", **reader(user))
    assert response.json()["text"] == SECRET_TEXT


# --- A visible person at a hidden organization --------------------------------------------


def test_an_activity_naming_a_hidden_organization_is_404_and_its_name_shows_nowhere(
    client, owner, nord_person, nord_activity
):
    login(client, owner)
    assert client.get(nord_activity.get_absolute_url()).status_code == 404
    page = history(client, nord_person)
    assert "Besuch bei Nora" not in page
    assert HIDDEN_ORG_NAME not in page
    assert (
        client.get(f"/api/v1/activities/{nord_activity.uuid}", **reader(owner)).status_code == 404
    )
    assert api_items(client, owner, person=nord_person.uuid) == []


def test_what_one_logs_on_the_person_is_not_linked_to_the_hidden_organization(
    client, owner, admin, nord_person, hidden_org
):
    activity = services.activity_create(
        actor=owner, kind="call", subject="Rückruf Nora", person=nord_person
    )
    assert (activity.person, activity.organization) == (nord_person, None)
    login(client, owner)
    page = client.get(activity.get_absolute_url())
    assert page.status_code == 200
    assert HIDDEN_ORG_NAME not in page.content.decode()
    # Who sees the organization too gets it linked, as before.
    linked = services.activity_create(actor=admin, kind="call", subject="Admin", person=nord_person)
    assert linked.organization == hidden_org


def test_a_person_one_may_not_see_is_not_named_among_the_participants(
    client, owner, admin, nord_org, sued_person
):
    nord_contact = owned_by(PersonFactory, owner, last_name="Nordmann", organization=nord_org)
    activity = ActivityFactory(organization=nord_org, author=owner, subject="Runde")
    activity.external_participants.set([nord_contact, sued_person])
    login(client, owner)
    page = client.get(activity.get_absolute_url()).content.decode()
    assert "Nordmann" in page and "Südlich" not in page
    body = client.get(f"/api/v1/activities/{activity.uuid}", **reader(owner)).json()
    assert body["external_participants"] == [str(nord_contact.uuid)]
    (item,) = client.get("/api/v1/activities", **reader(owner)).json()["items"]
    assert item["external_participants"] == [str(nord_contact.uuid)]
    # Replacing the participants one sees keeps those one does not.
    services.activity_update(actor=owner, activity=activity, data={"external_participants": []})
    assert list(activity.external_participants.all()) == [sued_person]


def test_an_attendee_one_may_not_see_is_not_named_by_the_api_and_kept_on_a_change(
    client, owner, admin, nord_org, sued_person
):
    from kontor.activities.services import appointments as appointment_services

    nord_contact = owned_by(PersonFactory, owner, last_name="Nordmann", organization=nord_org)
    appointment = AppointmentFactory(
        owner=owner, team=owner.primary_team, organization=nord_org, title="Runde"
    )
    appointment.external_attendees.set([nord_contact, sued_person])
    url = f"/api/v1/appointments/{appointment.uuid}"
    body = client.get(url, **reader(owner)).json()
    assert body["external_attendees"] == [str(nord_contact.uuid)]
    (item,) = client.get("/api/v1/appointments", **reader(owner)).json()["items"]
    assert item["external_attendees"] == [str(nord_contact.uuid)]
    admin_view = client.get(url, **reader(admin)).json()["external_attendees"]
    assert sorted(admin_view) == sorted([str(nord_contact.uuid), str(sued_person.uuid)])
    # Replacing the attendees one sees keeps those one does not, in the API ...
    patched = client.patch(
        url,
        data=json.dumps({"external_attendees": [], "version": body["version"]}),
        content_type="application/json",
        **writer(owner),
    )
    assert patched.status_code == 200, patched.content
    assert patched.json()["external_attendees"] == []
    assert list(appointment.external_attendees.all()) == [sued_person]
    # ... and on the edit page.
    appointment.refresh_from_db()
    appointment_services.appointment_update(
        actor=owner, appointment=appointment, data={"external_attendees": [nord_contact]}
    )
    assert set(appointment.external_attendees.all()) == {nord_contact, sued_person}
    # The visit report names them all the same (to who may see them).
    report = appointment_services.appointment_report(
        actor=owner, appointment=appointment, text="Gut gelaufen"
    )
    assert set(report.external_participants.all()) == {nord_contact, sued_person}
    page = login(client, owner).get(report.get_absolute_url()).content.decode()
    assert "Nordmann" in page and "Südlich" not in page


def test_the_appointment_form_does_not_name_the_persons_hidden_organization(
    client, owner, nord_person
):
    page = login(client, owner).get(
        reverse("activities:appointment_create"), {"person": str(nord_person.uuid)}
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "Nordlicht" in html
    assert HIDDEN_ORG_NAME not in html
