"""Reads for the account and administration pages."""

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from kontor.core.models import Role, Team, User
from kontor.core.permissions import Capability


def user_list() -> QuerySet[User]:
    """All users, active ones first, each with role, teams and whether two-factor
    login is set up: a fixed number of queries whatever the number of users."""
    return (
        User.objects.select_related("role")
        .prefetch_related(Prefetch("teams", queryset=Team.objects.only("id", "name")))
        .annotate(
            has_two_factor=Exists(TOTPDevice.objects.filter(user_id=OuterRef("pk"), confirmed=True))
        )
        .order_by("-is_active", "username")
    )


def team_list() -> QuerySet[Team]:
    return Team.objects.select_related("lead").prefetch_related(
        Prefetch("members", queryset=User.objects.order_by("username"))
    )


def assignable_users(*, team: Team | None = None) -> QuerySet[User]:
    """Users that can be made members or lead of a team: the active ones, plus the
    team's current (possibly deactivated) members so that editing keeps them."""
    condition = Q(is_active=True)
    if team is not None and team.pk:
        condition |= Q(teams=team) | Q(pk=team.lead_id)
    return User.objects.filter(condition).distinct().order_by("username")


def administrator_role_ids() -> list[int]:
    # Capabilities are a JSON list; SQLite cannot filter inside it, and there are
    # only a handful of roles.
    return [
        role.pk
        for role in Role.objects.only("id", "capabilities")
        if Capability.ADMIN_USERS in role.capabilities
    ]


def active_administrators() -> QuerySet[User]:
    """Active users who may manage users: superusers and holders of a role with
    the admin.users capability."""
    return User.objects.filter(is_active=True).filter(
        Q(is_superuser=True) | Q(role_id__in=administrator_role_ids())
    )
