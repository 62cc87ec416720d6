"""The review queue and incoming messages in the API."""

import pytest

from kontor.activities.models import Activity
from kontor.core.models import AuditEntry
from kontor.mail import inbound
from kontor.mail.models import Mailbox, MailboxKind, MailMessage, MailStatus
from tests.core.test_api import post_json, reader, writer
from tests.mail.dovecot import build_mail, customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailbox(team):
    return Mailbox.objects.create(
        name="Vertrieb", email_address="vertrieb@firma.de", kind=MailboxKind.TEAM, team=team,
        host="h", username="u", password="p",
    )  # fmt: skip


@pytest.fixture
def erika(owner):
    return customer(owner, first_name="Erika", email="erika@kunde.de")


def waiting_mail(mailbox, n: int) -> MailMessage:
    return inbound.file_message(
        raw=build_mail(sender="fremd@x.de", message_id=f"<w{n}@x.de>", subject=f"Frage {n}"),
        mailbox=mailbox,
    )


def state():
    return (
        list(MailMessage.objects.order_by("pk").values("status", "activity", "private")),
        Activity.objects.count(),
        AuditEntry.objects.count(),
    )


def test_the_review_queue_pages_with_a_cursor(client, owner, mailbox):
    for n in range(3):
        waiting_mail(mailbox, n)
    headers = reader(owner)

    first = client.get("/api/v1/mail/review?limit=2", **headers).json()
    second = client.get(
        f"/api/v1/mail/review?limit=2&cursor={first['next_cursor']}", **headers
    ).json()

    assert [m["subject"] for m in first["items"]] == ["Frage 2", "Frage 1"]
    assert [m["subject"] for m in second["items"]] == ["Frage 0"]
    assert second["next_cursor"] is None
    item = first["items"][0]
    assert (item["status"], item["from_address"], item["mailbox"], item["person"]) == (
        "review",
        "fremd@x.de",
        "Vertrieb",
        None,
    )


def test_filing_and_ignoring_through_the_api(client, owner, mailbox, erika):
    one, two = waiting_mail(mailbox, 1), waiting_mail(mailbox, 2)
    headers = writer(owner)

    filed = post_json(
        client, f"/api/v1/mail/review/{one.uuid}/file", {"person": str(erika.uuid)}, **headers
    )
    ignored = post_json(client, f"/api/v1/mail/review/{two.uuid}/ignore", {}, **headers)

    assert filed.status_code == 200
    assert (filed.json()["status"], filed.json()["person"]) == ("filed", str(erika.uuid))
    assert ignored.json()["status"] == "ignored"
    assert Activity.objects.get().person == erika

    again = post_json(
        client, f"/api/v1/mail/review/{one.uuid}/file", {"person": str(erika.uuid)}, **headers
    )
    assert again.status_code == 422
    assert Activity.objects.count() == 1


def test_a_message_with_body_and_attachments(client, owner, mailbox, erika):
    message = inbound.file_message(
        raw=build_mail(attachments=(("a.txt", b"hi", "text/plain"),)), mailbox=mailbox
    )

    data = client.get(f"/api/v1/mail/messages/{message.uuid}", **reader(owner)).json()

    assert data["text_body"] == "Guten Tag, bitte ein Angebot."
    assert data["activity"] == str(message.activity.uuid)
    assert [(a["filename"], a["size"]) for a in data["attachments"]] == [("a.txt", 2)]


def test_marking_private_hides_the_mail_from_colleagues(client, owner, teammate, mailbox, erika):
    message = inbound.file_message(raw=build_mail(), mailbox=mailbox)
    url = f"/api/v1/mail/messages/{message.uuid}"

    response = post_json(client, f"{url}/private", {"private": True}, **writer(owner))

    assert response.json()["private"] is True
    assert client.get(url, **reader(teammate)).status_code == 404
    assert client.get(url, **reader(owner)).status_code == 200
    # The colleague cannot undo it: they do not see it.
    assert (
        post_json(client, f"{url}/private", {"private": False}, **writer(teammate)).status_code
        == 404
    )
    assert Activity.objects.get().private is True


def test_outsiders_get_404_and_nothing_changes(client, owner, outsider, mailbox, erika):
    waiting = waiting_mail(mailbox, 1)
    filed = inbound.file_message(raw=build_mail(), mailbox=mailbox)
    before = state()
    headers = writer(outsider)

    assert client.get(f"/api/v1/mail/messages/{filed.uuid}", **headers).status_code == 404
    assert client.get(f"/api/v1/mail/messages/{waiting.uuid}", **headers).status_code == 404
    assert client.get("/api/v1/mail/review", **headers).json()["items"] == []
    assert (
        post_json(
            client,
            f"/api/v1/mail/review/{waiting.uuid}/file",
            {"person": str(erika.uuid)},
            **headers,
        ).status_code
        == 404
    )
    assert (
        post_json(client, f"/api/v1/mail/review/{waiting.uuid}/ignore", {}, **headers).status_code
        == 404
    )
    assert (
        post_json(
            client, f"/api/v1/mail/messages/{filed.uuid}/private", {"private": True}, **headers
        ).status_code
        == 404
    )
    assert state() == before


def test_a_read_only_token_cannot_file(client, owner, mailbox, erika):
    waiting = waiting_mail(mailbox, 1)
    before = state()

    response = post_json(
        client,
        f"/api/v1/mail/review/{waiting.uuid}/file",
        {"person": str(erika.uuid)},
        **reader(owner),
    )

    assert response.status_code == 403
    assert state() == before
    assert MailMessage.objects.get().status == MailStatus.REVIEW
