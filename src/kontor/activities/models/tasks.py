"""Tasks and follow-ups (Wiedervorlagen)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kontor.activities.models.activities import CUSTOMER_LINKS
from kontor.core.models.records import OwnedRecord, VisibleQuerySet


class TaskPriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class Recurrence(models.TextChoices):
    NONE = "", _("Does not repeat")
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")
    YEARLY = "yearly", _("Yearly")


class TaskQuerySet(VisibleQuerySet):
    def visible_to(self, user) -> "TaskQuerySet":
        """By the assignee's role rule (own / team / all), and always to whoever
        created the task (a follow-up delegated to a colleague stays in sight) —
        provided they may see every customer it names (its person and organization;
        see VisibleQuerySet.every_visible_through)."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        condition = self.role_condition(user)
        if condition is None:
            return self
        customers = self.every_visible_through(user, *CUSTOMER_LINKS)
        return self.filter((condition | Q(created_by_id=user.pk)) & customers)

    def customers_visible_to(self, user, *, teams=None) -> "TaskQuerySet":
        """Only the tasks whose every customer ``user`` may see (for lists of one's
        own tasks, which need no role rule: My day, the feed). ``teams``: see
        VisibleQuerySet.role_condition."""
        customers = self.every_visible_through(user, *CUSTOMER_LINKS, teams=teams)
        return self if customers is None else self.filter(customers)

    def open(self) -> "TaskQuerySet":
        return self.filter(status=TaskStatus.OPEN)


class Task(OwnedRecord):
    """The owner is the assignee. Done recurring tasks create their successor,
    linked through ``previous``."""

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=20_000, blank=True)
    due_date = models.DateField(_("due date"))
    due_time = models.TimeField(_("due time"), null=True, blank=True)
    priority = models.CharField(
        _("priority"), max_length=10, choices=TaskPriority.choices, default=TaskPriority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    done_at = models.DateTimeField(_("done"), null=True, blank=True, editable=False)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    recurrence = models.CharField(
        _("repeats"), max_length=10, choices=Recurrence.choices, blank=True, default=""
    )
    recurrence_interval = models.PositiveSmallIntegerField(_("every"), default=1)
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="next"
    )
    person = models.ForeignKey(
        "customers.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    organization = models.ForeignKey(
        "customers.Organization",
        verbose_name=_("organization"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    activity = models.ForeignKey(
        "activities.Activity",
        verbose_name=_("activity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    # Set when the reminder e-mail went out, so each open task is reminded once.
    reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            models.Index(fields=["owner", "status", "due_date"], name="task_owner_due"),
            models.Index(fields=["status", "due_date"], name="task_status_due"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("activities:task_detail", args=[self.uuid])
