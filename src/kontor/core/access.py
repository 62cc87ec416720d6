"""Access checks in one place: what a user may do, and which records they may see."""

from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import Http404

from kontor.core.permissions import ALL_CAPABILITIES, READ_CAPABILITIES, Visibility


def record_visibility(user) -> str:
    """own / team / all, from the user's role; superusers see everything."""
    if user.is_superuser:
        return Visibility.ALL
    role = user.role
    return role.visibility if role else Visibility.OWN


def capabilities(user) -> frozenset[str]:
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return frozenset(ALL_CAPABILITIES)
    cached = getattr(user, "_kontor_capabilities", None)
    if cached is None:
        cached = frozenset(user.role.capabilities) if user.role else frozenset()
        user._kontor_capabilities = cached
    return cached


def user_can(user, capability: str) -> bool:
    return capability in capabilities(user)


def user_may_write(user) -> bool:
    """False for a read-only role: one that grants nothing beyond looking. Such a user
    changes nothing others see (e.g. shares no saved view with the team)."""
    return bool(capabilities(user) - READ_CAPABILITIES)


def team_ids(user) -> list[int]:
    cached = getattr(user, "_kontor_team_ids", None)
    if cached is None:
        cached = list(user.teams.values_list("id", flat=True))
        user._kontor_team_ids = cached
    return cached


def sees(user, record) -> bool:
    """The role rule of ``VisibleQuerySet.visible_to`` (own / team / all) on one owned
    record already loaded (a customer): no query once the user's teams are known."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    scope = record_visibility(user)
    if scope == Visibility.ALL or record.owner_id == user.pk:
        return True
    return scope == Visibility.TEAM and record.team_id in team_ids(user)


def sees_every(user, *records) -> bool:
    """Whether ``user`` may see every customer a record names (None: a link left
    empty names nobody) — the single-record form of
    ``VisibleQuerySet.every_visible_through``, which the querysets of activities,
    appointments and tasks apply."""
    return all(record is None or sees(user, record) for record in records)


def get_object_for_user(
    model: type[Model], user, *, related: tuple[str, ...] = (), **lookup
) -> Model:
    """The record matching ``lookup`` if ``user`` may see it; 404 otherwise, so that
    a record one may not see is indistinguishable from one that does not exist.
    ``related`` names foreign keys to load in the same query."""
    try:
        return model.objects.visible_to(user).select_related(*related).get(**lookup)
    except (model.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        # A malformed id (e.g. not a UUID) is simply "not found".
        raise Http404 from exc
