"""Activities: every contact with a customer (the contact history, Kontakthistorie)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

ACTIVITY_TEXT_MAX_LENGTH = 100_000


class ActivityKind(models.TextChoices):
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    VISIT = "visit", _("Customer visit")
    EMAIL = "email", _("E-mail")
    LETTER = "letter", _("Letter")
    TRADE_FAIR = "trade_fair", _("Trade-fair conversation")
    NOTE = "note", _("Note")
    INFO_REQUEST = "info_request", _("Information request")
    SERVICE = "service", _("Service provided")


class Direction(models.TextChoices):
    INCOMING = "in", _("Incoming")
    OUTGOING = "out", _("Outgoing")
    # Notes, visits and meetings need not have a direction.
    NONE = "", _("No direction")


# The customers an activity, appointment or task names: all must be visible to see it.
CUSTOMER_LINKS = ("person", "organization")


class ActivityQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ActivityQuerySet":
        """Activities ``user`` may see: every customer it names (its person and its
        organization) visible to them — a person of another team at one's own
        organization hides the activity, as does an organization of another team
        behind one's own person (VisibleQuerySet.every_visible_through) —; private
        ones only to their author. The attachments and filed e-mails of an activity
        follow it."""
        from kontor.core.models.records import VisibleQuerySet

        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        not_private = Q(private=False) | Q(author_id=user.pk)
        # On the joined customer rows, not "person IN (visible persons)": a page of a
        # timeline then checks its few rows, instead of PostgreSQL hashing every
        # customer the user may see (hundreds of thousands) for each query.
        customers = VisibleQuerySet.every_visible_through(user, *CUSTOMER_LINKS)
        if customers is None:
            return self.filter(not_private)
        return self.filter(customers, not_private)


class Activity(models.Model):
    """One contact with a customer. Its subjects are explicit foreign keys (person,
    organization; opportunity and case join them when those apps exist), at least
    one of which is set. An activity logged on a person at an organization carries
    both, so the organization's timeline shows it without a join."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("type"), max_length=20, choices=ActivityKind.choices)
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, blank=True, default=""
    )
    occurred_at = models.DateTimeField(_("date"))
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)
    subject = models.CharField(_("subject"), max_length=300)
    text = models.TextField(_("text"), max_length=ACTIVITY_TEXT_MAX_LENGTH, blank=True)
    outcome = models.CharField(_("outcome"), max_length=300, blank=True)
    person = models.ForeignKey(
        "customers.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
    )
    organization = models.ForeignKey(
        "customers.Organization",
        verbose_name=_("organization"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    internal_participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("internal participants"),
        blank=True,
        related_name="activities_participated",
    )
    external_participants = models.ManyToManyField(
        "customers.Person",
        verbose_name=_("external participants"),
        blank=True,
        related_name="activities_participated",
    )
    # A private activity (e.g. a personal e-mail filed by mistake) is seen by its
    # author only.
    private = models.BooleanField(_("private"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        constraints = [
            models.CheckConstraint(
                condition=Q(person__isnull=False) | Q(organization__isnull=False),
                name="activity_has_subject",
            ),
        ]
        indexes = [
            # The timelines: newest first per subject, keyset on (occurred_at, id).
            models.Index(fields=["person", "-occurred_at", "-id"], name="activity_person_time"),
            models.Index(fields=["organization", "-occurred_at", "-id"], name="activity_org_time"),
            models.Index(fields=["author", "-occurred_at", "-id"], name="activity_author_time"),
        ]

    def __str__(self) -> str:
        return self.subject

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("activities:activity_detail", args=[self.uuid])


class Attachment(models.Model):
    """A file on an activity, stored under MEDIA_ROOT (never in the database) and
    served only through a view that checks the activity's visibility."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="attachments/%Y/%m/", max_length=300)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=150)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["filename", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename
