"""Access checks in one place: what a user may do, and which records they may see.

The toolkit every view, endpoint and service uses (no app defines its own helper):
``require`` / ``require_that`` for a capability or a rule about the user;
``customer_get`` for "the customer with this uuid that the user may see" over every
registered kind of customer; ``EditConflict`` for "someone else saved it meanwhile"
(one 409 for the API and the UI). A linked record one may not see answers 404, as one
that does not exist.
"""

from collections.abc import Callable
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kontor.core.permissions import ALL_CAPABILITIES, READ_CAPABILITIES, Capability, Visibility


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


def require(user, capability: str) -> None:
    """PermissionDenied (403) unless the user's role grants ``capability``."""
    if not user_can(user, capability):
        raise PermissionDenied(_("Your role does not allow this."))


def require_that(allowed: bool) -> None:
    """PermissionDenied (403) unless a rule about the user holds (e.g. "may edit
    this note": the author or a manager), for rules that are not one capability."""
    if not allowed:
        raise PermissionDenied(_("Your role does not allow this."))


class EditConflict(Exception):
    """Someone else saved the record after this edit started (optimistic locking).

    ``current`` is the record as stored now; its version is what the client must read
    again. The API answers one 409 problem for it (kontor.api), the UI re-shows the
    form with the stored values."""

    default_message = gettext_lazy("Someone else changed this record in the meantime.")

    def __init__(self, current, message: str | None = None):
        super().__init__(str(message or self.default_message))
        self.current = current

    @property
    def current_version(self) -> int | None:
        version = getattr(self.current, "version", None)
        return getattr(self.current, "lock_version", None) if version is None else version


# --- Customers -------------------------------------------------------------------------
# Core knows no customer model: the customers app registers each kind ("person",
# "organization") with the function that loads one the user may see (404 otherwise),
# in its AppConfig.ready(). Later apps ask core, not the customers app.

CustomerGetter = Callable[..., Model]
_customer_kinds: dict[str, CustomerGetter] = {}


def register_customer_kind(kind: str, getter: CustomerGetter) -> None:
    """``getter(user=..., uuid=...)`` returns the visible record or raises Http404."""
    _customer_kinds[kind] = getter


def customer_kinds() -> tuple[str, ...]:
    return tuple(_customer_kinds)


def customer_kind(record) -> str:
    """ "person" or "organization" (the model name) for a customer record."""
    return record._meta.model_name


def customer_get(user, uuid: UUID | str, *, kind: str | None = None) -> Model:
    """The customer with ``uuid`` that ``user`` may see — of ``kind``, or of any
    registered kind — after the customers.view capability (403 without it); 404 for a
    customer one may not see, as for one that does not exist."""
    require(user, Capability.CUSTOMERS_VIEW)
    kinds = [kind] if kind else list(_customer_kinds)
    for name in kinds:
        getter = _customer_kinds.get(name)
        if getter is None:
            raise Http404
        try:
            return getter(user=user, uuid=uuid)
        except Http404:
            continue
    raise Http404
