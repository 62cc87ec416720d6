"""Files on activities: checked for type and size, stored under MEDIA_ROOT.

No half-written data: a file is checked (extension, size) before anything is stored;
it is streamed to storage under a random name, and removed again if the database
row cannot be written. Several files are added all or none (``attachments_add``).
A deleted attachment's file goes once the deletion is committed."""

import contextlib
import hashlib
import mimetypes
import uuid as uuid_module
from collections.abc import Iterator
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from kontor.activities.models import Activity, Attachment
from kontor.activities.services.activities import can_change, require_can_log
from kontor.core import audit
from kontor.core.access import user_can
from kontor.core.models import AuditAction
from kontor.core.permissions import Capability


def max_bytes() -> int:
    return settings.ATTACHMENT_MAX_MB * 1024 * 1024


def clean_filename(name: str) -> str:
    """The last path part, without control characters, at most 255 characters."""
    name = PurePath((name or "").replace("\\", "/")).name
    name = "".join(ch for ch in name if ch.isprintable()).strip(". ")
    return name[-255:] or "attachment"


def check_allowed(*, filename: str, size: int) -> None:
    """Raise a ValidationError (key ``file``) for a forbidden type or an oversize file."""
    extension = PurePath(filename).suffix.lower().lstrip(".")
    if extension in settings.ATTACHMENT_FORBIDDEN_EXTENSIONS:
        raise ValidationError(
            {"file": [_("Files of type .%(ext)s are not allowed.") % {"ext": extension}]}
        )
    if size > max_bytes():
        raise ValidationError(
            {
                "file": [
                    _("A file can be at most %(max)s MB (this one is %(size)s MB).")
                    % {"max": settings.ATTACHMENT_MAX_MB, "size": f"{size / 1024 / 1024:.1f}"}
                ]
            }
        )


def check_upload(upload: File) -> None:
    """``check_allowed`` for an uploaded file, by its name and size, without reading it."""
    check_allowed(filename=clean_filename(upload.name), size=upload.size or 0)


@contextlib.contextmanager
def stored_files_removed_on_error() -> Iterator[list[str]]:
    """Collects the storage names of files written inside the block; if the block
    fails (its transaction rolled back), they are removed again."""
    stored: list[str] = []
    try:
        yield stored
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise


@transaction.atomic
def attachment_add(
    *,
    actor,
    activity: Activity,
    name: str,
    content: bytes | File,
    content_type: str = "",
    via: str = "ui",
) -> Attachment:
    """Store ``content`` as a file on ``activity``. ``actor=None`` is Kontor itself
    (filing an incoming e-mail); the caller has checked the activity is visible."""
    require_can_log(actor)
    filename = clean_filename(name)
    if isinstance(content, bytes):
        content = ContentFile(content)
    # Refused by its size before a byte is read or written.
    check_allowed(filename=filename, size=content.size or 0)
    digest = hashlib.sha256()
    size = 0
    content.seek(0)
    for chunk in content.chunks():
        digest.update(chunk)
        size += len(chunk)
    check_allowed(filename=filename, size=size)  # the size as read, not as claimed
    content.seek(0)
    # The type by the extension first: what a browser claims is often generic.
    content_type = (
        mimetypes.guess_type(filename)[0] or content_type or "application/octet-stream"
    )[:150]
    attachment = Attachment(
        activity=activity,
        filename=filename,
        content_type=content_type,
        size=size,
        sha256=digest.hexdigest(),
        uploaded_by=actor,
    )
    # Stored under a random name: the original one is only ever shown, never a path.
    stored_name = timezone.now().strftime(f"attachments/%Y/%m/{uuid_module.uuid4().hex}.bin")
    try:
        attachment.file.name = default_storage.save(stored_name, content)
        attachment.save()
        audit.record(actor=actor, action=AuditAction.CREATE, instance=attachment, via=via)
    except BaseException:
        # A half-written file or one without its row: neither stays.
        default_storage.delete(attachment.file.name or stored_name)
        raise
    return attachment


def attachments_add(*, actor, activity: Activity, files, via: str = "ui") -> list[Attachment]:
    """Add uploaded ``files`` to ``activity``: every one checked first, then all
    stored in one transaction — all of them or none."""
    files = list(files)
    if not files:
        raise ValidationError({"file": [_("Choose a file.")]})
    for upload in files:
        check_upload(upload)
    with stored_files_removed_on_error() as stored, transaction.atomic():
        if actor is not None and not (
            Activity.objects.visible_to(actor).filter(pk=activity.pk).exists()
        ):
            raise Http404
        added = []
        for upload in files:
            attachment = attachment_add(
                actor=actor,
                activity=activity,
                name=upload.name,
                content=upload,
                content_type=getattr(upload, "content_type", "") or "",
                via=via,
            )
            stored.append(attachment.file.name)
            added.append(attachment)
    return added


def can_delete_attachment(actor, attachment: Attachment) -> bool:
    """Who may change the activity, or who uploaded the file (with activities.edit)."""
    return can_change(actor, attachment.activity) or (
        actor is not None
        and attachment.uploaded_by_id == actor.pk
        and user_can(actor, Capability.ACTIVITIES_EDIT)
    )


def attachment_delete(*, actor, attachment: Attachment, via: str = "ui") -> None:
    """Delete an attachment; its file goes once the deletion is committed."""
    with transaction.atomic():
        if actor is not None and not (
            Activity.objects.visible_to(actor).filter(pk=attachment.activity_id).exists()
        ):
            raise Http404
        if not can_delete_attachment(actor, attachment):
            raise PermissionDenied(_("Only the author or a manager may change this activity."))
        name = attachment.file.name
        audit.record(actor=actor, action=AuditAction.DELETE, instance=attachment, via=via)
        attachment.delete()
        transaction.on_commit(lambda: default_storage.delete(name))
