"""The base every customer-facing record inherits: owner, team, public id, version."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kontor.core.permissions import Visibility


class VisibleQuerySet(models.QuerySet):
    def visible_to(self, user) -> "VisibleQuerySet":
        """The records ``user`` may see: the one rule behind every list, count,
        search, export and API endpoint."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        condition = self.role_condition(user)
        return self if condition is None else self.filter(condition)

    @staticmethod
    def role_condition(user, *, teams=None) -> Q | None:
        """The role's rule as a condition on owner and team (None: sees all), for
        querysets that widen it (attendees of an appointment, creators of a task).
        ``teams``: the user's teams as a subquery, for a caller that must not spend a
        query on looking them up (the calendar feed); by default their ids."""
        from kontor.core.access import record_visibility, team_ids

        scope = record_visibility(user)
        if scope == Visibility.ALL:
            return None
        if scope == Visibility.TEAM:
            return Q(owner_id=user.pk) | Q(team_id__in=team_ids(user) if teams is None else teams)
        return Q(owner_id=user.pk)

    @staticmethod
    def role_condition_through(user, path: str, *, teams=None) -> Q | None:
        """``role_condition`` for a record reached through the relation ``path`` (e.g.
        a person's "organization"), as a condition on the joined row: checked per row
        at no cost. (An EXISTS or IN over ``visible_to`` lets PostgreSQL hash every
        visible record first: 100 ms a page at a million records.)"""
        condition = VisibleQuerySet.role_condition(user, teams=teams)
        return None if condition is None else _through(condition, path)

    @staticmethod
    def every_visible_through(user, *paths: str, teams=None) -> Q | None:
        """Whether ``user`` may see EVERY record a row names through the nullable
        links ``paths`` (an activity's "person" and "organization"), as one
        condition on the joined rows (None: sees all); a link left empty names
        nobody. The rule of a record that names several customers — an activity, an
        appointment, a task and what hangs off them (attachments, filed e-mail): it
        is visible only to who may see all of them, as Salesforce requires access to
        every related record. Checked on the joined rows like role_condition_through
        (no EXISTS over every visible customer); ``core.access.sees_every`` is the
        same rule on records already loaded."""
        if VisibleQuerySet.role_condition(user, teams=teams) is None:
            return None
        condition = Q()
        for path in paths:
            on_path = VisibleQuerySet.role_condition_through(user, path, teams=teams)
            condition &= Q(**{f"{path}__isnull": True}) | on_path
        return condition


def _through(condition: Q, path: str) -> Q:
    """``condition`` with every lookup prefixed by ``path__``."""
    children = [
        _through(child, path) if isinstance(child, Q) else (f"{path}__{child[0]}", child[1])
        for child in condition.children
    ]
    return Q(*children, _connector=condition.connector, _negated=condition.negated)


class OwnedRecord(models.Model):
    """Abstract: a record with an owner and a team, seen according to the viewer's role."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    team = models.ForeignKey(
        "core.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Values of the administrator-defined custom fields (core.CustomField), by key.
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    # Optimistic locking: a form carries the version it was loaded with.
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        abstract = True
