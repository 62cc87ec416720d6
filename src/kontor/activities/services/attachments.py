"""Files on activities: checked for type and size, stored under MEDIA_ROOT."""

import hashlib
import mimetypes
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.utils.translation import gettext as _

from kontor.activities.models import Activity, Attachment
from kontor.activities.services.activities import require_can_log
from kontor.core import audit
from kontor.core.models import AuditAction


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
    data = content if isinstance(content, bytes) else b"".join(content.chunks())
    check_allowed(filename=filename, size=len(data))
    content_type = (
        content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    )[:150]
    attachment = Attachment(
        activity=activity,
        filename=filename,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=actor,
    )
    # Stored under a random name: the original one is only ever shown, never a path.
    attachment.file.save(f"{attachment.uuid.hex}.bin", ContentFile(data), save=False)
    try:
        attachment.save()
    except Exception:
        attachment.file.delete(save=False)
        raise
    audit.record(actor=actor, action=AuditAction.CREATE, instance=attachment, via=via)
    return attachment
