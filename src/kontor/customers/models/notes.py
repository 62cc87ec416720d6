from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .belongs import one_customer_constraint

NOTE_MAX_LENGTH = 100_000


class Note(models.Model):
    """Free knowledge about a customer that fits no field, in Markdown. The sanitised
    HTML is rendered once on save (nh3), never on display."""

    organization = models.ForeignKey(
        "customers.Organization",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notes",
    )
    person = models.ForeignKey(
        "customers.Person", null=True, blank=True, on_delete=models.CASCADE, related_name="notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(_("note"), max_length=NOTE_MAX_LENGTH)
    html = models.TextField(editable=False, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [one_customer_constraint("note_one_customer")]
        verbose_name = _("note")
        verbose_name_plural = _("notes")

    def __str__(self) -> str:
        return self.text[:60]
