"""Free notes on a customer (person or organization), in Markdown.

The HTML is rendered once, on save: markdown-it-py (CommonMark, raw HTML off) then
nh3 with a short allow-list, so a note can never carry script, event handlers or
``javascript:`` links, whatever its author typed. Pages show ``note.html`` as it is.

Reads and writes both live here: the note pages, the 360° section and the API use
the same functions. Who may: customers.view to read, customers.edit to write — and
only on customers the user may see (others are 404). A note is edited by its author;
deleted by its author or by a role with customers.delete.
"""

import nh3
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

from kontor.core import audit
from kontor.core.access import user_can
from kontor.core.models import AuditAction
from kontor.core.permissions import Capability
from kontor.customers.models import Note, Organization, Person
from kontor.customers.models.notes import NOTE_MAX_LENGTH

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "ul", "ol", "li", "a", "code", "pre", "blockquote",
    "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = {"http", "https", "mailto"}

# CommonMark without raw HTML (typed tags come out as text), plus tables.
_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")


def _shift_headings(state) -> None:
    # The page has h1 and each section h2: a note's "# Title" becomes h3, and so on.
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + 2)}"


_markdown.core.ruler.push("kontor_shift_headings", _shift_headings)


def sanitize(html: str) -> str:
    """Only the allowed tags, ``href`` on links (http, https, mailto) with
    rel="noopener noreferrer"; script and style are dropped with their content."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def render(text: str) -> str:
    """Markdown → sanitised HTML (the only HTML a note page ever shows)."""
    return sanitize(_markdown.render(text))


# --- Reads --------------------------------------------------------------------------------


def notes_of(*, customer: Person | Organization) -> QuerySet[Note]:
    """The customer's notes, newest first; the caller has checked that the user may
    see the customer."""
    kind = "person" if isinstance(customer, Person) else "organization"
    return Note.objects.filter(**{kind: customer}).select_related("author")


def note_get(*, user, pk) -> Note:
    """The note if ``user`` may see its customer; 404 otherwise."""
    visible = Q(person__in=Person.objects.visible_to(user).values("pk")) | Q(
        organization__in=Organization.objects.visible_to(user).values("pk")
    )
    try:
        return Note.objects.select_related("author", "person", "organization").get(visible, pk=pk)
    except (Note.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def customer_of(note: Note) -> Person | Organization:
    return note.person if note.person_id else note.organization


def can_edit(user, note: Note) -> bool:
    return user_can(user, Capability.CUSTOMERS_EDIT) and note.author_id == user.pk


def can_delete(user, note: Note) -> bool:
    return can_edit(user, note) or (
        user_can(user, Capability.CUSTOMERS_EDIT) and user_can(user, Capability.CUSTOMERS_DELETE)
    )


# --- Writes -------------------------------------------------------------------------------


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied(_("Your role does not allow this."))


def _require_visible(actor, customer: Person | Organization) -> None:
    # Services do not trust their callers to have looked the customer up for the actor.
    if not type(customer).objects.visible_to(actor).filter(pk=customer.pk).exists():
        raise Http404


def _clean_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": [_("This field is required.")]})
    if len(text) > NOTE_MAX_LENGTH:
        # Checked before anything is rendered: a huge note costs no Markdown work.
        raise ValidationError(
            {
                "text": [
                    _("A note can have at most %(max)s characters (this one has %(count)s).")
                    % {"max": f"{NOTE_MAX_LENGTH:,}", "count": f"{len(text):,}"}
                ]
            }
        )
    if "\x00" in text:
        raise ValidationError({"text": [_("Null characters are not allowed.")]})
    return text


@transaction.atomic
def note_create(*, actor, customer: Person | Organization, text: str, via: str = "ui") -> Note:
    """Add a note by ``actor`` to ``customer`` (a person or an organization)."""
    _require(user_can(actor, Capability.CUSTOMERS_EDIT))
    _require_visible(actor, customer)
    text = _clean_text(text)
    kind = "person" if isinstance(customer, Person) else "organization"
    note = Note(author=actor, text=text, html=render(text), **{kind: customer})
    note.full_clean()
    note.save()
    audit.record(actor=actor, action=AuditAction.CREATE, instance=note, via=via)
    return note


@transaction.atomic
def note_update(*, actor, note: Note, text: str, via: str = "ui") -> Note:
    """Change the text of one's own note; the HTML is rendered again."""
    current = Note.objects.select_for_update().get(pk=note.pk)
    _require_visible(actor, customer_of(current))
    _require(can_edit(actor, current))
    text = _clean_text(text)
    before = audit.snapshot(current)
    current.text = text
    current.html = render(text)
    current.full_clean()
    current.save()
    audit.record(actor=actor, action=AuditAction.UPDATE, instance=current, before=before, via=via)
    return current


@transaction.atomic
def note_delete(*, actor, note: Note, via: str = "ui") -> None:
    current = Note.objects.select_for_update().get(pk=note.pk)
    _require_visible(actor, customer_of(current))
    _require(can_delete(actor, current))
    audit.record(actor=actor, action=AuditAction.DELETE, instance=current, via=via)
    current.delete()
