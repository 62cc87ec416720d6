from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kontor.core.models import BackgroundJob, JobStatus


class DuplicateKind(models.TextChoices):
    PERSON = "person", _("Persons")
    ORGANIZATION = "organization", _("Organizations")


class DuplicateStatus(models.TextChoices):
    OPEN = "open", _("open")
    DISMISSED = "dismissed", _("not a duplicate")
    MERGED = "merged", _("merged")


class DuplicatePair(models.Model):
    """Two records the background scan found alike. ``a_id`` < ``b_id`` are the ids of
    two persons or two organizations (``kind``): plain ids rather than foreign keys, so
    one table holds both kinds and a pair outlives a merge as its history. Lists join
    them against what the user may see, so a pair of deleted records simply drops out."""

    kind = models.CharField(_("kind"), max_length=16, choices=DuplicateKind.choices)
    a_id = models.BigIntegerField()
    b_id = models.BigIntegerField()
    score = models.PositiveSmallIntegerField(_("score"))
    reasons = models.JSONField(_("reasons"), default=list)
    status = models.CharField(
        _("status"), max_length=16, choices=DuplicateStatus.choices, default=DuplicateStatus.OPEN
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "a_id", "b_id"], name="duplicatepair_unique"),
            models.CheckConstraint(
                condition=Q(a_id__lt=models.F("b_id")), name="duplicatepair_a_lt_b"
            ),
        ]
        indexes = [
            models.Index(fields=["kind", "status", "-score", "id"], name="duplicatepair_list_idx"),
            models.Index(fields=["kind", "b_id"], name="duplicatepair_b_idx"),
        ]
        verbose_name = _("duplicate pair")
        verbose_name_plural = _("duplicate pairs")

    def __str__(self) -> str:
        return f"{self.kind} {self.a_id}/{self.b_id} ({self.score})"


# A scan is one of core's background jobs; the old name stays for readers.
ScanStatus = JobStatus


class DuplicateScan(BackgroundJob):
    """One run of the background duplicate scan, in batches of records by id; the task
    updates ``done``/``total`` as it goes, and the review page polls them."""

    task_path = "kontor.customers.tasks.duplicate_scan"

    kind = models.CharField(_("kind"), max_length=16, choices=DuplicateKind.choices)
    pairs_found = models.PositiveIntegerField(default=0)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("duplicate scan")
        verbose_name_plural = _("duplicate scans")

    def __str__(self) -> str:
        return f"{self.kind} {self.status} {self.done}/{self.total}"


class MergeRecord(models.Model):
    """What a merge did, to inspect afterwards: the survivor, the victim as it was
    (``victim_snapshot``: its fields and what hung on it) and the values chosen."""

    person = models.ForeignKey(
        "customers.Person",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="merge_records",
    )
    organization = models.ForeignKey(
        "customers.Organization",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="merge_records",
    )
    victim_uuid = models.UUIDField(_("merged record"))
    victim_repr = models.CharField(_("merged record"), max_length=200)
    victim_snapshot = models.JSONField(default=dict)
    choices = models.JSONField(_("chosen values"), default=dict)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(organization__isnull=False, person__isnull=True)
                | Q(organization__isnull=True, person__isnull=False),
                name="mergerecord_one_survivor",
            )
        ]
        verbose_name = _("merge")
        verbose_name_plural = _("merges")

    def __str__(self) -> str:
        return f"{self.victim_repr} → {self.person or self.organization}"
