"""A step's e-mail, appointment and field items as real work: the e-mail sent (or
drafted on the compose page) and linked, the appointment planned from the item and
linked, the field filled in through the customers services."""

from urllib.parse import quote

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from kontor.activities.models import Activity, Appointment
from kontor.core.models import CustomField, CustomFieldType
from kontor.mail.models import EmailTemplate, MailMessage, MailStatus
from kontor.processes.models import (
    ActivityType,
    InstanceStatus,
    Process,
    ProcessInstance,
    ProcessVersion,
    Step,
    StepActivity,
    StepRunItem,
    StepRunStatus,
    Transition,
    VersionStatus,
)
from kontor.processes.services import instances as engine
from tests.core.test_api import post_json, writer
from tests.customers.factories import PersonFactory, owned_by

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def template(db):
    return EmailTemplate.objects.create(
        name="Thanks", subject="Thank you, {{ person.last_name }}", body="Dear visitor,\n\nthanks."
    )


@pytest.fixture
def budget(db):
    return CustomField.objects.create(
        entity="customers.person", key="budget", label="Budget", field_type=CustomFieldType.NUMBER
    )


def build(kind, config, *, required_fields=()):
    """work (one required item of ``kind``) → done (goal)."""
    process = Process.objects.create(name="Follow-up", subject_kind="person")
    version = ProcessVersion.objects.create(
        process=process, number=1, status=VersionStatus.PUBLISHED, goal="Customer"
    )
    work = Step.objects.create(
        version=version,
        key="work",
        name="Work",
        position=0,
        deadline_days=2,
        required_fields=list(required_fields),
    )
    StepActivity.objects.create(step=work, kind=kind, title="The work", config=config, position=0)
    done = Step.objects.create(
        version=version, key="done", name="Done", position=1, is_end=True, goal_reached=True
    )
    Transition.objects.create(version=version, source=work, target=done)
    return version


def start(owner, version, **person_fields):
    person = owned_by(PersonFactory, owner, **person_fields)
    instance = engine.instance_start(actor=owner, version_or_process=version, person=person)
    return person, instance


def the_item(instance) -> StepRunItem:
    return StepRunItem.objects.select_related("activity").get(step_run__instance=instance)


def status_of(instance) -> str:
    return ProcessInstance.objects.get(pk=instance.pk).status


# --- E-mail --------------------------------------------------------------------------------


def test_entering_a_step_sends_its_email_from_the_assignee_and_links_it(
    owner, template, settings, smtp_sink, django_capture_on_commit_callbacks
):
    # given a step whose e-mail goes out by itself
    settings.TASKS = IMMEDIATE
    version = build(ActivityType.EMAIL, {"template": str(template.uuid), "send": True})
    # when the process starts on a person with an address
    with django_capture_on_commit_callbacks(execute=True):
        _person, instance = start(owner, version, last_name="Berg", email="berg@example.de")
    # then the mail was queued, sent, linked to the item, and the process moved on
    message = MailMessage.objects.get()
    item = the_item(instance)
    assert item.mail == message
    assert item.done_at is not None
    assert message.sender == owner
    assert message.subject == "Thank you, Berg"
    assert message.to_addresses == ["berg@example.de"]
    assert MailMessage.objects.get().status == MailStatus.SENT
    assert [m["To"] for m in smtp_sink.messages] == ["berg@example.de"]
    assert status_of(instance) == InstanceStatus.COMPLETED


def test_email_without_address_stays_open_with_the_reason(client, owner, template):
    version = build(ActivityType.EMAIL, {"template": str(template.uuid), "send": True})
    person, instance = start(owner, version, first_name="Ute", last_name="Ohne", email="")
    item = the_item(instance)
    assert (item.mail, item.done_at, status_of(instance)) == (None, None, InstanceStatus.RUNNING)
    assert MailMessage.objects.count() == 0
    note = Activity.objects.get(person=person, subject="Process Follow-up: Work reached")
    assert note.text == "E-mail “The work” not sent: Ute Ohne has no e-mail address."
    client.force_login(owner)
    html = client.get(instance.get_absolute_url()).content.decode()
    assert "Not sent: Ute Ohne has no e-mail address." in html
    assert "Write e-mail" in html


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        ({"send": True}, "No e-mail template is set for this activity."),
        (
            {"send": True, "template": "7b1e4c1e-0000-4000-8000-000000000000"},
            "The e-mail template no longer exists.",
        ),
    ],
)
def test_email_without_template_stays_open(owner, config, reason):
    version = build(ActivityType.EMAIL, config)
    person, instance = start(owner, version, email="x@example.de")
    assert the_item(instance).done_at is None
    assert MailMessage.objects.count() == 0
    assert Activity.objects.get(person=person, subject__endswith="reached").text == (
        f"E-mail “The work” not sent: {reason}"
    )
    engine.item_done(actor=owner, item=the_item(instance))  # still ticked off by hand
    assert status_of(instance) == InstanceStatus.COMPLETED


def test_a_draft_is_done_when_the_compose_page_sends_it_for_the_item(client, owner, template):
    version = build(ActivityType.EMAIL, {"template": str(template.uuid), "send": False})
    person, instance = start(owner, version, last_name="Kern", email="kern@example.de")
    item = the_item(instance)
    assert MailMessage.objects.count() == 0
    client.force_login(owner)
    # the instance page links to the compose page with template, person and item
    html = client.get(instance.get_absolute_url()).content.decode()
    back = quote(instance.get_absolute_url(), safe="")
    compose = (
        f"{reverse('mail:compose')}?person={person.uuid}&amp;process_item={item.pk}"
        f"&amp;next={back}&amp;template={template.uuid}"
    )
    assert compose in html
    page = client.get(compose.replace("&amp;", "&"))
    assert page.status_code == 200
    assert f'name="process_item" value="{item.pk}"' in page.content.decode()
    assert "Thank you, Kern" in page.content.decode()
    # when the e-mail is sent with the item
    response = client.post(
        reverse("mail:compose"),
        {
            "person": str(person.uuid),
            "template": str(template.uuid),
            "subject": "Thank you, Kern",
            "body": "Dear Mr Kern",
            "process_item": str(item.pk),
            "next": instance.get_absolute_url(),
        },
    )
    # then it is linked to the item, which is done, the process moved on, and the
    # user is back on the process
    message = MailMessage.objects.get()
    assert (response.status_code, response.url) == (302, instance.get_absolute_url())
    item.refresh_from_db()
    assert (item.mail, item.done_by) == (message, owner)
    assert status_of(instance) == InstanceStatus.COMPLETED


def test_a_mail_for_another_persons_item_is_not_linked(client, owner, template):
    version = build(ActivityType.EMAIL, {"send": False})
    _person, instance = start(owner, version, email="a@example.de")
    other = owned_by(PersonFactory, owner, email="b@example.de")
    client.force_login(owner)
    client.post(
        reverse("mail:compose"),
        {
            "person": str(other.uuid),
            "subject": "Hi",
            "body": "Hello",
            "process_item": str(the_item(instance).pk),
        },
    )
    assert MailMessage.objects.count() == 1
    assert (the_item(instance).mail, the_item(instance).done_at) == (None, None)


# --- Appointment ---------------------------------------------------------------------------


def test_an_appointment_planned_from_the_item_is_linked_and_moves_on(client, owner):
    version = build(ActivityType.APPOINTMENT, {"duration_minutes": 90})
    person, instance = start(owner, version, last_name="Termin")
    item = the_item(instance)
    client.force_login(owner)
    html = client.get(instance.get_absolute_url()).content.decode()
    url = (
        f"{reverse('activities:appointment_create')}?person={person.uuid}&amp;title=The+work"
        f"&amp;process_item={item.pk}&amp;next={quote(instance.get_absolute_url(), safe='')}"
        "&amp;duration=90"
    )
    assert url in html
    url = url.replace("&amp;", "&")
    form = client.get(url).content.decode()
    assert 'value="The work"' in form
    # the end is 90 minutes after the start
    response = client.post(
        url,
        {
            "title": "The work",
            "starts_at": "2027-06-02T10:00",
            "ends_at": "2027-06-02T11:30",
            "person": str(person.uuid),
            "reminder_minutes": "15",
        },
    )
    appointment = Appointment.objects.get()
    assert (response.status_code, response.url) == (302, instance.get_absolute_url())
    item.refresh_from_db()
    assert (item.appointment, item.done_by) == (appointment, owner)
    assert status_of(instance) == InstanceStatus.COMPLETED


def test_the_appointment_form_takes_the_duration(client, owner):
    client.force_login(owner)
    html = client.get(
        reverse("activities:appointment_create"),
        {"start": "2027-06-02T10:00", "duration": "45", "title": "Visit"},
    ).content.decode()
    assert 'value="2027-06-02T10:45"' in html
    assert 'value="Visit"' in html


# --- Fields --------------------------------------------------------------------------------


def test_a_field_already_filled_is_done_on_entering(owner):
    version = build(ActivityType.FIELD, {"field": "person.email"})
    _person, instance = start(owner, version, email="da@example.de")
    assert the_item(instance).done_at is not None
    assert status_of(instance) == InstanceStatus.COMPLETED


def test_done_by_hand_needs_the_field_filled(owner):
    version = build(ActivityType.FIELD, {"field": "person.email"})
    _person, instance = start(owner, version, email="")
    with pytest.raises(ValidationError) as caught:
        engine.item_done(actor=owner, item=the_item(instance))
    assert caught.value.messages == ["Fill in “E-mail” first."]
    assert the_item(instance).done_at is None


def test_a_note_field_is_ticked_off_by_hand(owner):
    version = build(ActivityType.FIELD, {"field": "activity.body"})
    _person, instance = start(owner, version)
    engine.item_done(actor=owner, item=the_item(instance))
    assert status_of(instance) == InstanceStatus.COMPLETED


def test_filling_the_field_on_the_page_saves_it_and_completes_the_item(client, owner):
    version = build(ActivityType.FIELD, {"field": "person.email"})
    person, instance = start(owner, version, email="")
    item = the_item(instance)
    client.force_login(owner)
    html = client.get(instance.get_absolute_url()).content.decode()
    assert reverse("processes:instance_item_value", args=[instance.uuid, item.pk]) in html
    assert "not filled in yet" in html
    response = client.post(
        reverse("processes:instance_item_value", args=[instance.uuid, item.pk]),
        {f"item-{item.pk}-value": "neu@example.de"},
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.email == "neu@example.de"
    assert the_item(instance).done_by == owner
    assert status_of(instance) == InstanceStatus.COMPLETED


def test_a_bad_value_is_an_error_at_the_field_and_nothing_is_saved(client, owner):
    version = build(ActivityType.FIELD, {"field": "person.email"})
    person, instance = start(owner, version, email="")
    item = the_item(instance)
    client.force_login(owner)
    response = client.post(
        reverse("processes:instance_item_value", args=[instance.uuid, item.pk]),
        {f"item-{item.pk}-value": "not an address"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert '<p class="error" role="alert" hx-disable>Enter a valid email address.</p>' in html
    person.refresh_from_db()
    assert person.email == ""
    assert the_item(instance).done_at is None


def test_custom_field_through_the_api(client, owner, budget):
    version = build(ActivityType.FIELD, {"field": "custom.budget"})
    person, instance = start(owner, version)
    item = the_item(instance)
    url = f"/api/v1/process-instances/{instance.uuid}"
    detail = client.get(url, **writer(owner)).json()
    assert detail["items"][0] | {"done_at": None} == {
        "id": item.pk,
        "title": "The work",
        "kind": "field",
        "required": True,
        "done_at": None,
        "task": None,
        "appointment": None,
        "mail": None,
        "field": "custom.budget",
        "value": None,
        "fillable": True,
        "reason": "",
    }
    bad = post_json(client, f"{url}/items/{item.pk}/value", {"value": "lots"}, **writer(owner))
    assert bad.status_code == 422
    assert bad.json()["errors"] == [{"field": "value", "message": "Enter a whole number."}]
    person.refresh_from_db()
    assert person.custom == {}
    good = post_json(client, f"{url}/items/{item.pk}/value", {"value": 5000}, **writer(owner))
    assert good.status_code == 200
    person.refresh_from_db()
    assert person.custom == {"budget": 5000}
    assert good.json()["status"] == "completed"


def test_required_fields_are_shown_and_filled(client, owner):
    version = build(ActivityType.CHECKLIST, {}, required_fields=("person.email", "person.phone"))
    person, instance = start(owner, version, email="da@example.de", phone="")
    client.force_login(owner)
    html = client.get(instance.get_absolute_url()).content.decode()
    assert "Information needed" in html
    assert "da@example.de" in html
    response = client.post(
        reverse("processes:instance_field", args=[instance.uuid]),
        {"field": "person.phone", "field-1-value": "0511 123456"},
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.phone == "+49511123456"
    assert status_of(instance) == InstanceStatus.RUNNING  # the checklist item is still open


def test_filling_needs_customers_edit(owner, readonly):
    version = build(ActivityType.FIELD, {"field": "person.email"})
    person, instance = start(owner, version, email="")
    with pytest.raises(PermissionDenied):
        engine.item_fill(actor=readonly, item=the_item(instance), value="x@example.de")
    person.refresh_from_db()
    assert person.email == ""


def test_someone_who_may_not_see_the_customer_gets_404(client, owner, outsider):
    version = build(ActivityType.FIELD, {"field": "person.email"})
    person, instance = start(owner, version, email="")
    item = the_item(instance)
    client.force_login(outsider)
    response = client.post(
        reverse("processes:instance_item_value", args=[instance.uuid, item.pk]),
        {f"item-{item.pk}-value": "x@example.de"},
    )
    assert response.status_code == 404
    api = post_json(
        client,
        f"/api/v1/process-instances/{instance.uuid}/items/{item.pk}/value",
        {"value": "x@example.de"},
        **writer(outsider),
    )
    assert api.status_code == 404
    person.refresh_from_db()
    assert person.email == ""
    assert the_item(instance).done_at is None
    assert StepRunItem.objects.get(pk=item.pk).step_run.status == StepRunStatus.ACTIVE


def test_the_api_shows_why_an_email_is_open_and_the_instance_page_stays_cheap(
    client, owner, template, budget, django_assert_max_num_queries
):
    # given a step with an e-mail that cannot go out, a draft, an appointment and fields
    version = build(ActivityType.EMAIL, {"template": str(template.uuid), "send": True})
    step = version.steps.get(key="work")
    step.required_fields = ["person.email", "custom.budget"]
    step.save()
    for position, (kind, config) in enumerate(
        [
            (ActivityType.EMAIL, {"template": str(template.uuid), "send": False}),
            (ActivityType.APPOINTMENT, {"duration_minutes": 30}),
            (ActivityType.FIELD, {"field": "custom.budget"}),
        ],
        start=1,
    ):
        StepActivity.objects.create(
            step=step, kind=kind, title=f"Item {position}", config=config, position=position
        )
    _person, instance = start(owner, version, first_name="Ina", last_name="Leer", email="")
    detail = client.get(f"/api/v1/process-instances/{instance.uuid}", **writer(owner)).json()
    assert [(i["kind"], i["reason"], i["fillable"]) for i in detail["items"]] == [
        ("email", "Ina Leer has no e-mail address.", False),
        ("email", "", False),
        ("appointment", "", False),
        ("field", "", True),
    ]
    client.force_login(owner)
    with django_assert_max_num_queries(16):
        html = client.get(instance.get_absolute_url()).content.decode()
    assert html.count("Write e-mail") == 2
    assert html.count("Schedule appointment") == 1
