import datetime as dt
import re

import pytest
from django.utils import timezone

from kontor.activities.models import Activity, ActivityKind, Direction, Task
from kontor.activities.services.capture import CaptureData, capture_matches, capture_record
from kontor.core.models import AuditEntry
from kontor.customers import services as customer_services
from kontor.customers.models import ContactRole, Organization, Person
from tests.core.test_api import post_json, reader, writer

pytestmark = pytest.mark.django_db

URL = "/activities/capture/"
MATCHES_URL = "/activities/capture/matches/"
API_URL = "/api/v1/trade-fair-captures"


def visitor(**overrides) -> dict:
    return {
        "event": "Hannover Messe",
        "salutation": "ms",
        "first_name": "Petra",
        "last_name": "Lange",
        "company": "Lange Feinmechanik GmbH",
        "job_title": "Einkaufsleiterin",
        "email": "petra.lange@lange-feinmechanik.de",
        "phone": "0221 1234567",
        "mobile": "",
        "interests": "Laserschneider, Wartung",
        "notes": "Budget im Herbst",
        "consent": "on",
        "follow_up": "Angebot schicken",
        "follow_up_days": "7",
        **overrides,
    }


def counts() -> tuple[int, int, int, int, int]:
    return (
        Person.objects.count(),
        Organization.objects.count(),
        ContactRole.objects.count(),
        Activity.objects.count(),
        Task.objects.count(),
    )


@pytest.fixture
def known(owner):
    """A person the owner knows, with an organization and some contact data filled."""
    organization = customer_services.organization_create(
        actor=owner, data={"name": "Lange Feinmechanik GmbH"}
    )
    return customer_services.person_create(
        actor=owner,
        data={
            "first_name": "Petra",
            "last_name": "Lange",
            "email": "petra.lange@lange-feinmechanik.de",
            "phone": "+492219999999",
            "organization": organization,
        },
    )


# --- The page --------------------------------------------------------------------------


def test_capture_creates_person_organization_activity_and_task(client, owner):
    client.force_login(owner)
    # when
    response = client.post(URL, {**visitor(), "person": "new", "organization": "new"})
    # then
    assert response.status_code == 302
    assert response["Location"] == URL
    person = Person.objects.get()
    organization = Organization.objects.get()
    assert (person.first_name, person.last_name, person.salutation) == ("Petra", "Lange", "ms")
    assert person.email == "petra.lange@lange-feinmechanik.de"
    assert person.phone == "+492211234567"
    assert person.organization == organization
    assert organization.name == "Lange Feinmechanik GmbH"
    assert (person.owner, organization.owner) == (owner, owner)
    assert ContactRole.objects.filter(person=person, organization=organization).count() == 1
    activity = Activity.objects.get()
    assert activity.kind == ActivityKind.TRADE_FAIR
    assert activity.direction == Direction.INCOMING
    assert activity.subject == "Trade fair: Hannover Messe"
    assert activity.text == (
        "Interests: Laserschneider, Wartung\n\nBudget im Herbst\n\nAgrees to be contacted: yes"
    )
    assert (activity.person, activity.organization, activity.author) == (
        person,
        organization,
        owner,
    )
    task = Task.objects.get()
    assert task.title == "Angebot schicken"
    assert task.due_date == timezone.localdate() + dt.timedelta(days=7)
    assert (task.owner, task.created_by) == (owner, owner)
    assert (task.person, task.organization, task.activity) == (person, organization, activity)
    assert set(AuditEntry.objects.values_list("via", flat=True)) == {"ui"}

    # the page again: the confirmation with links, the event kept, the rest empty
    page = client.get(URL)
    html = page.content.decode()
    assert "Saved." in html
    assert person.get_absolute_url() in html
    assert organization.get_absolute_url() in html
    assert page.context["form"]["event"].value() == "Hannover Messe"
    assert page.context["form"]["last_name"].value() is None
    # shown once
    assert "Saved." not in client.get(URL).content.decode()


def test_page_is_for_phones_without_inline_styles_or_scripts(client, owner):
    client.force_login(owner)
    html = client.get(URL).content.decode()
    assert 'name="viewport"' in html
    assert "activities/capture.css" in html
    assert "style=" not in html
    assert "onclick" not in html
    assert 'type="tel"' in html
    assert 'type="email"' in html
    # due in 1/3/7/14 days, 3 chosen; the assignee is me
    assert [c[0] for c in client.get(URL).context["form"].fields["follow_up_days"].choices] == [
        1,
        3,
        7,
        14,
    ]
    assert re.search(r'<input type="radio" name="follow_up_days" value="3"[^>]* checked>', html)
    assert f'<option value="{owner.pk}" selected>' in html


def test_only_an_email_is_enough(client, owner):
    client.force_login(owner)
    data = visitor(first_name="", last_name="", company="", email="max.mustermann@web.de")
    response = client.post(URL, {**data, "person": "new"})
    assert response.status_code == 302
    person = Person.objects.get()
    assert (person.first_name, person.last_name, person.organization) == (
        "Max",
        "Mustermann",
        None,
    )
    assert Organization.objects.count() == 0
    assert Activity.objects.get().organization is None


def test_default_follow_up_title_and_three_days(owner):
    result = capture_record(
        actor=owner, data=CaptureData(event="Messe Essen", last_name="Weber"), via="ui"
    )
    assert result.task.title == "Follow up on Messe Essen: Weber"
    assert result.task.due_date == timezone.localdate() + dt.timedelta(days=3)
    assert result.activity.text == "Agrees to be contacted: no"
    assert (result.created_person, result.created_organization) == (True, False)
    assert result.organization is None


def test_assignee_can_be_a_colleague(owner, teammate):
    result = capture_record(
        actor=owner,
        data=CaptureData(event="Messe", last_name="Weber", assignee=teammate),
    )
    assert (result.task.owner, result.task.created_by) == (teammate, owner)


def test_bad_input_shows_field_errors_and_creates_nothing(client, owner):
    client.force_login(owner)
    before = counts()
    response = client.post(
        URL,
        {**visitor(last_name="", email="", event="", phone="12"), "person": "new"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors == {
        "event": ["This field is required."],
    }
    # event given: the service's own checks, all at once
    response = client.post(URL, {**visitor(last_name="", email=""), "person": "new"})
    assert response.context["form"].errors == {
        "last_name": ["Enter a last name or an e-mail address."]
    }
    assert counts() == before


def test_an_invalid_phone_rolls_back_the_new_organization(client, owner):
    client.force_login(owner)
    before = counts()
    response = client.post(URL, {**visitor(phone="12"), "person": "new", "organization": "new"})
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["phone"]
    assert counts() == before
    assert AuditEntry.objects.count() == 0


def test_readonly_may_not_capture(client, readonly):
    client.force_login(readonly)
    assert client.get(URL).status_code == 403
    before = counts()
    assert client.post(URL, {**visitor(), "person": "new"}).status_code == 403
    assert counts() == before


# --- Matching --------------------------------------------------------------------------


def test_matches_offer_the_known_person_and_preselect_a_unique_email_match(client, owner, known):
    client.force_login(owner)
    response = client.post(
        MATCHES_URL, {"last_name": "Lnge", "email": "Petra.Lange@lange-feinmechanik.de"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Already known:" in html
    assert f'name="person" value="{known.uuid}" checked' in html
    assert "Lange Feinmechanik GmbH" in html
    assert 'name="person" value="new"' in html
    # the organization of the preselected person is offered and preselected too
    assert f'name="organization" value="{known.organization.uuid}" checked' in html


def test_a_choice_is_kept_while_typing(client, owner, known):
    client.force_login(owner)
    response = client.post(
        MATCHES_URL,
        {"email": "petra.lange@lange-feinmechanik.de", "person": "new", "organization": "new"},
    )
    html = response.content.decode()
    assert 'name="person" value="new" checked' in html
    assert f'name="person" value="{known.uuid}" checked' not in html


def test_reusing_a_person_fills_only_empty_fields(client, owner, known):
    client.force_login(owner)
    before = counts()
    response = client.post(
        URL,
        {
            **visitor(first_name="Petra Maria", phone="0221 1234567", mobile="0151 23456789"),
            "person": str(known.uuid),
            "organization": str(known.organization.uuid),
        },
    )
    assert response.status_code == 302
    known.refresh_from_db()
    # filled ones kept; empty ones (salutation, job title, mobile) filled
    assert known.first_name == "Petra"
    assert known.phone == "+492219999999"
    assert known.email == "petra.lange@lange-feinmechanik.de"
    assert (known.salutation, known.job_title, known.mobile) == (
        "ms",
        "Einkaufsleiterin",
        "+4915123456789",
    )
    after = counts()
    # no new person, organization or link; one activity and one task
    assert after == (before[0], before[1], before[2], before[3] + 1, before[4] + 1)
    activity = Activity.objects.get()
    assert (activity.person, activity.organization) == (known, known.organization)


def test_reusing_a_person_with_everything_filled_changes_nothing(owner, known):
    customer_services.person_update(
        person=known,
        actor=owner,
        data={"salutation": "ms", "job_title": "CEO", "mobile": "+4915123456789"},
    )
    known.refresh_from_db()
    version = known.version
    result = capture_record(
        actor=owner,
        data=CaptureData(
            event="Messe",
            last_name="Anders",
            first_name="Paula",
            email="petra.lange@lange-feinmechanik.de",
            job_title="Einkauf",
            person=known,
        ),
    )
    known.refresh_from_db()
    assert (known.first_name, known.last_name, known.job_title) == ("Petra", "Lange", "CEO")
    assert known.version == version
    assert result.created_person is False
    assert result.organization == known.organization


def test_a_known_person_is_linked_to_a_new_company(owner, known):
    result = capture_record(
        actor=owner,
        data=CaptureData(event="Messe", company="Neue Arbeit GmbH", person=known),
    )
    assert result.created_organization is True
    assert result.organization.name == "Neue Arbeit GmbH"
    known.refresh_from_db()
    # the primary organization stays; the new one is a further contact role
    assert known.organization.name == "Lange Feinmechanik GmbH"
    assert set(
        ContactRole.objects.filter(person=known).values_list("organization__name", flat=True)
    ) == {
        "Lange Feinmechanik GmbH",
        "Neue Arbeit GmbH",
    }


def test_submitting_without_choosing_asks_instead_of_duplicating(client, owner, known):
    client.force_login(owner)
    before = counts()
    response = client.post(URL, visitor())
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Already known? Choose a record below or “create new”."
    ]
    html = response.content.decode()
    assert f'name="person" value="{known.uuid}" checked' in html
    assert counts() == before


def test_outsiders_records_are_not_offered(client, owner, outsider, known):
    client.force_login(outsider)
    response = client.post(
        MATCHES_URL,
        {"last_name": "Lange", "email": known.email, "company": "Lange Feinmechanik GmbH"},
    )
    assert response.status_code == 200
    assert str(known.uuid) not in response.content.decode()
    assert str(known.organization.uuid) not in response.content.decode()
    assert (
        capture_matches(
            user=outsider,
            data=CaptureData(event="", email=known.email, company="Lange Feinmechanik"),
        ).persons
        == []
    )
    # nor can they be chosen by uuid
    before = counts()
    response = client.post(URL, {**visitor(), "person": str(known.uuid)})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Choose a record from the list or create a new one."
    ]
    assert counts() == before


# --- API -------------------------------------------------------------------------------


def test_api_captures_a_visitor(client, owner):
    body = {
        "event": "Hannover Messe",
        "last_name": "Lange",
        "company": "Lange Feinmechanik GmbH",
        "email": "petra.lange@lange-feinmechanik.de",
        "consent": True,
        "follow_up_days": 1,
    }
    response = post_json(client, API_URL, body, **writer(owner))
    assert response.status_code == 201
    person, organization = Person.objects.get(), Organization.objects.get()
    activity, task = Activity.objects.get(), Task.objects.get()
    assert response.json() == {
        "person": str(person.uuid),
        "organization": str(organization.uuid),
        "activity": str(activity.uuid),
        "task": str(task.uuid),
        "created_person": True,
        "created_organization": True,
    }
    assert task.due_date == timezone.localdate() + dt.timedelta(days=1)
    assert AuditEntry.objects.filter(via="api").count() == AuditEntry.objects.count()


def test_api_reuses_a_known_person(client, owner, known):
    body = {"event": "Messe", "person": str(known.uuid), "mobile": "0151 23456789"}
    response = post_json(client, API_URL, body, **writer(owner))
    assert response.status_code == 201
    assert response.json()["created_person"] is False
    assert response.json()["organization"] == str(known.organization.uuid)
    known.refresh_from_db()
    assert known.mobile == "+4915123456789"


def test_api_refuses_bad_input_and_writes_nothing(client, owner, outsider, known):
    before = counts()
    response = post_json(client, API_URL, {"event": "Messe"}, **writer(owner))
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {"field": "last_name", "message": "Enter a last name or an e-mail address."}
    ]
    response = post_json(
        client, API_URL, {"event": "Messe", "person": str(known.uuid)}, **writer(outsider)
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "person", "message": "Choose a record from the list or create a new one."}
    ]
    response = post_json(
        client, API_URL, {"event": "Messe", "last_name": "X", "phone": "12"}, **writer(owner)
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["phone"]
    # a read-only token may not write
    response = post_json(client, API_URL, {"event": "Messe", "last_name": "X"}, **reader(owner))
    assert response.status_code == 403
    assert counts() == before
