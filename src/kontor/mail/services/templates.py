"""E-mail templates: reads and writes, one place for the pages and the API.

A template is personal (``owner`` = its author, who needs activities.edit) or shared
(``owner`` empty; written only by roles with mail.manage). Everyone who may write
e-mails sees the shared templates and their own. Subject and text are checked on
every save by rendering them against a made-up person, so a template with an unknown
merge field or a ``{% tag %}`` is never stored."""

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from kontor.activities.services.activities import clean_text
from kontor.core import audit
from kontor.core.access import user_can
from kontor.core.models import AuditAction
from kontor.core.permissions import Capability
from kontor.mail import merge
from kontor.mail.models import EmailTemplate

NAME_MAX_LENGTH = 120
SUBJECT_MAX_LENGTH = 300
BODY_MAX_LENGTH = 50_000
EDITABLE_FIELDS = ("name", "subject", "body", "language")


class EditConflict(Exception):
    """Someone else saved the template after this edit started."""

    def __init__(self, current: EmailTemplate):
        super().__init__(_("Someone else changed this template in the meantime."))
        self.current = current


# --- Reads ----------------------------------------------------------------------------------


def templates_visible_to(user) -> QuerySet[EmailTemplate]:
    """Shared templates and the user's own personal ones (archived included)."""
    if user is None or not user.is_authenticated:
        return EmailTemplate.objects.none()
    return EmailTemplate.objects.filter(Q(owner__isnull=True) | Q(owner=user))


def templates_to_use(user) -> QuerySet[EmailTemplate]:
    """What the compose page offers: the visible templates not archived."""
    return templates_visible_to(user).filter(archived=False)


def template_get(*, user, uuid) -> EmailTemplate:
    """The template if ``user`` may see it; 404 otherwise."""
    try:
        return templates_visible_to(user).select_related("owner").get(uuid=uuid)
    except (EmailTemplate.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise Http404 from exc


def may_use_templates(user) -> bool:
    return user_can(user, Capability.ACTIVITIES_EDIT) or user_can(user, Capability.MAIL_MANAGE)


def can_create(user, *, shared: bool) -> bool:
    if shared:
        return user_can(user, Capability.MAIL_MANAGE)
    return user_can(user, Capability.ACTIVITIES_EDIT)


def can_edit(user, template: EmailTemplate) -> bool:
    if template.owner_id is None:
        return user_can(user, Capability.MAIL_MANAGE)
    return template.owner_id == user.pk and user_can(user, Capability.ACTIVITIES_EDIT)


# --- Writes ---------------------------------------------------------------------------------


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied(_("Your role does not allow this."))


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """Checked values of the editable fields in ``data``; every field's errors at once,
    the merge fields tried against a sample person in the template's language."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    limits = {
        "name": NAME_MAX_LENGTH,
        "subject": SUBJECT_MAX_LENGTH,
        "body": BODY_MAX_LENGTH,
    }
    for name, max_length in limits.items():
        if name not in data:
            continue
        try:
            cleaned[name] = clean_text(data[name], field=name, required=True, max_length=max_length)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if "language" in data:
        language = data["language"] or ""
        if language and language not in {code for code, _name in settings.LANGUAGES}:
            errors["language"] = [_("Choose a valid language.")]
        cleaned["language"] = language
    if errors:
        raise ValidationError(errors)
    return cleaned


def _check_merge(actor, template: EmailTemplate) -> None:
    language = merge.letter_language(template_language=template.language)
    merge.render(
        subject=template.subject,
        body=template.body,
        context=merge.sample_context(actor=actor, language=language),
        language=language,
    )


@transaction.atomic
def template_create(
    *,
    actor,
    name: str,
    subject: str,
    body: str,
    language: str = "",
    shared: bool = False,
    via: str = "ui",
) -> EmailTemplate:
    """A new personal template of ``actor``, or a shared one (``shared``, mail.manage)."""
    _require(can_create(actor, shared=shared))
    cleaned = _clean({"name": name, "subject": subject, "body": body, "language": language})
    template = EmailTemplate(owner=None if shared else actor, **cleaned)
    _check_merge(actor, template)
    template.full_clean()
    template.save()
    audit.record(actor=actor, action=AuditAction.CREATE, instance=template, via=via)
    return template


@transaction.atomic
def template_update(
    *,
    actor,
    template: EmailTemplate,
    data: dict[str, Any],
    version: int | None = None,
    via: str = "ui",
) -> EmailTemplate:
    """Change name, subject, text or language. With ``version`` (the one the editor
    read), a template saved by someone else since raises EditConflict."""
    current = EmailTemplate.objects.select_for_update().get(pk=template.pk)
    _require(can_edit(actor, current))
    if version is not None and current.version != version:
        raise EditConflict(current)
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in unknown})
    before = audit.snapshot(current)
    for name, value in _clean(data).items():
        setattr(current, name, value)
    _check_merge(actor, current)
    current.full_clean()
    current.version = F("version") + 1
    current.save()
    current.refresh_from_db()
    audit.record(actor=actor, action=AuditAction.UPDATE, instance=current, before=before, via=via)
    return current


@transaction.atomic
def template_archive(
    *, actor, template: EmailTemplate, archived: bool = True, via: str = "ui"
) -> EmailTemplate:
    """Archive a template (it leaves the compose page, sent e-mails keep their text) or,
    with ``archived=False``, bring it back."""
    current = EmailTemplate.objects.select_for_update().get(pk=template.pk)
    _require(can_edit(actor, current))
    if current.archived == archived:
        return current
    before = audit.snapshot(current)
    current.archived = archived
    current.version = F("version") + 1
    current.save(update_fields=["archived", "version", "updated_at"])
    current.refresh_from_db()
    audit.record(actor=actor, action=AuditAction.UPDATE, instance=current, before=before, via=via)
    return current
