"""What list pages keep for their users: saved views and the progress of bulk jobs.
Generic over entities ("customers.person", later "sales.opportunity" …), so every
list reuses them."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .jobs import BackgroundJob, JobStatus


def _empty() -> dict:
    return {}


class SavedViewQuerySet(models.QuerySet):
    def visible_to(self, user) -> "SavedViewQuerySet":
        """The user's own views and those shared with one of their teams."""
        from kontor.core.access import team_ids

        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(Q(owner_id=user.pk) | Q(shared=True, team_id__in=team_ids(user)))


class SavedView(models.Model):
    """A named list state (filters, sort, columns) as the list's query parameters,
    ``{name: [values]}``; personal, or shared with the owner's team."""

    entity = models.CharField(_("list"), max_length=32)  # e.g. "customers.person"
    name = models.CharField(_("name"), max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    team = models.ForeignKey(
        "core.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    shared = models.BooleanField(_("shared with the team"), default=False)
    query = models.JSONField(_("filters, sort and columns"), default=_empty, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SavedViewQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["entity", "owner"], name="savedview_entity_owner_idx")]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")

    def __str__(self) -> str:
        return self.name


class BulkJob(BackgroundJob):
    """A bulk change too large for one request, run as a background task in chunks;
    the task updates ``done`` as it goes and the page polls it."""

    task_path = "kontor.customers.list_tasks.bulk_change"

    entity = models.CharField(max_length=32)
    action = models.CharField(max_length=32)
    params = models.JSONField(default=_empty, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    changed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.entity} {self.action} {self.done}/{self.total}"


__all__ = ["BulkJob", "JobStatus", "SavedView"]
