"""Filing incoming e-mail from raw bytes: matching, dedupe, bad input."""

import datetime as dt

import pytest
from django.core.files.storage import FileSystemStorage
from django.utils import timezone

from kontor.activities.models import Activity, Attachment, Direction
from kontor.customers.models import Person
from kontor.mail import inbound
from kontor.mail.models import Mailbox, MailboxKind, MailDirection, MailMessage, MailStatus
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
        port=143,
        username="vertrieb",
        password="x",
    )


@pytest.fixture
def erika(owner):
    return customer(owner, first_name="Erika", last_name="Muster", email="Erika@Kunde.de")


def test_a_mail_from_a_known_person_is_filed_in_their_history(mailbox, erika, settings):
    raw = build_mail(attachments=(("angebot.pdf", b"%PDF-1.4 x", "application/pdf"),))

    message = inbound.file_message(raw=raw, mailbox=mailbox)

    assert (message.status, message.direction, message.error) == (
        MailStatus.FILED,
        MailDirection.INCOMING,
        "",
    )
    assert (message.from_address, message.from_name, message.to_addresses) == (
        "erika@kunde.de",
        "Erika Muster",
        ["vertrieb@firma.de"],
    )
    assert message.message_id == "<m1@kunde.de>"
    assert message.sent_at == dt.datetime(2026, 11, 16, 8, 30, tzinfo=dt.UTC)
    assert message.raw.read() == raw
    activity = message.activity
    assert (activity.kind, activity.direction, activity.person, activity.subject) == (
        "email",
        Direction.INCOMING,
        erika,
        "Anfrage",
    )
    assert activity.text == "Guten Tag, bitte ein Angebot."
    assert activity.occurred_at == message.sent_at
    assert activity.author is None
    assert list(activity.external_participants.all()) == [erika]
    assert [(a.filename, a.content_type, a.file.read()) for a in activity.attachments.all()] == [
        ("angebot.pdf", "application/pdf", b"%PDF-1.4 x")
    ]


def test_persons_in_to_and_cc_are_matched_and_the_sender_is_the_subject(mailbox, owner, erika):
    hans = customer(owner, email="other@x.de", email2="hans@kunde.de")
    raw = build_mail(to="vertrieb@firma.de, HANS@kunde.de", cc="nobody@nowhere.de")

    activity = inbound.file_message(raw=raw, mailbox=mailbox).activity

    assert activity.person == erika
    assert set(activity.external_participants.all()) == {erika, hans}


def test_an_unknown_sender_to_a_known_person_files_on_that_person(mailbox, owner, erika):
    raw = build_mail(sender="fremd@irgendwo.de", to="vertrieb@firma.de", cc="erika@kunde.de")

    activity = inbound.file_message(raw=raw, mailbox=mailbox).activity

    assert (activity.person, activity.direction) == (erika, Direction.INCOMING)


def test_a_mail_sent_by_a_user_with_a_copy_to_kontor_is_outgoing(mailbox, owner, erika):
    raw = build_mail(sender=f"Owner <{owner.email}>", to="erika@kunde.de")

    activity = inbound.file_message(raw=raw, mailbox=mailbox).activity

    assert (activity.person, activity.direction) == (erika, Direction.OUTGOING)
    assert list(activity.external_participants.all()) == [erika]


def test_a_personal_mailbox_files_with_its_owner_as_author(owner, erika):
    personal = Mailbox.objects.create(
        name="Meins", email_address="owner@firma.de", kind=MailboxKind.PERSONAL, owner=owner,
        host="h", username="u", password="p",
    )  # fmt: skip

    activity = inbound.file_message(raw=build_mail(to="owner@firma.de"), mailbox=personal).activity

    assert activity.author == owner


def test_a_reply_to_a_mail_we_sent_is_filed_to_that_person(mailbox, owner, erika):
    sent_activity = Activity.objects.create(
        kind="email", subject="Angebot", occurred_at=timezone.now(), person=erika
    )
    MailMessage.objects.create(
        direction=MailDirection.OUTGOING,
        status=MailStatus.SENT,
        message_id="<sent-1@kontor>",
        message_id_hash=inbound.message_id_hash("<sent-1@kontor>"),
        from_address="vertrieb@firma.de",
        activity=sent_activity,
    )
    raw = build_mail(
        sender="privat@gmail.example", in_reply_to="<sent-1@kontor>", message_id="<r@g>"
    )

    message = inbound.file_message(raw=raw, mailbox=mailbox)

    assert message.status == MailStatus.FILED
    assert message.activity.person == erika
    assert message.in_reply_to == "<sent-1@kontor>"


def test_an_unmatched_mail_waits_for_review(mailbox, erika):
    raw = build_mail(sender="fremd@irgendwo.de", to="vertrieb@firma.de")

    message = inbound.file_message(raw=raw, mailbox=mailbox)

    assert (message.status, message.activity, message.error) == (MailStatus.REVIEW, None, "")
    assert message.text_body == "Guten Tag, bitte ein Angebot."
    assert Activity.objects.count() == 0


def test_the_mailbox_address_and_users_are_never_matched_as_customers(mailbox, owner):
    customer(owner, email="vertrieb@firma.de")
    customer(owner, email=owner.email)
    raw = build_mail(sender=f"<{owner.email}>", to="vertrieb@firma.de")

    assert inbound.file_message(raw=raw, mailbox=mailbox).status == MailStatus.REVIEW


def test_a_message_fetched_twice_is_filed_once(mailbox, erika):
    raw = build_mail()

    first = inbound.file_message(raw=raw, mailbox=mailbox)
    # The same Message-ID, folded and spaced differently, from another copy.
    again = inbound.file_message(
        raw=raw.replace(b"<m1@kunde.de>", b" <m1@kunde.de> "), mailbox=mailbox
    )

    assert again.pk == first.pk
    assert (MailMessage.objects.count(), Activity.objects.count()) == (1, 1)


class _RacingStorage(FileSystemStorage):
    """Another poller files the same message while this one stores the raw file."""

    raced = False

    def _save(self, name, content):
        if not _RacingStorage.raced and name.endswith(".eml"):
            _RacingStorage.raced = True
            self.winner = inbound.file_message(raw=_RacingStorage.raw)
        return super()._save(name, content)


def test_a_race_between_two_pollers_files_once(settings, erika, mailbox):
    raw = build_mail()
    _RacingStorage.raw = raw
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "tests.mail.test_inbound._RacingStorage"},
    }

    message = inbound.file_message(raw=raw, mailbox=mailbox)

    assert _RacingStorage.raced
    assert (MailMessage.objects.count(), Activity.objects.count()) == (1, 1)
    assert message.pk == MailMessage.objects.get().pk
    assert MailMessage.objects.get().mailbox is None  # the winner's row


def test_a_mail_without_message_id_is_deduplicated_by_its_bytes(mailbox, erika):
    raw = build_mail(message_id=None)

    first = inbound.file_message(raw=raw, mailbox=mailbox)
    again = inbound.file_message(raw=raw, mailbox=mailbox)

    assert first.pk == again.pk
    assert first.message_id == ""
    assert MailMessage.objects.count() == 1


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage without headers",
        b"From: =?utf-8?q?broken\r\nTo: <<<\r\nSubject: \xff\xfe\r\n"
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\n"
        b"--x\r\nContent-Type: text/plain; charset=nonexistent-8\r\n\r\nhallo\x00\r\n",
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"!!!not base64!!!",
    ],
)
def test_malformed_mails_are_never_lost(mailbox, raw):
    message = inbound.file_message(raw=raw, mailbox=mailbox)

    assert message.status == MailStatus.REVIEW
    assert MailMessage.objects.count() == 1
    assert message.raw.read() == raw
    assert "\x00" not in message.text_body


def test_a_mail_over_the_limit_keeps_only_headers_and_waits(settings, mailbox, erika):
    settings.MAIL_MAX_MB = 1
    raw = build_mail(text="x" * (1024 * 1024 + 10))

    message = inbound.file_message(raw=raw, mailbox=mailbox)

    assert message.status == MailStatus.REVIEW
    assert message.error.startswith("The message is 1.0 MB, more than the 1 MB Kontor files")
    assert (message.subject, message.from_address, message.text_body) == (
        "Anfrage",
        "erika@kunde.de",
        "",
    )
    assert message.size == len(raw)
    assert Activity.objects.count() == 0


def test_a_forbidden_attachment_is_skipped_and_noted(settings, mailbox, erika):
    settings.ATTACHMENT_MAX_MB = 1
    raw = build_mail(
        attachments=(
            ("virus.exe", b"MZ...", "application/octet-stream"),
            ("huge.pdf", b"x" * (1024 * 1024 + 1), "application/pdf"),
            ("ok.txt", b"fine", "text/plain"),
        )
    )

    message = inbound.file_message(raw=raw, mailbox=mailbox)

    assert message.status == MailStatus.FILED
    assert [a.filename for a in Attachment.objects.all()] == ["ok.txt"]
    assert message.activity.text == (
        "Guten Tag, bitte ein Angebot.\n\n"
        "Attachment virus.exe was not filed: Files of type .exe are not allowed.\n"
        "Attachment huge.pdf was not filed: A file can be at most 1 MB (this one is 1.0 MB)."
    )


def test_an_html_only_mail_becomes_text_and_sanitised_html(mailbox, erika):
    html = (
        '<html><head><style>p{color:red}</style></head><body><p onclick="x()">Hallo &amp; '
        'Gr&uuml;&szlig;e</p><script>alert(1)</script><a href="javascript:x">a</a>'
        '<img src="https://tracker.example/p.gif"><ul><li>eins</li></ul></body></html>'
    )
    message = inbound.file_message(raw=build_mail(text=None, html=html), mailbox=mailbox)

    assert message.activity.text == "Hallo & Grüße\na\n- eins"
    assert "script" not in message.html_body
    assert "onclick" not in message.html_body
    assert "javascript" not in message.html_body
    assert "img" not in message.html_body
    assert "<p>Hallo &amp; Grüße</p>" in message.html_body


def test_a_mail_without_subject_gets_one(mailbox, erika):
    message = inbound.file_message(raw=build_mail(subject=""), mailbox=mailbox)

    assert message.activity.subject == "(no subject)"


def test_message_ids_are_normalised():
    assert inbound.normalize_message_id("  <a@b>  ") == "<a@b>"
    assert inbound.normalize_message_id("a@b") == "<a@b>"
    assert inbound.normalize_message_id("<a@\r\n b> (comment)") == "<a@b>"
    assert inbound.normalize_message_id("") == ""


def test_persons_visible_to_nobody_still_get_their_mail(mailbox, outsider):
    # Kontor files as itself: who owns the person does not matter.
    person = customer(outsider, email="erika@kunde.de")

    assert inbound.file_message(raw=build_mail(), mailbox=mailbox).activity.person == person
    assert Person.objects.count() == 1
