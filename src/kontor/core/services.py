"""Writes on users, teams, roles and one's own account: one function per use case,
each checked and audited in the same transaction as the change.

Users are never deleted (records keep their owner): they are deactivated. At least
one active administrator always remains: a change that would leave none is refused.
"""

import zoneinfo
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from kontor.core import audit, queries
from kontor.core.access import user_can
from kontor.core.models import AuditAction, Role, Team, User
from kontor.core.permissions import Capability, Visibility

USER_FIELDS = ("username", "first_name", "last_name", "email", "role", "language", "time_zone")
PROFILE_FIELDS = ("first_name", "last_name", "email", "language", "time_zone")
TEAM_FIELDS = ("name", "lead")


# --- Helpers ----------------------------------------------------------------------------


def _require_admin(actor) -> None:
    if actor is None or not user_can(actor, Capability.ADMIN_USERS):
        raise PermissionDenied(_("Your role does not allow this."))


def _lock_roles() -> None:
    """Serialises the changes that could remove the last administrator: two admins
    demoting each other at the same moment must not both succeed."""
    list(Role.objects.select_for_update().order_by("id").values_list("id", flat=True))


def _ensure_an_administrator_remains() -> None:
    if not queries.active_administrators().exists():
        raise ValidationError(
            _(
                "At least one active administrator must remain. "
                "Give another active user the administrator role first."
            ),
            code="last_administrator",
        )


def _check_fields(data: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")


def _check_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError({"time_zone": _("Choose a time zone from the list.")})


def _names(objects) -> list[str]:
    return sorted(str(o) for o in objects)


# --- Users --------------------------------------------------------------------------------


@transaction.atomic
def user_create(
    *, actor, data: dict[str, Any], password: str | None = None, via: str = "ui"
) -> User:
    """Create a user. Without ``password`` the account has no usable password until
    the user sets one through the link of ``user_send_password_link``."""
    _require_admin(actor)
    data = dict(data)
    teams = list(data.pop("teams", []))
    _check_fields(data, USER_FIELDS)
    user = User(**data)
    _check_time_zone(user.time_zone)
    if password:
        password_validation.validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    user.teams.set(teams)
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        instance=user,
        related={"teams": [None, _names(teams) or None]},
        via=via,
    )
    return user


@transaction.atomic
def user_update(*, actor, user: User, data: dict[str, Any], via: str = "ui") -> User:
    _require_admin(actor)
    data = dict(data)
    teams = data.pop("teams", None)
    _check_fields(data, USER_FIELDS)
    _lock_roles()
    current = User.objects.select_for_update().get(pk=user.pk)
    before = audit.snapshot(current)
    teams_before = _names(current.teams.all())
    for name, value in data.items():
        setattr(current, name, value)
    _check_time_zone(current.time_zone)
    current.full_clean(exclude=["password"])
    current.save()
    if teams is not None:
        current.teams.set(teams)
    _ensure_an_administrator_remains()
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=current,
        before=before,
        related={"teams": [teams_before, _names(current.teams.all())]},
        via=via,
    )
    return current


def _set_active(*, actor, user: User, active: bool, via: str) -> User:
    _require_admin(actor)
    if not active and user.pk == actor.pk:
        raise ValidationError(_("You cannot deactivate your own account."), code="self")
    _lock_roles()
    current = User.objects.select_for_update().get(pk=user.pk)
    if current.is_active == active:
        return current
    before = audit.snapshot(current)
    current.is_active = active
    current.save(update_fields=["is_active"])
    if not active:
        _ensure_an_administrator_remains()
    audit.record(actor=actor, action=AuditAction.UPDATE, instance=current, before=before, via=via)
    return current


@transaction.atomic
def user_deactivate(*, actor, user: User, via: str = "ui") -> User:
    """Deactivate instead of delete: the records keep their owner, the user can no
    longer log in, their open sessions end and their API tokens stop working."""
    return _set_active(actor=actor, user=user, active=False, via=via)


@transaction.atomic
def user_reactivate(*, actor, user: User, via: str = "ui") -> User:
    return _set_active(actor=actor, user=user, active=True, via=via)


@transaction.atomic
def user_reset_two_factor(*, actor, user: User, via: str = "ui") -> None:
    """Remove the user's authenticator (lost phone). If their role requires two-factor
    login they pair a new one at the next login."""
    _require_admin(actor)
    devices = TOTPDevice.objects.filter(user=user)
    had_device = devices.filter(confirmed=True).exists()
    devices.delete()
    if had_device:
        audit.record(
            actor=actor,
            action=AuditAction.UPDATE,
            instance=user,
            related={"two_factor": [True, False]},
            via=via,
        )


def user_send_password_link(*, actor, user: User, domain: str, use_https: bool) -> None:
    """Mail the user a link to set their password (Django's password-reset tokens:
    valid for PASSWORD_RESET_TIMEOUT and only until the password is set), written
    in the user's language."""
    _require_admin(actor)
    if not user.email:
        raise ValidationError(
            _("This user has no e-mail address to send the link to."), code="no_email"
        )
    if not user.is_active:
        raise ValidationError(_("This user is deactivated."), code="inactive")
    context = {
        "user": user,
        "email": user.email,
        "domain": domain,
        "protocol": "https" if use_https else "http",
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
        "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // (24 * 3600)),
    }
    with translation.override(user.language):
        subject = render_to_string("registration/set_password_subject.txt", context)
        body = render_to_string("registration/set_password_email.txt", context)
    # Unlike the anonymous password reset, a failure here is reported to the admin.
    send_mail(" ".join(subject.split()), body, None, [user.email])


# --- Teams --------------------------------------------------------------------------------


def _members_with_lead(members, lead) -> list[User]:
    # The lead is always a member: visibility of team records follows membership.
    members = list(members)
    if lead is not None and lead not in members:
        members.append(lead)
    return members


@transaction.atomic
def team_create(*, actor, data: dict[str, Any], via: str = "ui") -> Team:
    _require_admin(actor)
    data = dict(data)
    members = data.pop("members", [])
    _check_fields(data, TEAM_FIELDS)
    team = Team(**data)
    team.full_clean()
    team.save()
    members = _members_with_lead(members, team.lead)
    team.members.set(members)
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        instance=team,
        related={"members": [None, _names(members) or None]},
        via=via,
    )
    return team


@transaction.atomic
def team_update(*, actor, team: Team, data: dict[str, Any], via: str = "ui") -> Team:
    """Rename, change the lead, add and remove members."""
    _require_admin(actor)
    data = dict(data)
    members = data.pop("members", None)
    _check_fields(data, TEAM_FIELDS)
    current = Team.objects.select_for_update().get(pk=team.pk)
    before = audit.snapshot(current)
    members_before = _names(current.members.all())
    for name, value in data.items():
        setattr(current, name, value)
    current.full_clean()
    current.save()
    if members is None:
        members = current.members.all()
    current.members.set(_members_with_lead(members, current.lead))
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=current,
        before=before,
        related={"members": [members_before, _names(current.members.all())]},
        via=via,
    )
    return current


# --- Roles --------------------------------------------------------------------------------


def _apply_role(role: Role, data: dict[str, Any]) -> None:
    _check_fields(data, ("visibility", "capabilities", "require_two_factor"))
    if "visibility" in data:
        if data["visibility"] not in Visibility.values:
            raise ValidationError(_("Unknown record visibility."), code="visibility")
        role.visibility = data["visibility"]
    if "capabilities" in data:
        wanted = set(data["capabilities"])
        if not wanted <= set(Capability.values):
            raise ValidationError(_("Unknown permission."), code="capability")
        role.capabilities = [c for c in Capability.values if c in wanted]
    if "require_two_factor" in data:
        role.require_two_factor = bool(data["require_two_factor"])


@transaction.atomic
def roles_update(*, actor, updates: dict[Role, dict[str, Any]], via: str = "ui") -> None:
    """Save several roles at once (the permission matrix). The rule that an active
    administrator remains is checked on the result, not role by role."""
    _require_admin(actor)
    _lock_roles()
    for role, data in updates.items():
        current = Role.objects.get(pk=role.pk)
        before = audit.snapshot(current)
        _apply_role(current, data)
        current.save()
        audit.record(
            actor=actor, action=AuditAction.UPDATE, instance=current, before=before, via=via
        )
    _ensure_an_administrator_remains()


def role_update(*, actor, role: Role, data: dict[str, Any], via: str = "ui") -> Role:
    """Change one role's visibility, capabilities or two-factor rule."""
    roles_update(actor=actor, updates={role: data}, via=via)
    return Role.objects.get(pk=role.pk)


# --- One's own account --------------------------------------------------------------------


@transaction.atomic
def profile_update(*, user: User, data: dict[str, Any], via: str = "ui") -> User:
    _check_fields(data, PROFILE_FIELDS)
    current = User.objects.select_for_update().get(pk=user.pk)
    before = audit.snapshot(current)
    for name, value in data.items():
        setattr(current, name, value)
    _check_time_zone(current.time_zone)
    current.full_clean(exclude=["password"])
    current.save()
    audit.record(actor=user, action=AuditAction.UPDATE, instance=current, before=before, via=via)
    return current


@transaction.atomic
def two_factor_confirm(*, user: User, device: TOTPDevice, via: str = "ui") -> TOTPDevice:
    """The user proved with a first code that the authenticator is paired."""
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    audit.record(
        actor=user,
        action=AuditAction.UPDATE,
        instance=user,
        related={"two_factor": [False, True]},
        via=via,
    )
    return device


@transaction.atomic
def two_factor_disable(*, user: User, via: str = "ui") -> None:
    if user.role is not None and user.role.require_two_factor:
        raise ValidationError(_("Your role requires two-factor login."), code="required")
    devices = TOTPDevice.objects.filter(user=user)
    had_device = devices.filter(confirmed=True).exists()
    devices.delete()
    if had_device:
        audit.record(
            actor=user,
            action=AuditAction.UPDATE,
            instance=user,
            related={"two_factor": [True, False]},
            via=via,
        )
