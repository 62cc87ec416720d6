from django.conf import settings
from django.db import models

from kontor.core.models.records import VisibleQuerySet


class SearchEntry(models.Model):
    """One searchable record in the global search index (kontor.core.search).

    ``owner`` and ``team`` are copied from the record so that the visibility rule
    (``VisibleQuerySet.visible_to``) filters in the same query as the match.
    ``tokens`` holds the normalised words, both spellings and phonetic codes; the
    full-text index over it is vendor-specific and lives outside the ORM: an FTS5
    table on SQLite, a generated ``tsvector`` column with a GIN index on PostgreSQL
    (migration 0005). Only kontor.core.search writes here."""

    kind = models.CharField(max_length=16)
    object_id = models.BigIntegerField()
    uuid = models.UUIDField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,  # the index is rebuilt in bulk; a stale id only hides a hit
    )
    team = models.ForeignKey(
        "core.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    title = models.CharField(max_length=300)
    subtitle = models.CharField(max_length=300, blank=True)
    # Folded title (ASCII lower case), so that SQLite and PostgreSQL sort alike.
    sort_key = models.CharField(max_length=300)
    tokens = models.TextField()

    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "sort_key", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="searchentry_kind_object")
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.title}"
