"""Appointments (Termine): a calendar entry with attendees, in UTC, shown in each
user's time zone."""

from django.conf import settings
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from kontor.activities.models.activities import CUSTOMER_LINKS
from kontor.core.models.records import OwnedRecord, VisibleQuerySet


class AppointmentStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")


class AppointmentQuerySet(VisibleQuerySet):
    def visible_to(self, user) -> "AppointmentQuerySet":
        """By the owner's role rule (own / team / all), and always to its attendees —
        provided they may see every customer it names (its person and organization;
        see VisibleQuerySet.every_visible_through)."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        condition = self.role_condition(user)
        if condition is None:
            return self
        attending = Appointment.attendees.through.objects.filter(
            appointment_id=OuterRef("pk"), user_id=user.pk
        )
        customers = self.every_visible_through(user, *CUSTOMER_LINKS)
        return self.filter((condition | Exists(attending)) & customers)

    def customers_visible_to(self, user, *, teams=None) -> "AppointmentQuerySet":
        """Only the appointments whose every customer ``user`` may see (for lists of
        one's own appointments, which need no role rule: My day, the feed). ``teams``:
        see VisibleQuerySet.role_condition."""
        customers = self.every_visible_through(user, *CUSTOMER_LINKS, teams=teams)
        return self if customers is None else self.filter(customers)


class Appointment(OwnedRecord):
    """The owner is the organizer. ``report`` is the activity written afterwards
    (the visit report)."""

    title = models.CharField(_("title"), max_length=200)
    location = models.CharField(_("location"), max_length=300, blank=True)
    description = models.TextField(_("description"), max_length=20_000, blank=True)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    all_day = models.BooleanField(_("all day"), default=False)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=AppointmentStatus.choices,
        default=AppointmentStatus.PLANNED,
    )
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("attendees"),
        blank=True,
        related_name="appointments_attending",
    )
    external_attendees = models.ManyToManyField(
        "customers.Person",
        verbose_name=_("external attendees"),
        blank=True,
        related_name="appointments_attending",
    )
    person = models.ForeignKey(
        "customers.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="appointments",
    )
    organization = models.ForeignKey(
        "customers.Organization",
        verbose_name=_("organization"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="appointments",
    )
    reminder_minutes = models.PositiveIntegerField(
        _("reminder (minutes before)"), null=True, blank=True
    )
    # starts_at - reminder_minutes, kept so the worker finds due reminders by index.
    reminder_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    report = models.OneToOneField(
        "activities.Activity",
        verbose_name=_("visit report"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="appointment",
    )
    # iCalendar SEQUENCE: raised on every change that is mailed to attendees.
    sequence = models.PositiveIntegerField(default=0, editable=False)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gte=F("starts_at")), name="appointment_ends_after_start"
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "starts_at"], name="appointment_owner_start"),
            models.Index(fields=["starts_at"], name="appointment_start"),
            models.Index(fields=["reminder_due_at"], name="appointment_reminder_due"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("activities:appointment_detail", args=[self.uuid])
