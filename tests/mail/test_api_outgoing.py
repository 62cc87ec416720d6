"""E-mail out in the API: /email-templates and /emails."""

import json

import pytest

from kontor.activities.models import Activity
from kontor.customers.models import Note
from kontor.mail.models import EmailTemplate, MailMessage
from kontor.mail.services import templates
from tests.core.test_api import assert_problem, post_json, reader, writer
from tests.customers.factories import PersonFactory, owned_by

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
FORBIDDEN = ("Forbidden", "Your role does not allow this.")
NOT_FOUND = ("Not found", "No such record, or you may not see it.")


def patch_json(client, url, data, **headers):
    return client.patch(url, data=json.dumps(data), content_type="application/json", **headers)


@pytest.fixture
def person(owner):
    person = owned_by(
        PersonFactory,
        owner,
        salutation="ms",
        first_name="Eva",
        last_name="Berg",
        email="eva@example.de",
    )
    Note.objects.create(person=person, author=owner, text="Glückwunsch zum Jubiläum!")
    return person


def test_templates_list_create_read_patch_and_archive(client, owner, teammate):
    templates.template_create(actor=teammate, name="Fremd", subject="S", body="B")
    body = {
        "name": "Jubiläum",
        "subject": "Hallo {{ person.first_name }}",
        "body": "{{ notes.latest }}",
    }
    created = post_json(client, "/api/v1/email-templates", body, **writer(owner))
    assert created.status_code == 201
    data = created.json()
    assert (data["name"], data["shared"], data["version"], data["language"]) == (
        "Jubiläum",
        False,
        1,
        "",
    )
    url = f"/api/v1/email-templates/{data['uuid']}"
    listed = client.get("/api/v1/email-templates", **reader(owner)).json()
    assert [t["name"] for t in listed["items"]] == ["Jubiläum"]
    assert client.get(url, **reader(owner)).json()["subject"] == "Hallo {{ person.first_name }}"
    changed = patch_json(client, url, {"name": "Jubiläum 2", "version": 1}, **writer(owner))
    assert (changed.status_code, changed.json()["version"]) == (200, 2)
    stale = patch_json(client, url, {"name": "Alt", "version": 1}, **writer(owner))
    assert_problem(
        stale,
        409,
        "Conflict",
        "Someone else changed this template in the meantime. Read it again "
        "(now version 2) and repeat your change.",
        current_version=2,
    )
    assert client.delete(url, **writer(owner)).status_code == 204
    assert EmailTemplate.objects.get(uuid=data["uuid"]).archived is True


def test_a_template_with_an_unknown_field_is_a_422(client, owner):
    body = {"name": "X", "subject": "S", "body": "{{ person.nope }}"}
    response = post_json(client, "/api/v1/email-templates", body, **writer(owner))
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "body"
    assert error["message"].startswith("Unknown merge field: person.nope.")
    assert not EmailTemplate.objects.exists()


def test_a_shared_template_needs_mail_manage(client, owner, admin):
    body = {"name": "X", "subject": "S", "body": "B", "shared": True}
    assert_problem(
        post_json(client, "/api/v1/email-templates", body, **writer(owner)), 403, *FORBIDDEN
    )
    assert post_json(client, "/api/v1/email-templates", body, **writer(admin)).status_code == 201


def test_someone_elses_template_is_404(client, owner, teammate):
    template = templates.template_create(actor=teammate, name="Fremd", subject="S", body="B")
    url = f"/api/v1/email-templates/{template.uuid}"
    assert client.get(url, **reader(owner)).status_code == 404
    assert patch_json(client, url, {"name": "X", "version": 1}, **writer(owner)).status_code == 404


def test_send_with_a_template_is_202_and_arrives(
    client, owner, person, smtp_sink, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = IMMEDIATE
    template = templates.template_create(
        actor=owner,
        name="Jubiläum",
        subject="Hallo {{ person.first_name }}",
        body="{{ person.letter_salutation }},\n{{ notes.latest }}",
    )
    headers = writer(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(
            client,
            "/api/v1/emails",
            {"person": str(person.uuid), "template": str(template.uuid)},
            **headers,
        )
    assert response.status_code == 202
    data = response.json()
    message = MailMessage.objects.get()
    assert (data["uuid"], data["subject"], data["text"], data["to"], data["person"]) == (
        str(message.uuid),
        "Hallo Eva",
        "Sehr geehrte Frau Berg,\nGlückwunsch zum Jubiläum!",
        ["eva@example.de"],
        str(person.uuid),
    )
    assert smtp_sink.messages[0]["Subject"] == "Hallo Eva"
    status = client.get(f"/api/v1/emails/{message.uuid}", **reader(owner)).json()
    assert (status["status"], status["attempts"], status["activity"]) == (
        "sent",
        1,
        str(message.activity.uuid),
    )


def test_send_with_subject_and_body_queues(client, owner, person):
    body = {"person": str(person.uuid), "subject": "Hi", "body": "Hallo {{ person.first_name }}"}
    response = post_json(client, "/api/v1/emails", body, **writer(owner))
    assert response.status_code == 202
    assert (response.json()["status"], response.json()["text"]) == ("queued", "Hallo Eva")


def test_send_needs_a_template_or_subject_and_body(client, owner, person):
    response = post_json(client, "/api/v1/emails", {"person": str(person.uuid)}, **writer(owner))
    assert response.status_code == 422
    assert sorted(e["field"] for e in response.json()["errors"]) == ["body", "subject"]
    assert not MailMessage.objects.exists()


def test_send_to_an_invisible_person_is_404_and_readonly_403(client, person, outsider, readonly):
    body = {"person": str(person.uuid), "subject": "Hi", "body": "B"}
    assert_problem(post_json(client, "/api/v1/emails", body, **writer(outsider)), 404, *NOT_FOUND)
    assert_problem(post_json(client, "/api/v1/emails", body, **writer(readonly)), 403, *FORBIDDEN)
    assert (MailMessage.objects.count(), Activity.objects.count()) == (0, 0)


def test_a_sent_message_is_404_for_an_outsider(client, owner, outsider, person):
    body = {"person": str(person.uuid), "subject": "Hi", "body": "B"}
    uuid = post_json(client, "/api/v1/emails", body, **writer(owner)).json()["uuid"]
    assert client.get(f"/api/v1/emails/{uuid}", **reader(outsider)).status_code == 404
