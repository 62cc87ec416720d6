from django.db import models


class RateCounter(models.Model):
    """Requests counted per key (e.g. an API token) and one-minute window; shared by
    every web process through the database, incremented by one atomic upsert."""

    key = models.CharField(max_length=64)
    window = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window"], name="ratecounter_key_window")
        ]

    def __str__(self) -> str:
        return f"{self.key}@{self.window}: {self.count}"
