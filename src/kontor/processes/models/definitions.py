"""Process definitions: a customer scene (e.g. "trade-fair visitor becomes a new
customer") as steps with activities, roles and deadlines — versioned.

A ``Process`` is the stable identity (what people call "the trade-fair process"); each
``ProcessVersion`` is one edition of its model. Editing a version that has instances
creates a new version; running instances finish on the version they started with.
Only one version of a process is *published* (used for new instances) at a time."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class SubjectKind(models.TextChoices):
    PERSON = "person", _("Person")
    ORGANIZATION = "organization", _("Organization")
    # Opportunities and cases join when the sales and service apps exist.


class TriggerKind(models.TextChoices):
    MANUAL = "manual", _("Started by hand")
    TRADE_FAIR_CAPTURE = "trade_fair_capture", _("A trade-fair visitor is captured")
    LEAD_CREATED = "lead_created", _("A lead is created from a given source")
    CASE_OPENED = "case_opened", _("A case of a given kind is opened")
    OPPORTUNITY_LOST = "opportunity_lost", _("An opportunity is lost")
    CUSTOMER_INACTIVE = "customer_inactive", _("A customer is inactive for N months")


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class Lane(models.TextChoices):
    """The swimlanes of the drawing."""

    CUSTOMER = "customer", _("Customer")
    SALES = "sales", _("Sales")
    MARKETING = "marketing", _("Marketing")
    SERVICE = "service", _("Service")
    SYSTEM = "system", _("System")


class Responsible(models.TextChoices):
    """Who works a step: the record's owner, or anyone of a role (core RoleCode)."""

    RECORD_OWNER = "record_owner", _("Owner of the record")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    SALES_REP = "sales_rep", _("Sales rep")
    SERVICE_AGENT = "service_agent", _("Service agent")
    MARKETING = "marketing", _("Marketing")
    ADMINISTRATOR = "administrator", _("Administrator")
    CUSTOMER = "customer", _("The customer")
    SYSTEM = "system", _("Kontor (automatic)")


class Grade(models.TextChoices):
    """How binding a requirement is (Muss / Soll / Kann / Abgrenzung)."""

    MUST = "must", _("Must")
    SHOULD = "should", _("Should")
    CAN = "can", _("Can")
    OUT_OF_SCOPE = "out", _("Out of scope")


class ActivityType(models.TextChoices):
    """What a step asks for (a Tätigkeit)."""

    TASK = "task", _("Task")
    EMAIL = "email", _("E-mail")
    APPOINTMENT = "appointment", _("Appointment")
    FIELD = "field", _("Fill in a field")
    CHECKLIST = "checklist", _("Checklist item")


class AcceptanceStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACCEPTED = "accepted", _("Accepted")


class Process(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    # Stable key of a shipped scene ("trade_fair_visitor"); empty for one's own.
    key = models.SlugField(_("key"), max_length=60, blank=True)
    subject_kind = models.CharField(
        _("runs on"), max_length=20, choices=SubjectKind.choices, default=SubjectKind.PERSON
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("process owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    archived = models.BooleanField(_("archived"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("process")
        verbose_name_plural = _("processes")
        constraints = [
            models.UniqueConstraint(fields=["key"], condition=~Q(key=""), name="process_key_unique")
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("processes:process_detail", args=[self.uuid])


class ProcessVersion(models.Model):
    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    goal = models.TextField(
        _("goal"), max_length=2000, help_text=_('What "done" means, e.g. "first order placed".')
    )
    description = models.TextField(_("description"), max_length=20_000, blank=True)
    trigger = models.CharField(
        _("trigger"), max_length=30, choices=TriggerKind.choices, default=TriggerKind.MANUAL
    )
    # The trigger's parameters, e.g. {"months": 12} or {"source": "web"}.
    trigger_config = models.JSONField(_("trigger settings"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    # Optimistic locking for the editor.
    lock_version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["process", "-number"]
        verbose_name = _("process version")
        verbose_name_plural = _("process versions")
        constraints = [
            models.UniqueConstraint(fields=["process", "number"], name="process_version_number"),
            models.UniqueConstraint(
                fields=["process"],
                condition=Q(status="published"),
                name="process_one_published_version",
            ),
        ]
        indexes = [models.Index(fields=["trigger", "status"], name="process_version_trigger")]

    def __str__(self) -> str:
        return f"{self.process} v{self.number}"


class Step(models.Model):
    """One step of a version. ``key`` is stable within the version (BPMN ids, branches)."""

    version = models.ForeignKey(ProcessVersion, on_delete=models.CASCADE, related_name="steps")
    key = models.SlugField(max_length=60)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), max_length=10_000, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    lane = models.CharField(_("lane"), max_length=20, choices=Lane.choices, default=Lane.SALES)
    responsible = models.CharField(
        _("responsible"),
        max_length=20,
        choices=Responsible.choices,
        default=Responsible.RECORD_OWNER,
    )
    # Deadline relative to the step's start, in business days (German public holidays
    # excluded); empty: no deadline.
    deadline_days = models.PositiveSmallIntegerField(
        _("deadline (business days)"), null=True, blank=True
    )
    # The fields the step needs ("person.email", "custom.budget" …).
    required_fields = models.JSONField(_("information needed"), default=list, blank=True)
    # A step that ends the process; reaching one with ``goal_reached`` counts as conversion.
    is_end = models.BooleanField(_("ends the process"), default=False)
    goal_reached = models.BooleanField(_("goal reached here"), default=False)

    class Meta:
        ordering = ["version", "position", "id"]
        verbose_name = _("step")
        verbose_name_plural = _("steps")
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="step_key_unique")]

    def __str__(self) -> str:
        return self.name


class Transition(models.Model):
    """A sequence flow from one step to the next. A step with several outgoing
    transitions is a branch: taken by condition, else chosen by the user."""

    version = models.ForeignKey(
        ProcessVersion, on_delete=models.CASCADE, related_name="transitions"
    )
    source = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="outgoing")
    target = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="incoming")
    label = models.CharField(_("label"), max_length=200, blank=True)
    # A simple condition on the subject, e.g. {"field": "person.lifecycle", "equals": "customer"};
    # empty: the user chooses (or the only way on).
    condition = models.JSONField(_("condition"), default=dict, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["version", "source", "position", "id"]
        verbose_name = _("transition")
        verbose_name_plural = _("transitions")

    def __str__(self) -> str:
        return f"{self.source} → {self.target}"


class StepActivity(models.Model):
    """A Tätigkeit of a step, and one requirement of the requirements document, with
    its grade and acceptance status."""

    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(_("type"), max_length=20, choices=ActivityType.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=10_000, blank=True)
    # Per kind: task {"priority"}, email {"template": uuid, "send": bool},
    # appointment {"duration_minutes"}, field {"field": "person.email"}.
    config = models.JSONField(default=dict, blank=True)
    grade = models.CharField(_("grade"), max_length=10, choices=Grade.choices, default=Grade.MUST)
    # Required activities must be done before the step can be completed.
    required = models.BooleanField(_("required to finish the step"), default=True)
    position = models.PositiveIntegerField(default=0)
    acceptance = models.CharField(
        _("acceptance"),
        max_length=10,
        choices=AcceptanceStatus.choices,
        default=AcceptanceStatus.OPEN,
    )
    acceptance_comment = models.TextField(_("acceptance comment"), max_length=5000, blank=True)

    class Meta:
        ordering = ["step", "position", "id"]
        verbose_name = _("step activity")
        verbose_name_plural = _("step activities")

    def __str__(self) -> str:
        return self.title
