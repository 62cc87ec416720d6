"""Personal calendar feeds: a secret address per user that calendar programs
subscribe to (read only, no login).

The token is 256 random bits, shown once when the feed is made; the database keeps
only its SHA-256 and a short prefix to tell feeds apart. A fast hash is enough for
that much randomness. Unknown, revoked and inactive-user tokens all look the same
to the caller (None → 404)."""

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kontor.activities import ical
from kontor.activities.models import Appointment, CalendarFeed, Task, TaskStatus
from kontor.core import audit
from kontor.core.models import AuditAction

PREFIX_LENGTH = 8
# At most this many feeds that are not revoked, per user.
MAX_ACTIVE_FEEDS = 10
# last_used_at is written at most this often: a poll every 15 minutes is no write.
LAST_USED_RESOLUTION = dt.timedelta(hours=1)
# The feed's window around today.
DAYS_BACK = 90
DAYS_AHEAD = 400


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_url(token: str) -> str:
    return settings.SITE_URL + reverse("activities:feed", args=[token])


# --- Reads --------------------------------------------------------------------------------


def feeds_of(*, user):
    """The user's feeds, newest first, revoked ones included."""
    return CalendarFeed.objects.filter(user=user)


def feed_for_token(token: str) -> CalendarFeed | None:
    """The live feed for ``token`` (with its user), or None."""
    return (
        # The role too: the feed shows only what names customers the user may see.
        CalendarFeed.objects.select_related("user__role")
        .filter(
            token_hash=token_hash(token),
            revoked_at__isnull=True,
            user__is_active=True,
        )
        .first()
    )


def feed_touch(*, feed: CalendarFeed, now: dt.datetime | None = None) -> None:
    """Note that the feed was fetched, at most once per LAST_USED_RESOLUTION."""
    now = now or timezone.now()
    if feed.last_used_at is None or now - feed.last_used_at >= LAST_USED_RESOLUTION:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
        feed.last_used_at = now


def _teams(user):
    """The user's teams as a subquery: the feed's three queries stay three."""
    return user.teams.values("pk")


def feed_appointments(*, user, now: dt.datetime | None = None):
    """Appointments the user organizes or attends, from DAYS_BACK ago to DAYS_AHEAD
    ahead, cancelled ones included — of customers the user may see."""
    now = now or timezone.now()
    attending = Appointment.attendees.through.objects.filter(user_id=user.pk).values(
        "appointment_id"
    )
    return (
        Appointment.objects.customers_visible_to(user, teams=_teams(user))
        .filter(Q(owner_id=user.pk) | Q(pk__in=attending))
        .filter(
            ends_at__gte=now - dt.timedelta(days=DAYS_BACK),
            starts_at__lt=now + dt.timedelta(days=DAYS_AHEAD),
        )
        .select_related("owner", "person", "organization")
        .order_by("starts_at", "id")
    )


def feed_tasks(*, user, now: dt.datetime | None = None):
    """The user's open tasks due within the feed's window, of customers they may see."""
    today = timezone.localdate(now or timezone.now())
    return (
        Task.objects.customers_visible_to(user, teams=_teams(user))
        .filter(owner_id=user.pk, status=TaskStatus.OPEN)
        .filter(
            due_date__gte=today - dt.timedelta(days=DAYS_BACK),
            due_date__lt=today + dt.timedelta(days=DAYS_AHEAD),
        )
        .select_related("person", "organization")
        .order_by("due_date", "id")
    )


def feed_body(*, feed: CalendarFeed, now: dt.datetime | None = None) -> bytes:
    """The feed's iCalendar text, in the feed owner's language. Three queries
    whatever the size: appointments, tasks (each with their customers joined)."""
    user = feed.user
    language = user.language if user.language in dict(settings.LANGUAGES) else None
    with translation.override(language or settings.LANGUAGE_CODE):
        calendar = ical.feed_calendar(
            name=f"Kontor – {user}",
            appointments=feed_appointments(user=user, now=now),
            tasks=feed_tasks(user=user, now=now),
        )
        return calendar.to_ical()


# --- Writes -------------------------------------------------------------------------------


@transaction.atomic
def feed_create(*, actor, via: str = "ui") -> tuple[CalendarFeed, str]:
    """Make a feed for ``actor``; returns the feed and its secret address, which is
    not stored anywhere and cannot be shown again."""
    if actor is None or not actor.is_authenticated or not actor.is_active:
        raise PermissionDenied
    active = CalendarFeed.objects.select_for_update().filter(user=actor, revoked_at__isnull=True)
    if len(active) >= MAX_ACTIVE_FEEDS:
        raise ValidationError(
            _("You can have at most %(max)d calendar subscriptions. Revoke one first.")
            % {"max": MAX_ACTIVE_FEEDS}
        )
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(
        user=actor, token_hash=token_hash(token), prefix=token[:PREFIX_LENGTH]
    )
    audit.record(actor=actor, action=AuditAction.CREATE, instance=feed, via=via)
    return feed, feed_url(token)


@transaction.atomic
def feed_revoke(*, actor, feed: CalendarFeed, via: str = "ui") -> CalendarFeed:
    """Stop the feed: its address answers 404 from now on. One's own feeds only;
    revoking a revoked feed changes nothing."""
    current = CalendarFeed.objects.select_for_update().get(pk=feed.pk)
    if actor is None or current.user_id != actor.pk:
        raise PermissionDenied
    if current.revoked_at is not None:
        return current
    before = audit.snapshot(current)
    current.revoked_at = timezone.now()
    current.save(update_fields=["revoked_at"])
    audit.record(actor=actor, action=AuditAction.UPDATE, instance=current, before=before, via=via)
    return current
