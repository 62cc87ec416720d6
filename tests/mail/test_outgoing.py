"""Writing to a person from Kontor: the service, the outbox task against a real SMTP
server (the smtp_sink fixture), the compose page and the sent list."""

import datetime
import socket

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult

from kontor.activities.models import Activity, ActivityKind, Direction
from kontor.core.models import AuditEntry
from kontor.customers.models import Note, Organization
from kontor.mail import outbox
from kontor.mail.models import EmailTemplate, MailDirection, MailMessage, MailStatus
from kontor.mail.services import outgoing
from tests.customers.factories import PersonFactory, owned_by

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

PERSONAL_BODY = (
    "{{ person.letter_salutation }},\n\n{{ notes.latest }}\n\nViele Grüße\n{{ sender.full_name }}"
)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mueller(owner):
    org = Organization.objects.create(name="Hansen Maschinenbau GmbH", owner=owner)
    person = owned_by(
        PersonFactory,
        owner,
        salutation="mr",
        title="Dr.",
        first_name="Hans",
        last_name="Müller",
        email="hans.mueller@example.de",
        organization=org,
    )
    Note.objects.create(person=person, author=owner, text="Wie war der Urlaub an der Ostsee?")
    return person


@pytest.fixture
def immediate(settings):
    settings.TASKS = IMMEDIATE


def send(actor, person, capture, **kwargs):
    kwargs.setdefault("subject", "Unser Gespräch, {{ person.last_name }}")
    kwargs.setdefault("body", PERSONAL_BODY)
    with capture(execute=True):
        return outgoing.mail_send(actor=actor, person=person, **kwargs)


def nothing_stored():
    return (MailMessage.objects.count(), Activity.objects.count()) == (0, 0)


def test_the_mail_arrives_merged_and_is_logged_in_the_history(
    owner, mueller, smtp_sink, immediate, settings, django_capture_on_commit_callbacks
):
    # given
    owner.first_name, owner.last_name, owner.email = "Petra", "Vogel", "petra@kontor.example"
    owner.save()
    settings.DEFAULT_FROM_EMAIL = "Kontor <crm@kontor.example>"
    # when
    message = send(owner, mueller, django_capture_on_commit_callbacks)
    # then
    [mail] = smtp_sink.messages
    body = (
        "Sehr geehrter Herr Dr. Müller,\n\nWie war der Urlaub an der Ostsee?\n\n"
        "Viele Grüße\nPetra Vogel"
    )
    assert mail["To"] == "hans.mueller@example.de"
    assert mail["From"] == "Petra Vogel <crm@kontor.example>"
    assert mail["Reply-To"] == "petra@kontor.example"
    assert mail["Subject"] == "Unser Gespräch, Müller"
    assert mail.get_content().replace("\r\n", "\n").rstrip("\n") == body
    message.refresh_from_db()
    assert mail["Message-ID"] == message.message_id
    assert message.message_id.endswith("@kontor.example>")
    assert (message.direction, message.status, message.attempts, message.error) == (
        MailDirection.OUTGOING,
        MailStatus.SENT,
        1,
        "",
    )
    assert (message.to_addresses, message.sender, message.subject, message.text_body) == (
        ["hans.mueller@example.de"],
        owner,
        "Unser Gespräch, Müller",
        body,
    )
    assert message.raw.name.endswith(f"{message.uuid}.eml")
    raw = message.raw.read()
    # What the server received, but for the final line break SMTP's DATA adds.
    received = smtp_sink.envelopes[0].original_content
    assert raw.replace(b"\r\n", b"\n") == received.replace(b"\r\n", b"\n").rstrip(b"\n")
    assert message.size == len(raw)
    activity = message.activity
    assert (
        activity.kind,
        activity.direction,
        activity.subject,
        activity.text,
        activity.person,
        activity.organization,
        activity.author,
    ) == (
        ActivityKind.EMAIL,
        Direction.OUTGOING,
        "Unser Gespräch, Müller",
        body,
        mueller,
        mueller.organization,
        owner,
    )
    entry = AuditEntry.objects.get(
        content_type=ContentType.objects.get_for_model(MailMessage), object_id=message.pk
    )
    assert (entry.action, entry.actor, entry.changes["to_addresses"]) == (
        "create",
        owner,
        [None, ["hans.mueller@example.de"]],
    )


def test_the_message_id_hash_matches_the_incoming_side(
    owner, mueller, django_capture_on_commit_callbacks
):
    message = send(owner, mueller, django_capture_on_commit_callbacks)
    inbound = pytest.importorskip("kontor.mail.inbound")
    assert message.message_id_hash == inbound.message_id_hash(message.message_id)


def test_a_template_in_english_salutes_in_english(
    owner, mueller, smtp_sink, immediate, django_capture_on_commit_callbacks
):
    template = EmailTemplate.objects.create(
        name="Follow-up", subject="Our talk", body="{{ person.letter_salutation }},", language="en"
    )
    send(
        owner,
        mueller,
        django_capture_on_commit_callbacks,
        subject=template.subject,
        body=template.body,
        template=template,
    )
    assert smtp_sink.messages[0].get_content().strip() == "Dear Dr. Müller,"


def test_an_unknown_merge_field_sends_and_logs_nothing(
    owner, mueller, smtp_sink, immediate, django_capture_on_commit_callbacks
):
    with pytest.raises(ValidationError) as caught:
        send(owner, mueller, django_capture_on_commit_callbacks, body="Hallo {{ person.vorname }}")
    assert caught.value.message_dict["body"][0].startswith(
        "Unknown merge field: person.vorname. Valid fields: "
    )
    assert nothing_stored()
    assert smtp_sink.messages == []


def test_a_person_without_email_is_refused(owner, django_capture_on_commit_callbacks):
    person = owned_by(PersonFactory, owner, first_name="Eva", last_name="Berg", email="")
    with pytest.raises(ValidationError) as caught:
        send(owner, person, django_capture_on_commit_callbacks)
    assert caught.value.message_dict == {"to": ["Eva Berg has no e-mail address."]}
    assert nothing_stored()


def test_an_outsider_cannot_write_to_a_person_they_may_not_see(
    outsider, mueller, django_capture_on_commit_callbacks
):
    with pytest.raises(Http404):
        send(outsider, mueller, django_capture_on_commit_callbacks)
    assert nothing_stored()


def test_readonly_may_not_send(readonly, mueller, django_capture_on_commit_callbacks):
    with pytest.raises(PermissionDenied):
        send(readonly, mueller, django_capture_on_commit_callbacks)
    assert nothing_stored()


def test_someone_elses_personal_template_is_not_used(
    owner, teammate, mueller, django_capture_on_commit_callbacks
):
    template = EmailTemplate.objects.create(name="Mine", subject="S", body="B", owner=teammate)
    with pytest.raises(Http404):
        send(owner, mueller, django_capture_on_commit_callbacks, template=template)
    assert nothing_stored()


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("subject", "x" * 301, "Enter at most 300 characters (this has 301)."),
        ("body", "x" * 100_001, "Enter at most 100,000 characters (this has 100,001)."),
        ("body", "a\x00b", "Null characters are not allowed."),
        ("subject", "  ", "This field is required."),
    ],
)
def test_limits_are_checked(
    owner, mueller, django_capture_on_commit_callbacks, field, value, error
):
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        send(owner, mueller, django_capture_on_commit_callbacks, **{field: value})
    assert caught.value.message_dict == {field: [error]}
    assert nothing_stored()


def test_smtp_down_fails_keeps_the_activity_and_a_retry_sends_it(
    owner, mueller, smtp_sink, immediate, settings, client, django_capture_on_commit_callbacks
):
    # given: the mail server does not answer
    sink_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = closed_port()
    message = send(owner, mueller, django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert (message.status, message.attempts, message.sent_at) == (MailStatus.FAILED, 1, None)
    assert message.error.startswith("ConnectionRefusedError")
    assert Activity.objects.filter(pk=message.activity_id).exists()
    # when: it is back and the sender retries
    settings.EMAIL_PORT = sink_port
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mail:outgoing_retry", args=[message.uuid]))
    # then
    assert response.status_code == 302
    message.refresh_from_db()
    assert (message.status, message.attempts, message.error) == (MailStatus.SENT, 1, "")
    assert [m["Message-ID"] for m in smtp_sink.messages] == [message.message_id]
    assert Activity.objects.count() == 1


def test_a_failure_is_retried_later_by_the_worker_up_to_three_times(
    owner, mueller, settings, django_capture_on_commit_callbacks
):
    # The database backend (the default in tests) can wait: each failure queues a retry.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port()
    message = send(owner, mueller, django_capture_on_commit_callbacks)
    assert DBTaskResult.objects.count() == 1
    before = timezone.now()
    assert outbox.outbox_send.call(message.pk) == "failed"
    retry = DBTaskResult.objects.order_by("-enqueued_at").first()
    assert DBTaskResult.objects.count() == 2
    assert retry.args_kwargs == {"args": [message.pk], "kwargs": {}}
    assert retry.run_after >= before + datetime.timedelta(seconds=60)
    assert outbox.outbox_send.call(message.pk) == "failed"
    assert outbox.outbox_send.call(message.pk) == "failed"
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MailStatus.FAILED, 3)
    assert DBTaskResult.objects.count() == 3  # no fourth try queued


def test_a_sent_message_is_never_sent_twice(
    owner, mueller, smtp_sink, immediate, django_capture_on_commit_callbacks
):
    message = send(owner, mueller, django_capture_on_commit_callbacks)
    assert outbox.outbox_send.call(message.pk) == "skipped"
    assert len(smtp_sink.messages) == 1
    message.refresh_from_db()
    assert message.attempts == 1


def test_a_message_claimed_by_another_worker_is_skipped(
    owner, mueller, smtp_sink, django_capture_on_commit_callbacks
):
    message = send(owner, mueller, django_capture_on_commit_callbacks)  # queued in the DB
    MailMessage.objects.filter(pk=message.pk).update(sent_at=timezone.now())
    assert outbox.outbox_send.call(message.pk) == "skipped"
    assert smtp_sink.messages == []
    # A claim older than the lease was a worker that died: the message goes out.
    MailMessage.objects.filter(pk=message.pk).update(
        sent_at=timezone.now() - datetime.timedelta(hours=1)
    )
    assert outbox.outbox_send.call(message.pk) == "sent"
    assert len(smtp_sink.messages) == 1


def test_a_rejected_recipient_fails_the_message(
    owner, mueller, smtp_sink, immediate, django_capture_on_commit_callbacks
):
    async def refuse(server, session, envelope, address, rcpt_options):
        return "550 5.1.1 No such user"

    smtp_sink.handle_RCPT = refuse
    message = send(owner, mueller, django_capture_on_commit_callbacks)
    message.refresh_from_db()
    assert message.status == MailStatus.FAILED
    assert message.error.startswith("SMTPRecipientsRefused")
    assert smtp_sink.messages == []


def test_only_a_failed_message_can_be_retried_and_only_by_its_sender(
    owner, teammate, mueller, smtp_sink, immediate, django_capture_on_commit_callbacks
):
    message = send(owner, mueller, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError):
        outgoing.mail_retry(actor=owner, message=message)
    MailMessage.objects.filter(pk=message.pk).update(status=MailStatus.FAILED)
    message.refresh_from_db()
    with pytest.raises(PermissionDenied):
        outgoing.mail_retry(actor=teammate, message=message)
    message.refresh_from_db()
    assert message.status == MailStatus.FAILED


# --- Pages ------------------------------------------------------------------------------------


def test_the_compose_page_offers_templates_notes_and_fields(client, owner, mueller):
    EmailTemplate.objects.create(name="Geteilt", subject="S", body="B")
    EmailTemplate.objects.create(name="Archiviert", subject="S", body="B", archived=True)
    client.force_login(owner)
    response = client.get(reverse("mail:compose") + f"?person={mueller.uuid}")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Geteilt" in page and "Archiviert" not in page
    assert 'data-insert="Wie war der Urlaub an der Ostsee?"' in page
    assert 'data-insert="{{ person.first_name }}"' in page
    assert "data-no-email" not in page


def test_the_compose_page_says_when_the_person_has_no_email(client, owner):
    person = owned_by(PersonFactory, owner, first_name="Eva", last_name="Berg", email="")
    client.force_login(owner)
    response = client.get(reverse("mail:compose") + f"?person={person.uuid}")
    assert response.status_code == 200
    assert "Eva Berg has no e-mail address." in response.content.decode()


def test_choosing_a_template_fills_in_subject_and_text_for_the_person(client, owner, mueller):
    template = EmailTemplate.objects.create(
        name="Urlaub", subject="Hallo {{ person.first_name }}", body="{{ notes.latest }}"
    )
    client.force_login(owner)
    response = client.get(
        reverse("mail:compose_fill"),
        {"person": str(mueller.uuid), "template": str(template.uuid)},
        headers={"HX-Request": "true"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'value="Hallo Hans"' in page
    assert ">\nWie war der Urlaub an der Ostsee?</textarea>" in page


def test_the_preview_shows_the_merged_text_or_the_error(client, owner, mueller):
    client.force_login(owner)
    url = reverse("mail:compose_preview")
    ok = client.post(
        url, {"person": str(mueller.uuid), "subject": "Hi", "body": "{{ person.full_name }}"}
    )
    assert "Dr. Hans Müller" in ok.content.decode()
    bad = client.post(url, {"person": str(mueller.uuid), "subject": "Hi", "body": "{{ x.y }}"})
    assert bad.status_code == 200
    assert "Unknown merge field: x.y." in bad.content.decode()


def test_sending_from_the_compose_page(
    client, owner, mueller, smtp_sink, immediate, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("mail:compose"),
            {
                "person": str(mueller.uuid),
                "template": "",
                "subject": "Hallo",
                "body": "{{ notes.latest }}",
            },
        )
    message = MailMessage.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("mail:outgoing_detail", args=[message.uuid])
    assert smtp_sink.messages[0].get_content().strip() == "Wie war der Urlaub an der Ostsee?"
    detail = client.get(response["Location"])
    assert detail.status_code == 200
    assert 'data-status="sent"' in detail.content.decode()


def test_a_merge_error_on_the_compose_page_is_a_form_error(client, owner, mueller):
    client.force_login(owner)
    response = client.post(
        reverse("mail:compose"),
        {"person": str(mueller.uuid), "subject": "Hallo", "body": "{% load static %}"},
    )
    assert response.status_code == 200
    assert "Only fields in {{ … }} are allowed here, not {% load %}." in response.content.decode()
    assert nothing_stored()


def test_compose_for_an_outsider_is_404_and_for_readonly_403(client, outsider, readonly, mueller):
    client.force_login(outsider)
    assert client.get(reverse("mail:compose") + f"?person={mueller.uuid}").status_code == 404
    client.force_login(readonly)
    assert client.get(reverse("mail:compose") + f"?person={mueller.uuid}").status_code == 403
    response = client.post(
        reverse("mail:compose"), {"person": str(mueller.uuid), "subject": "S", "body": "B"}
    )
    assert response.status_code == 403
    assert nothing_stored()


def test_the_sent_list_shows_ones_own_mails_with_status(
    client,
    owner,
    teammate,
    mueller,
    django_capture_on_commit_callbacks,
    django_assert_max_num_queries,
):
    for i in range(5):
        send(owner, mueller, django_capture_on_commit_callbacks, subject=f"Mail {i}")
    send(teammate, mueller, django_capture_on_commit_callbacks, subject="Von Teammate")
    client.force_login(owner)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("mail:outgoing_list"))
    page = response.content.decode()
    assert page.count('data-status="queued"') == 5
    assert "Von Teammate" not in page


def test_an_outsider_cannot_see_a_sent_message(
    client, owner, outsider, mueller, django_capture_on_commit_callbacks
):
    message = send(owner, mueller, django_capture_on_commit_callbacks)
    client.force_login(outsider)
    assert client.get(reverse("mail:outgoing_detail", args=[message.uuid])).status_code == 404
    assert client.post(reverse("mail:outgoing_retry", args=[message.uuid])).status_code == 404


def test_a_sent_message_goes_with_its_person_to_another_team(
    client, owner, outsider, mueller, django_capture_on_commit_callbacks
):
    """The sender sees a sent message as its history entry: only while they may see
    every customer it names (ActivityQuerySet.visible_to). Once the person belongs to
    another team, the message is that team's — not on the sender's sent list, not
    its page, not the API; a message whose history entry was deleted stays theirs."""
    from tests.core.test_api import reader

    moved = send(owner, mueller, django_capture_on_commit_callbacks, subject="Vor dem Wechsel")
    orphan = send(owner, mueller, django_capture_on_commit_callbacks, subject="Ohne Eintrag")
    orphan.activity.delete()
    Organization.objects.filter(pk=mueller.organization_id).update(
        owner=outsider, team=outsider.primary_team
    )
    type(mueller).objects.filter(pk=mueller.pk).update(owner=outsider, team=outsider.primary_team)
    client.force_login(owner)
    page = client.get(reverse("mail:outgoing_list")).content.decode()
    assert "Vor dem Wechsel" not in page
    assert "Ohne Eintrag" in page
    assert client.get(reverse("mail:outgoing_detail", args=[moved.uuid])).status_code == 404
    assert client.post(reverse("mail:outgoing_retry", args=[moved.uuid])).status_code == 404
    assert client.get(f"/api/v1/emails/{moved.uuid}", **reader(owner)).status_code == 404
    assert client.get(f"/api/v1/emails/{orphan.uuid}", **reader(owner)).status_code == 200
    client.force_login(outsider)
    assert client.get(reverse("mail:outgoing_detail", args=[moved.uuid])).status_code == 200


def test_the_recipient_is_labelled_an_in_german_not_bis(
    client, owner, mueller, django_capture_on_commit_callbacks
):
    # "To" of a date range is "Bis"; the recipient of an e-mail is "An" (msgctxt).
    message = send(owner, mueller, django_capture_on_commit_callbacks, subject="Hallo")
    type(owner).objects.filter(pk=owner.pk).update(language="de")
    client.force_login(owner)
    detail = client.get(reverse("mail:outgoing_detail", args=[message.uuid])).content.decode()
    sent_list = client.get(reverse("mail:outgoing_list")).content.decode()
    assert "<dt>An</dt>" in detail and "<dt>Bis</dt>" not in detail
    assert '<th scope="col">An</th>' in sent_list and ">Bis<" not in sent_list
