"""Writing to a person from Kontor: checks, the history entry and the queued message.

``mail_send`` renders the merge fields for the person, logs an outgoing e-mail
activity with the text as sent, stores a MailMessage (queued) and, after the commit,
queues the outbox task that hands it to the configured SMTP server
(kontor.mail.outbox). A failed message is tried again by the worker a few times and
can be retried by hand (``mail_retry``)."""

import hashlib
from email.utils import parseaddr

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import make_msgid
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from kontor.activities.models import ACTIVITY_TEXT_MAX_LENGTH, Activity, ActivityKind, Direction
from kontor.activities.services.activities import (
    activity_create,
    clean_text,
    require_can_log,
    require_visible,
)
from kontor.core import audit, hooks
from kontor.core.access import user_can
from kontor.core.models import AuditAction
from kontor.core.permissions import Capability
from kontor.customers.models import Person
from kontor.mail import merge
from kontor.mail.models import EmailTemplate, MailDirection, MailMessage, MailStatus

SUBJECT_MAX_LENGTH = 300
BODY_MAX_LENGTH = ACTIVITY_TEXT_MAX_LENGTH


def message_id_hash(message_id: str) -> str:
    """The unique key of a Message-ID (``<…@…>`` as in the header, surrounding blanks
    removed): sha256 hex."""
    return hashlib.sha256(message_id.strip().encode()).hexdigest()


def from_address() -> str:
    """The address part of DEFAULT_FROM_EMAIL: Kontor sends from it, with the
    sender's name in front."""
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "kontor@localhost"


def new_message_id() -> str:
    domain = from_address().rpartition("@")[2] or "localhost"
    return make_msgid(idstring="kontor", domain=domain)


# --- Reads ----------------------------------------------------------------------------------


def outgoing_visible_to(user) -> QuerySet[MailMessage]:
    """Outgoing messages whose history entry ``user`` may see (every customer it
    names: ActivityQuerySet.visible_to) — for its sender too: sent to a person who
    has since gone to another team, the message went with the person. A message whose
    history entry was deleted is its sender's alone."""
    if user is None or not user.is_authenticated or not user.is_active:
        return MailMessage.objects.none()
    return MailMessage.objects.filter(direction=MailDirection.OUTGOING).filter(
        Q(activity__isnull=True, sender=user)
        | Q(Exists(Activity.objects.visible_to(user).filter(pk=OuterRef("activity_id"))))
    )


def outgoing_get(*, user, uuid) -> MailMessage:
    try:
        return (
            outgoing_visible_to(user)
            .select_related("activity", "activity__person", "sender")
            .get(uuid=uuid)
        )
    except (MailMessage.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise Http404 from exc


def sent_by(user) -> QuerySet[MailMessage]:
    """The user's own sent messages, newest first (the /mail/sent/ list), as far as
    they may see them (outgoing_visible_to)."""
    return outgoing_visible_to(user).filter(sender=user).select_related("activity__person")


def can_retry(user, message: MailMessage) -> bool:
    return message.status == MailStatus.FAILED and (
        (message.sender_id == user.pk and user_can(user, Capability.ACTIVITIES_EDIT))
        or user_can(user, Capability.MAIL_MANAGE)
    )


# --- Writes ---------------------------------------------------------------------------------


def _enqueue(message_pk: int) -> None:
    from kontor.mail.outbox import outbox_send

    transaction.on_commit(lambda: outbox_send.enqueue(message_pk))


def render_for(
    *, actor, person: Person, subject: str, body: str, template: EmailTemplate | None = None
) -> tuple[str, str]:
    """Subject and text with the merge fields filled in for ``person``, in the
    template's language (or the person's)."""
    language = merge.letter_language(
        template_language=template.language if template else "", person_language=person.language
    )
    return merge.render(
        subject=subject,
        body=body,
        context=merge.context_for(person=person, actor=actor, language=language),
        language=language,
    )


@transaction.atomic
def mail_send(
    *,
    actor,
    person: Person,
    subject: str,
    body: str,
    template: EmailTemplate | None = None,
    via: str = "ui",
    context: dict | None = None,
) -> MailMessage:
    """Write to ``person`` from Kontor: the merge fields in ``subject`` and ``body`` are
    filled in, the e-mail is logged in the person's history (an outgoing e-mail
    activity with the text as sent) and queued for the SMTP server after the commit.
    Nothing is stored when a check fails. ``context`` (e.g. the process item the
    e-mail was written for) is handed to the ``mail_queued`` hook."""
    require_can_log(actor)
    require_visible(actor, person)
    if template is not None and template.owner_id not in (None, actor.pk):
        raise Http404
    if not person.email:
        raise ValidationError(
            {"to": [_("%(name)s has no e-mail address.") % {"name": person.full_name}]}
        )
    errors: dict[str, list[str]] = {}
    for name, value, max_length in (
        ("subject", subject, SUBJECT_MAX_LENGTH),
        ("body", body, BODY_MAX_LENGTH),
    ):
        try:
            clean_text(value, field=name, required=True, max_length=max_length)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    rendered_subject, rendered_body = render_for(
        actor=actor, person=person, subject=subject, body=body, template=template
    )
    rendered_subject = clean_text(
        rendered_subject, field="subject", required=True, max_length=SUBJECT_MAX_LENGTH
    )
    rendered_body = clean_text(
        rendered_body, field="body", required=True, max_length=BODY_MAX_LENGTH
    )
    activity = activity_create(
        actor=actor,
        kind=ActivityKind.EMAIL,
        direction=Direction.OUTGOING,
        subject=rendered_subject,
        text=rendered_body,
        person=person,
        via=via,
    )
    message_id = new_message_id()
    message = MailMessage.objects.create(
        direction=MailDirection.OUTGOING,
        status=MailStatus.QUEUED,
        message_id=message_id,
        message_id_hash=message_id_hash(message_id),
        from_address=from_address(),
        from_name=actor.get_full_name() or actor.get_username(),
        to_addresses=[person.email],
        subject=rendered_subject,
        text_body=rendered_body,
        activity=activity,
        sender=actor,
    )
    audit.record(actor=actor, action=AuditAction.CREATE, instance=message, via=via)
    _enqueue(message.pk)
    hooks.mail_queued.emit(message=message, actor=actor, context=context or {})
    return message


@transaction.atomic
def mail_retry(*, actor, message: MailMessage, via: str = "ui") -> MailMessage:
    """Queue a failed message again (its sender, or a role with mail.manage); the
    worker's automatic retries start over."""
    current = MailMessage.objects.select_for_update().get(pk=message.pk)
    if not can_retry(actor, current):
        if current.status != MailStatus.FAILED:
            raise ValidationError({"status": [_("Only a failed e-mail can be sent again.")]})
        raise PermissionDenied(_("Your role does not allow this."))
    before = audit.snapshot(current)
    current.status = MailStatus.QUEUED
    current.attempts = 0
    current.error = ""
    current.save(update_fields=["status", "attempts", "error", "updated_at"])
    audit.record(actor=actor, action=AuditAction.UPDATE, instance=current, before=before, via=via)
    _enqueue(current.pk)
    return current
