"""A data set in which every text a user (or a sender of e-mail) can type is hostile.

``hostile_data_set()`` loads a small demo (customers, activities, appointments, tasks,
processes with running instances), adds one of each record the demo leaves out
(attachments, saved views, bulk jobs, duplicates, merges, mailboxes, messages, API
tokens, calendar feeds, custom fields of every text type) and then writes ``HOSTILE``
into every ``CharField``/``TextField`` and every string inside the JSON fields that
hold typed text — found by introspecting the models, so that a field added later is
hostile too unless it is listed in ``NOT_TYPED`` with the reason.

``markup_found(body)`` tells whether a response carries the hostile value as markup:
a raw ``<b hx-`` or, after parsing, an element with the injected ``hx-post=/x``
attribute (an escaped value put into an unquoted attribute would give one).
"""

from dataclasses import dataclass
from html.parser import HTMLParser

from django.apps import apps
from django.db import models

from kontor.core import search
from kontor.core.fields import WebsiteField

HOSTILE = "<b hx-post=/x hx-trigger=load>\"'&"
# For fields shorter than HOSTILE (postal code, VAT id, customer number …).
HOSTILE_SHORT = "<b hx-post=/x>"
RAW_MARKERS = ("<b hx-",)

# Fields nobody types as free text: codes chosen from a list, keys derived from other
# fields, secrets and digests, identifiers that validation restricts to slugs or to
# e-mail syntax. "model label.field name".
NOT_TYPED = {
    "core.AuditEntry.via",  # "ui" / "api" / "import": set by the code
    "core.CustomField.entity",  # an entity code
    "core.CustomField.key",  # a slug
    "core.SavedView.entity",
    "core.BulkJob.entity",
    "core.BulkJob.action",
    "core.BulkJob.params",  # ids and codes
    "core.ApiToken.prefix",
    "core.ApiToken.digest",
    "core.Role.capabilities",
    "core.User.password",
    "core.User.username",  # validated: letters, digits and @.+-_
    "core.User.time_zone",  # a zone name from a list
    "customers.Person.language",  # a language code
    "customers.Person.country",  # an ISO code
    "customers.Organization.country",
    "customers.DuplicatePair.reasons",  # reason codes
    "customers.MergeRecord.choices",  # field name → "survivor" / "victim"
    "customers.ContactRole.buying_roles",  # role codes
    "activities.Attachment.content_type",  # sent as a header on download, not shown
    "activities.Attachment.sha256",
    "activities.CalendarFeed.token_hash",
    "activities.CalendarFeed.prefix",
    "mail.Mailbox.password",
    "mail.MailMessage.message_id",
    "mail.MailMessage.message_id_hash",
    "mail.MailMessage.in_reply_to",
    "processes.Process.key",  # a slug
    "processes.Step.key",  # a slug
    "processes.ProcessVersion.trigger_config",  # codes and numbers
    "processes.Step.required_fields",  # field paths
    "processes.Transition.condition",  # field paths and codes
    "processes.StepActivity.config",  # codes, uuids and numbers
    "processes.ProcessInstance.started_via",  # "manual" or a trigger code
}
# Derived from other fields and rebuilt after the hostile values are written.
DERIVED_MODELS = {"core.SearchEntry"}


def hostile_for(field: models.Field, suffix: str = "") -> str | None:
    """The hostile value that fits ``field`` (None if even the short one does not)."""
    for value in (HOSTILE + suffix, HOSTILE_SHORT + suffix):
        if field.max_length is None or len(value) <= field.max_length:
            return value
    return None


def hostile_json(value):
    """Every string inside ``value`` (dict values, list items) made hostile."""
    if isinstance(value, str):
        return HOSTILE
    if isinstance(value, list):
        return [hostile_json(item) for item in value]
    if isinstance(value, dict):
        return {key: hostile_json(item) for key, item in value.items()}
    return value


def typed_text_fields(model) -> list[models.Field]:
    """The model's fields that hold text someone typed (see NOT_TYPED)."""
    fields = []
    for field in model._meta.concrete_fields:
        label = f"{model._meta.label}.{field.name}"
        if label in NOT_TYPED or field.choices or field.primary_key:
            continue
        if isinstance(field, models.EmailField | models.SlugField):
            continue  # validated syntax: no markup gets in
        if type(field).__name__ == "MatchKeyField":
            continue  # duplicate-search keys derived from the other fields
        if isinstance(field, models.CharField | models.TextField | models.JSONField):
            fields.append(field)
    return fields


def make_hostile(model) -> int:
    """Write hostile values into every typed text field of every row; returns rows."""
    fields = typed_text_fields(model)
    if not fields:
        return 0
    rows = list(model._default_manager.all())
    for row in rows:
        for field in fields:
            current = getattr(row, field.attname)
            if isinstance(field, models.JSONField):
                if field.name == "custom":
                    continue  # custom-field values: set by hostile_custom_values
                setattr(row, field.attname, hostile_json(current))
                continue
            suffix = f" {row.pk}" if field.unique else ""
            if isinstance(field, WebsiteField):
                value = f"https://example.de/{HOSTILE}"[: field.max_length]
            else:
                value = hostile_for(field, suffix)
            if value is not None:
                setattr(row, field.attname, value)
    model._default_manager.bulk_update(rows, [f.name for f in fields], batch_size=200)
    return len(rows)


@dataclass
class HostileData:
    admin: object
    rep: object
    person: object
    organization: object


def _custom_fields() -> None:
    """A field of every text-like type on persons and organizations, with hostile
    choices; every record gets a hostile value in each."""
    from kontor.core.models import CustomField
    from kontor.core.models.customfields import CustomFieldType as T

    for entity in ("customers.person", "customers.organization"):
        for position, field_type in enumerate(
            (T.TEXT, T.LONG_TEXT, T.CHOICE, T.MULTIPLE_CHOICE, T.URL), start=10
        ):
            CustomField.objects.create(
                entity=entity,
                key=f"hostile_{field_type}",
                label="label",
                field_type=field_type,
                choices=[HOSTILE, HOSTILE + "2"] if "choice" in field_type else [],
                position=position,
            )


def _hostile_custom_values() -> None:
    from kontor.core.models import CustomField
    from kontor.core.models.customfields import CustomFieldType as T
    from kontor.customers.models import Organization, Person

    for model, entity in ((Person, "customers.person"), (Organization, "customers.organization")):
        fields = list(CustomField.objects.filter(entity=entity))
        rows = list(model.objects.all())
        for row in rows:
            custom = dict(row.custom or {})
            for field in fields:
                if field.field_type in (T.TEXT, T.LONG_TEXT, T.CHOICE):
                    custom[field.key] = HOSTILE
                elif field.field_type == T.MULTIPLE_CHOICE:
                    custom[field.key] = [HOSTILE, HOSTILE + "2"]
                elif field.field_type == T.URL:
                    custom[field.key] = f"https://example.de/{HOSTILE}"
            row.custom = custom
        model.objects.bulk_update(rows, ["custom"], batch_size=200)


def _extra_records(admin, rep, person, organization) -> None:
    """One of each record the demo does not make."""
    from kontor.activities.models import Activity, Attachment
    from kontor.activities.services import attachments, feeds
    from kontor.core.models import ApiToken, BulkJob, SavedView
    from kontor.customers import notes
    from kontor.customers.merge import person_merge
    from kontor.customers.models import (
        DuplicateKind,
        DuplicatePair,
        DuplicateScan,
        Equipment,
        Person,
    )
    from kontor.mail.models import Mailbox, MailMessage

    activity = Activity.objects.filter(person=person).first() or Activity.objects.first()
    attachments.attachment_add(
        actor=admin,
        activity=activity,
        name="bericht.txt",
        content=b"text",
        content_type="text/plain",
    )
    assert Attachment.objects.exists()
    feeds.feed_create(actor=admin)
    feeds.feed_create(actor=rep)
    for user in (admin, rep):
        ApiToken.objects.create(user=user, name="t", prefix=f"p{user.pk}", digest=f"d{user.pk}")
        SavedView.objects.create(entity="customers.person", name="v", owner=user, query={"q": "x"})
        SavedView.objects.create(
            entity="customers.organization", name="v", owner=user, query={"q": "x"}
        )
        BulkJob.objects.create(entity="customers.person", action="tag", actor=user, error="e")
    Equipment.objects.create(person=person, product="p")
    Equipment.objects.create(organization=organization, product="p")
    # Duplicates: a scan, an open pair of two persons of the rep's team, and a merge.
    team = rep.teams.order_by("id").first()
    persons = list(Person.objects.filter(team=team).exclude(pk=person.pk).order_by("id")[:4])
    DuplicateScan.objects.create(kind=DuplicateKind.PERSON, total=10, done=10)
    a, b = sorted(persons[:2], key=lambda p: p.pk)
    DuplicatePair.objects.create(kind=DuplicateKind.PERSON, a_id=a.pk, b_id=b.pk, score=90)
    person_merge(survivor=persons[2], victim=persons[3], actor=admin)
    # Notes are Markdown rendered through nh3: typed HTML and hx- attributes must not pass.
    for customer in (person, organization):
        notes.note_create(actor=admin, customer=customer, text="n")
    # A draft version: the process editor's pages only open on drafts.
    from kontor.processes.models import Process
    from kontor.processes.services.definitions import version_new_draft

    version_new_draft(actor=admin, process=Process.objects.order_by("pk").first())
    mailbox = Mailbox.objects.create(
        name="m", email_address="box@example.de", host="imap.example.de", username="u", password="p"
    )
    for direction, status in (
        ("in", "review"),
        ("in", "filed"),
        ("out", "sent"),
        ("out", "failed"),
    ):
        MailMessage.objects.create(
            mailbox=mailbox if direction == "in" else None,
            sender=admin if direction == "out" else None,
            activity=activity if status == "filed" else None,
            direction=direction,
            status=status,
            message_id=f"<{status}@example.de>",
            message_id_hash=status * 4,
            from_address="sender@example.de",
            to_addresses=["to@example.de"],
            subject="s",
            text_body="t",
            html_body="<p>t</p>",
            error="e",
        )


def hostile_data_set() -> HostileData:
    from kontor.core.models import User
    from kontor.customers import notes
    from kontor.customers.models import Note, Organization, Person
    from kontor.demo.data import load_demo

    load_demo(persons=8, seed=12, progress=lambda _m: None)
    admin = User.objects.get(username="admin")
    rep = User.objects.get(username="rep")
    person = Person.objects.filter(owner=rep, organization__isnull=False).order_by("id").first()
    organization = person.organization
    _custom_fields()
    _extra_records(admin, rep, person, organization)
    for model in apps.get_models():
        if model.__module__.startswith("kontor.") and model._meta.label not in DERIVED_MODELS:
            make_hostile(model)
    _hostile_custom_values()
    # A note's HTML is rendered from its Markdown on save: render the hostile text,
    # with typed HTML, a hostile link and a table besides.
    for note in Note.objects.all():
        note.text = (
            f"{HOSTILE}\n\n[link]({HOSTILE}) <a href=x hx-post=/x>a</a> [b](/x hx-post=/x)\n\n"
            "| a | b |\n|---|---|\n| <b hx-get=/x> | x |"
        )
        note.html = notes.render(note.text)
        note.save(update_fields=["text", "html"])
    search.rebuild(progress=lambda _m: None)
    for model in (Person, Organization):
        for row in model.objects.all():
            search.index(row)
    return HostileData(admin=admin, rep=rep, person=person, organization=organization)


class _InjectedAttributes(HTMLParser):
    """Collects elements that carry the injected attribute (hx-post="/x")."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith("hx-") and (value or "").startswith("/x"):
                self.found.append(self.get_starttag_text() or tag)

    handle_startendtag = handle_starttag


def markup_found(body: str) -> list[str]:
    """What in ``body`` is the hostile value turned into markup (empty: nothing)."""
    found = [
        body[max(0, i - 80) : i + 60] for marker in RAW_MARKERS for i in _positions(body, marker)
    ]
    parser = _InjectedAttributes()
    parser.feed(body)
    parser.close()
    return found + parser.found


def _positions(body: str, marker: str) -> list[int]:
    positions, start = [], 0
    while (i := body.find(marker, start)) != -1:
        positions.append(i)
        start = i + 1
    return positions[:3]


VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr",
}  # fmt: skip
# Elements whose content the browser reads as text only: markup cannot start there.
TEXT_ONLY = {"title", "textarea", "option", "script", "style"}


class _OutsideDisabled(HTMLParser):
    """Collects hostile text shown outside any element marked ``hx-disable``."""

    def __init__(self, marker: str, exempt: tuple[str, ...]):
        super().__init__(convert_charrefs=True)
        self.marker = marker
        self.exempt = exempt
        self.stack: list[tuple[str, bool]] = []
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        self.stack.append((tag, any(name == "hx-disable" for name, _v in attrs)))

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if self.marker not in data:
            return
        if any(disabled for _t, disabled in self.stack):
            return
        if self.stack and self.stack[-1][0] in TEXT_ONLY:
            return
        path = " > ".join(tag for tag, _d in self.stack)
        if not path.startswith(self.exempt):
            self.found.append(f"{path}: {data.strip()[:40]!r}")


def text_outside_disabled(
    body: str, *, exempt: tuple[str, ...] = (), marker: str = HOSTILE[:12]
) -> list[str]:
    """Where ``body`` shows the hostile text outside an ``hx-disable`` region (as the
    path of elements to it); paths starting with one in ``exempt`` are left out."""
    parser = _OutsideDisabled(marker, exempt)
    parser.feed(body)
    parser.close()
    return parser.found
