"""Stored HTML/htmx injection on the mail pages (issue 12, item 1).

A sales rep without the right to delete names a person ``<b hx-post=…/delete/
hx-trigger=load>``; a manager who opens "Write e-mail" for that person must not get
an element that htmx would act on. Every mail page is rendered with a hostile value
in every text field of the person, the organization, the sender, the template, the
note, the incoming message and the mailbox: nothing comes out as markup, and where
it shows as text it is inside an ``hx-disable`` region."""

from email.utils import formataddr

import pytest
from django.urls import reverse

from kontor.core.models import CustomField
from kontor.core.permissions import RoleCode
from kontor.customers.models import Note, Organization, Person
from kontor.demo.activities import TEMPLATE_BODY, TEMPLATE_NAME, TEMPLATE_SUBJECT
from kontor.mail import inbound, merge
from kontor.mail.models import EmailTemplate, Mailbox, MailboxKind, MailMessage, MailStatus
from kontor.mail.services import outgoing
from tests.conftest import role
from tests.core.factories import UserFactory
from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by
from tests.mail.dovecot import build_mail
from tests.mail.hostile import HOSTILE, assert_inert, assert_shown, hostile_values

pytestmark = pytest.mark.django_db

HOSTILE_ADDRESS = "opfer@kunde.example"


@pytest.fixture
def manager(team):
    """A manager (may delete, may manage mail) with a hostile name of their own."""
    return UserFactory(
        username="manager",
        first_name=HOSTILE,
        last_name=HOSTILE,
        email="manager@kontor.example",
        role=role(RoleCode.SALES_MANAGER),
        teams=[team],
    )


@pytest.fixture
def victim(owner):
    return owned_by(PersonFactory, owner, first_name="Vera", last_name="Opfer")


@pytest.fixture
def hostile_person(owner, victim):
    """The issue's person: a last name that would delete the victim, and every other
    text field hostile too, at a hostile organization, with a hostile note and a
    hostile custom field."""
    CustomField.objects.create(
        entity="customers.person", key="motto", label=HOSTILE, field_type="text"
    )
    organization = owned_by(OrganizationFactory, owner, **hostile_values(Organization))
    values = hostile_values(Person)
    values.update(
        salutation="mr",
        # The address stays valid (its validator sees to that); the inbox files by it.
        email=HOSTILE_ADDRESS,
        email_key=HOSTILE_ADDRESS,
        organization=organization,
        custom={"motto": HOSTILE},
    )
    person = owned_by(PersonFactory, owner, **values)
    Note.objects.create(person=person, author=owner, text=HOSTILE, html="<p>note</p>")
    return person


@pytest.fixture
def follow_up():
    """The shipped follow-up template (the demo's), as the issue names it."""
    return EmailTemplate.objects.create(
        name=TEMPLATE_NAME, subject=TEMPLATE_SUBJECT, body=TEMPLATE_BODY, language="de"
    )


def every_field(actor) -> str:
    """A template text using every merge field ``actor`` may use."""
    names = [name for group in merge.available_fields(actor=actor) for name, _l in group.fields]
    return "\n".join(f"{name}: {{{{ {name} }}}}" for name in names)


@pytest.fixture
def hostile_template(manager):
    return EmailTemplate.objects.create(
        name=HOSTILE, subject=HOSTILE + " {{ person.last_name }}", body=every_field(manager)
    )


def page(client, url, *, method="get", data=None, status=200) -> str:
    response = getattr(client, method)(url, data or {})
    assert response.status_code == status, response.status_code
    return response.content.decode()


# --- The reproduction from the issue ----------------------------------------------------


def test_the_issues_person_opened_in_write_email_by_a_manager_is_inert(
    client, owner, manager, follow_up, victim
):
    # A sales rep (no delete right) names a person so; a manager writes to them.
    person = owned_by(
        PersonFactory,
        owner,
        first_name="Max",
        last_name=f"<b hx-post=/customers/persons/{victim.uuid}/delete/ hx-trigger=load>",
        salutation="mr",
        email="max@kunde.example",
    )
    client.force_login(manager)
    html = page(
        client, reverse("mail:compose") + f"?person={person.uuid}&template={follow_up.uuid}"
    )
    assert "<b hx-" not in html
    # The merged salutation is in the text field, escaped, and inside hx-disable.
    assert f"Sehr geehrter Herr &lt;b hx-post=/customers/persons/{victim.uuid}/delete/" in html
    assert_inert(html.replace(str(victim.uuid), "pwned"))
    assert Person.objects.filter(pk=victim.pk).exists()


def test_merge_output_is_plain_text_not_marked_safe(manager, hostile_person, follow_up):
    subject, body = outgoing.render_for(
        actor=manager,
        person=hostile_person,
        subject=follow_up.subject,
        body=follow_up.body,
        template=follow_up,
    )
    # A SafeString would be shown unescaped by every template.
    assert type(subject) is str and type(body) is str
    assert HOSTILE in body


# --- Every mail page ----------------------------------------------------------------------


def test_compose_fill_and_preview_with_every_field_hostile(
    client, manager, hostile_person, hostile_template
):
    client.force_login(manager)
    person = str(hostile_person.uuid)
    compose = page(
        client, reverse("mail:compose") + f"?person={person}&template={hostile_template.uuid}"
    )
    filled = page(
        client,
        reverse("mail:compose_fill"),
        data={"person": person, "template": hostile_template.uuid},
    )
    preview = page(
        client,
        reverse("mail:compose_preview"),
        method="post",
        data={
            "person": person,
            "template": str(hostile_template.uuid),
            "subject": hostile_template.subject,
            "body": hostile_template.body,
        },
    )
    for html in (compose, filled, preview):
        assert_shown(html)
        assert_inert(html)
    # The preview is inside its own hx-disable region, the hx-post that loads it outside.
    assert 'class="compose-preview-content" hx-disable' in preview


def test_a_merge_error_naming_hostile_text_is_inert(client, manager, hostile_person):
    client.force_login(manager)
    html = page(
        client,
        reverse("mail:compose_preview"),
        method="post",
        data={"person": str(hostile_person.uuid), "subject": HOSTILE, "body": "{{ x.pwned }}"},
    )
    assert "x.pwned" in html
    assert_inert(html)


def test_sent_mail_pages_with_every_field_hostile(
    client, manager, hostile_person, hostile_template, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        message = outgoing.mail_send(
            actor=manager,
            person=hostile_person,
            subject=hostile_template.subject,
            body=hostile_template.body,
            template=hostile_template,
        )
    MailMessage.objects.filter(pk=message.pk).update(status=MailStatus.FAILED, error=HOSTILE)
    client.force_login(manager)
    for url in (
        reverse("mail:outgoing_list"),
        reverse("mail:outgoing_detail", kwargs={"uuid": message.uuid}),
    ):
        html = page(client, url)
        assert_shown(html)
        assert_inert(html)


def test_template_pages_with_every_field_hostile(client, manager, hostile_template):
    client.force_login(manager)
    for url in (
        reverse("mail:template_list"),
        reverse("mail:template_edit", kwargs={"uuid": hostile_template.uuid}),
    ):
        html = page(client, url)
        assert_shown(html)
        assert_inert(html)
    # A failed save shows the hostile entries again, with the error.
    html = page(
        client,
        reverse("mail:template_create"),
        method="post",
        data={"name": HOSTILE, "subject": HOSTILE, "body": "{{ pwned.field }}", "language": ""},
    )
    assert_inert(html)


@pytest.fixture
def hostile_mailbox(team):
    return Mailbox.objects.create(
        name=HOSTILE,
        email_address="vertrieb@firma.de",
        kind=MailboxKind.TEAM,
        team=team,
        host="127.0.0.1",
        username="vertrieb",
        password="x",
        last_error=HOSTILE,
    )


def test_incoming_mail_pages_with_every_field_hostile(
    client, manager, hostile_person, hostile_mailbox
):
    filed = inbound.file_message(
        raw=build_mail(
            sender=formataddr((HOSTILE, HOSTILE_ADDRESS)),
            subject=HOSTILE,
            text=HOSTILE,
            html=f"<p>{HOSTILE}</p>",
            attachments=((HOSTILE + ".pdf", b"%PDF", "application/pdf"),),
        ),
        mailbox=hostile_mailbox,
    )
    waiting = inbound.file_message(
        raw=build_mail(
            sender=formataddr((HOSTILE, "fremd@x.example")),
            message_id="<w@x.example>",
            subject=HOSTILE,
            text=HOSTILE,
        ),
        mailbox=hostile_mailbox,
    )
    assert filed.activity is not None and waiting.status == MailStatus.REVIEW
    # A row written around the importer (an older version, a script): its HTML is
    # cleaned again when shown.
    raw_html = f'<div hx-post="/{HOSTILE}/" hx-trigger="load">{HOSTILE}</div><img src=x onerror=x>'
    MailMessage.objects.filter(pk=filed.pk).update(html_body=raw_html)
    MailMessage.objects.filter(pk=waiting.pk).update(error=HOSTILE)
    client.force_login(manager)
    for url in (
        reverse("mail:inbox"),
        reverse("mail:message_detail", kwargs={"uuid": filed.uuid}),
        reverse("mail:message_detail", kwargs={"uuid": waiting.uuid}) + "?q=opfer",
        reverse("mail:message_persons", kwargs={"uuid": waiting.uuid}) + "?q=opfer",
        reverse("mail:mailbox_list"),
        reverse("mail:mailbox_edit", kwargs={"pk": hostile_mailbox.pk}),
    ):
        html = page(client, url)
        assert_shown(html)
        assert_inert(html)
