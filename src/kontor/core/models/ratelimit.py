from django.db import models


class RateCounter(models.Model):
    """Requests counted per key (e.g. an API token) and minute (Unix time // 60); shared by
    every web process through the database, incremented by one atomic upsert."""

    key = models.CharField(max_length=64)
    minute = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "minute"], name="ratecounter_key_minute")
        ]

    def __str__(self) -> str:
        return f"{self.key}@{self.minute}: {self.count}"
