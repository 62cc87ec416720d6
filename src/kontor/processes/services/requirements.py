"""Acceptance of the requirements document: each step activity is one requirement,
marked accepted or open with a comment. Acceptance is not a change of the process
model, so it is allowed on every version (published and retired ones too)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kontor.core import audit
from kontor.core.access import require
from kontor.core.models import AuditAction
from kontor.core.permissions import Capability
from kontor.processes.models import AcceptanceStatus, StepActivity


@transaction.atomic
def requirement_accept(
    *, actor, activity: StepActivity, acceptance: str, comment: str = "", via: str = "ui"
) -> StepActivity:
    """Mark the requirement ``activity`` accepted or open, with a comment. Needs
    ``processes.manage``; audited."""
    require(actor, Capability.PROCESSES_MANAGE)
    if acceptance not in AcceptanceStatus.values:
        raise ValidationError({"acceptance": [_("Select a valid choice.")]})
    comment = (comment or "").strip()
    if "\x00" in comment:
        raise ValidationError({"comment": [_("Null characters are not allowed.")]})
    if len(comment) > 5000:
        raise ValidationError(
            {"comment": [_("Ensure this value has at most %(max)s characters.") % {"max": 5000}]}
        )
    current = StepActivity.objects.select_for_update().get(pk=activity.pk)
    before = audit.snapshot(current)
    current.acceptance = acceptance
    current.acceptance_comment = comment
    current.save(update_fields=["acceptance", "acceptance_comment"])
    audit.record(actor=actor, action=AuditAction.UPDATE, instance=current, before=before, via=via)
    return current
