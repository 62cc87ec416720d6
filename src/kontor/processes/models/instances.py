"""Running processes: an instance of a process version on one customer record, and
one record per step it entered (the figures are computed from these, never from
counters)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .definitions import ProcessVersion, Step, StepActivity


class InstanceStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class StepRunStatus(models.TextChoices):
    ACTIVE = "active", _("In progress")
    DONE = "done", _("Done")
    LEFT = "left", _("Left (instance cancelled)")


# The customers an instance names: all must be visible to see it (the constraint
# process_instance_has_subject keeps at least one set).
CUSTOMER_LINKS = ("person", "organization")


class ProcessInstanceQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ProcessInstanceQuerySet":
        """Instances ``user`` may see: every customer it names (its person and its
        organization) visible to them — as an activity, an appointment or a task
        (VisibleQuerySet.every_visible_through): an instance naming a person of
        another team at one's own organization is hidden, and so is one naming
        another team's organization beside one's own person. Checked on the joined
        customer rows (no EXISTS: PostgreSQL would check them as hashed subplans over
        every visible customer). Triggers and deadlines work as Kontor (no user) and
        do not read through here."""
        from kontor.core.models.records import VisibleQuerySet

        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        customers = VisibleQuerySet.every_visible_through(user, *CUSTOMER_LINKS)
        return self if customers is None else self.filter(customers)


class ProcessInstance(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    version = models.ForeignKey(ProcessVersion, on_delete=models.PROTECT, related_name="instances")
    person = models.ForeignKey(
        "customers.Person",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="process_instances",
    )
    organization = models.ForeignKey(
        "customers.Organization",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="process_instances",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=InstanceStatus.choices, default=InstanceStatus.RUNNING
    )
    current_step = models.ForeignKey(
        Step, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # "manual", or the trigger that started it.
    started_via = models.CharField(max_length=30, default="manual")
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    goal_reached = models.BooleanField(_("goal reached"), default=False)
    cancel_reason = models.TextField(_("reason"), max_length=2000, blank=True)
    # Optimistic locking: two browsers completing the same step at once.
    lock_version = models.PositiveIntegerField(default=1, editable=False)

    objects = ProcessInstanceQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("process instance")
        verbose_name_plural = _("process instances")
        constraints = [
            models.CheckConstraint(
                condition=Q(person__isnull=False) | Q(organization__isnull=False),
                name="process_instance_has_subject",
            ),
        ]
        indexes = [
            # Covering: the figures (kontor.processes.measurement) read a version's
            # instances by status from this index alone (PostgreSQL, index-only).
            models.Index(
                fields=["version", "status"],
                include=["goal_reached", "started_at", "ended_at"],
                name="instance_version_status",
            ),
            models.Index(fields=["person", "status"], name="instance_person_status"),
            models.Index(fields=["organization", "status"], name="instance_org_status"),
        ]

    def __str__(self) -> str:
        return f"{self.version} #{self.pk}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("processes:instance_detail", args=[self.uuid])


class StepRun(models.Model):
    """One step of one instance: when it was entered, when it is due, when it was done."""

    instance = models.ForeignKey(
        ProcessInstance, on_delete=models.CASCADE, related_name="step_runs"
    )
    step = models.ForeignKey(Step, on_delete=models.PROTECT, related_name="runs")
    status = models.CharField(
        max_length=10, choices=StepRunStatus.choices, default=StepRunStatus.ACTIVE
    )
    entered_at = models.DateTimeField(_("entered"))
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    finished_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The user the step's work was assigned to when it was entered.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["instance", "entered_at", "id"]
        verbose_name = _("step record")
        verbose_name_plural = _("step records")
        constraints = [
            # At most one active step per instance (no branch runs in parallel).
            models.UniqueConstraint(
                fields=["instance"], condition=Q(status="active"), name="one_active_step_run"
            ),
        ]
        indexes = [
            # Covering: the figures read a version's step records by step and status
            # from this index alone (PostgreSQL, index-only, in group order).
            models.Index(
                fields=["step", "status"],
                include=["entered_at", "finished_at", "due_at"],
                name="step_run_step_status",
            ),
            models.Index(fields=["status", "due_at"], name="step_run_status_due"),
            # The deadline checks (kontor.processes.deadlines) read only the active runs
            # not yet warned / escalated, oldest due first, every few minutes.
            models.Index(
                fields=["due_at", "id"],
                condition=Q(status="active", overdue_notified_at__isnull=True),
                name="step_run_to_warn",
            ),
            models.Index(
                fields=["due_at", "id"],
                condition=Q(status="active", escalated_at__isnull=True),
                name="step_run_to_escalate",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.step} ({self.get_status_display()})"


class StepRunItem(models.Model):
    """The work a step run created for one of its activities: the task, the e-mail,
    the appointment — or, for a field or checklist item, just the done mark."""

    step_run = models.ForeignKey(StepRun, on_delete=models.CASCADE, related_name="items")
    activity = models.ForeignKey(StepActivity, on_delete=models.PROTECT, related_name="+")
    task = models.ForeignKey(
        "activities.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    appointment = models.ForeignKey(
        "activities.Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    mail = models.ForeignKey(
        "mail.MailMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["step_run", "activity__position", "id"]
        verbose_name = _("step item")
        verbose_name_plural = _("step items")
        constraints = [
            models.UniqueConstraint(fields=["step_run", "activity"], name="step_item_unique")
        ]
        indexes = [models.Index(fields=["task"], name="step_item_task")]

    def __str__(self) -> str:
        return str(self.activity)
