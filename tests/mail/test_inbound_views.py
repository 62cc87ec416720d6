"""The inbox and a message's page: who sees what, filing from the review queue,
ignoring, private mail."""

import pytest
from django.urls import reverse

from kontor.activities.models import Activity
from kontor.core.models import AuditEntry
from kontor.core.search import rebuild
from kontor.mail import inbound
from kontor.mail.models import Mailbox, MailboxKind, MailMessage, MailStatus
from tests.mail.dovecot import build_mail, customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailbox(team):
    return Mailbox.objects.create(
        name="Vertrieb",
        email_address="vertrieb@firma.de",
        kind=MailboxKind.TEAM,
        team=team,
        host="127.0.0.1",
        username="vertrieb",
        password="x",
    )


@pytest.fixture
def erika(owner):
    return customer(owner, first_name="Erika", last_name="Muster", email="erika@kunde.de")


@pytest.fixture
def filed(mailbox, erika):
    return inbound.file_message(
        raw=build_mail(
            html="<p>Hallo</p><script>alert(1)</script>",
            attachments=(("plan.pdf", b"%PDF", "application/pdf"),),
        ),
        mailbox=mailbox,
    )


@pytest.fixture
def waiting(mailbox):
    return inbound.file_message(
        raw=build_mail(sender="Fremd <fremd@x.de>", message_id="<w@x.de>", subject="Wer bin ich"),
        mailbox=mailbox,
    )


def state():
    return (
        list(MailMessage.objects.order_by("pk").values("status", "activity", "private")),
        list(Activity.objects.order_by("pk").values("person", "private", "author")),
        AuditEntry.objects.count(),
    )


def test_the_inbox_shows_the_queue_and_recently_filed_mail(
    client, owner, filed, waiting, django_assert_max_num_queries
):
    client.force_login(owner)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("mail:inbox"))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Wer bin ich" in body
    assert "No known person among the addresses." in body
    assert reverse("mail:message_detail", args=[waiting.uuid]) in body
    assert reverse("mail:message_detail", args=[filed.uuid]) in body
    assert "Erika Muster" in body


def test_an_outsider_sees_neither_the_queue_nor_the_filed_mail(client, outsider, filed, waiting):
    client.force_login(outsider)

    body = client.get(reverse("mail:inbox")).content.decode()

    assert "Wer bin ich" not in body
    assert str(filed.uuid) not in body
    assert client.get(reverse("mail:message_detail", args=[filed.uuid])).status_code == 404
    assert client.get(reverse("mail:message_detail", args=[waiting.uuid])).status_code == 404


def test_the_message_page_shows_headers_sanitised_body_attachments_and_activity(
    client, owner, filed, django_assert_max_num_queries
):
    client.force_login(owner)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("mail:message_detail", args=[filed.uuid]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "erika@kunde.de" in body
    assert "<p>Hallo</p>" in body
    assert "alert(1)" not in body
    assert "plan.pdf" in body
    assert reverse("activities:activity_detail", args=[filed.activity.uuid]) in body
    assert "Mark private" in body


def test_filing_a_waiting_message_to_a_person(client, owner, waiting, erika):
    client.force_login(owner)

    response = client.post(
        reverse("mail:message_file", args=[waiting.uuid]), {"person": str(erika.uuid)}
    )

    assert response.status_code == 302
    waiting.refresh_from_db()
    assert waiting.status == MailStatus.FILED
    activity = waiting.activity
    assert (activity.person, activity.author, activity.subject, activity.kind) == (
        erika,
        owner,
        "Wer bin ich",
        "email",
    )


def test_filing_to_a_person_one_may_not_see_is_404_and_changes_nothing(
    client, teammate, outsider, waiting
):
    hidden = customer(outsider, email="geheim@x.de")
    before = state()
    client.force_login(teammate)

    response = client.post(
        reverse("mail:message_file", args=[waiting.uuid]), {"person": str(hidden.uuid)}
    )

    assert response.status_code == 404
    assert state() == before


def test_the_person_picker_finds_visible_persons(client, owner, outsider, waiting, erika):
    customer(outsider, first_name="Erika", last_name="Geheim", email="g@x.de")
    rebuild()
    client.force_login(owner)

    response = client.get(
        reverse("mail:message_persons", args=[waiting.uuid]), {"q": "Erika"}, HTTP_HX_REQUEST="true"
    )

    body = response.content.decode()
    assert str(erika.uuid) in body
    assert "Geheim" not in body


def test_ignoring_takes_a_message_out_of_the_queue(client, owner, waiting):
    client.force_login(owner)

    client.post(reverse("mail:message_ignore", args=[waiting.uuid]))

    waiting.refresh_from_db()
    assert waiting.status == MailStatus.IGNORED
    assert "Wer bin ich" not in client.get(reverse("mail:inbox")).content.decode()
    # Fetched again, it stays ignored.
    again = inbound.file_message(raw=build_mail(sender="fremd@x.de", message_id="<w@x.de>"))
    assert (again.pk, again.status) == (waiting.pk, MailStatus.IGNORED)


def test_a_filed_message_can_be_neither_filed_again_nor_ignored(client, owner, filed, erika):
    before = state()
    client.force_login(owner)

    client.post(reverse("mail:message_file", args=[filed.uuid]), {"person": str(erika.uuid)})
    client.post(reverse("mail:message_ignore", args=[filed.uuid]))

    assert state() == before


def test_a_private_mail_is_hidden_from_a_colleague(client, owner, teammate, filed):
    client.force_login(owner)
    client.post(reverse("mail:message_private", args=[filed.uuid]), {"private": "1"})

    filed.refresh_from_db()
    assert filed.private is True
    assert (filed.activity.private, filed.activity.author) == (True, owner)
    assert client.get(reverse("mail:message_detail", args=[filed.uuid])).status_code == 200

    client.force_login(teammate)
    assert client.get(reverse("mail:message_detail", args=[filed.uuid])).status_code == 404
    assert str(filed.uuid) not in client.get(reverse("mail:inbox")).content.decode()
    assert not Activity.objects.visible_to(teammate).filter(pk=filed.activity_id).exists()

    # The owner makes it public again.
    client.force_login(owner)
    client.post(reverse("mail:message_private", args=[filed.uuid]), {"private": "0"})
    client.force_login(teammate)
    assert client.get(reverse("mail:message_detail", args=[filed.uuid])).status_code == 200


def test_read_only_users_cannot_file_ignore_or_mark_private(
    client, readonly, waiting, filed, erika
):
    before = state()
    client.force_login(readonly)

    assert (
        client.post(
            reverse("mail:message_file", args=[waiting.uuid]), {"person": str(erika.uuid)}
        ).status_code
        == 403
    )
    assert (
        client.post(
            reverse("mail:message_private", args=[filed.uuid]), {"private": "1"}
        ).status_code
        == 403
    )
    assert client.post(reverse("mail:message_ignore", args=[waiting.uuid])).status_code == 403
    assert "Ignore" not in client.get(reverse("mail:inbox")).content.decode()
    assert state() == before


def test_a_personal_mailbox_queue_is_its_owners_only(client, owner, teammate, admin):
    personal = Mailbox.objects.create(
        name="Meins", email_address="owner@firma.de", kind=MailboxKind.PERSONAL, owner=owner,
        host="h", username="u", password="p",
    )  # fmt: skip
    message = inbound.file_message(raw=build_mail(sender="privat@x.de"), mailbox=personal)

    for user, status in ((owner, 200), (teammate, 404), (admin, 404)):
        client.force_login(user)
        assert client.get(reverse("mail:message_detail", args=[message.uuid])).status_code == status


def test_forwarded_mail_without_a_mailbox_is_reviewed_by_mail_managers(client, admin, owner):
    message = inbound.file_message(raw=build_mail(sender="x@y.de"))

    client.force_login(admin)
    assert "Anfrage" in client.get(reverse("mail:inbox")).content.decode()
    client.force_login(owner)
    assert client.get(reverse("mail:message_detail", args=[message.uuid])).status_code == 404
