from django.db import models
from django.utils.translation import gettext_lazy as _


class BuyingRole(models.TextChoices):
    DECIDER = "decider", _("Decider")
    INFLUENCER = "influencer", _("Influencer")
    USER = "user", _("User")
    BUYER = "buyer", _("Buyer")
    GATEKEEPER = "gatekeeper", _("Gatekeeper")
    INITIATOR = "initiator", _("Initiator")


def _no_roles() -> list[str]:
    return []


class ContactRole(models.Model):
    """A person's place at an organization: job, department and buying-center roles.
    A person may be a contact at several organizations."""

    person = models.ForeignKey(
        "customers.Person", on_delete=models.CASCADE, related_name="contact_roles"
    )
    organization = models.ForeignKey(
        "customers.Organization", on_delete=models.CASCADE, related_name="contact_roles"
    )
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    department = models.CharField(_("department"), max_length=120, blank=True)
    buying_roles = models.JSONField(_("buying-center roles"), default=_no_roles, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "organization"], name="contactrole_unique")
        ]
        verbose_name = _("contact role")
        verbose_name_plural = _("contact roles")

    def __str__(self) -> str:
        return f"{self.person} @ {self.organization}"

    def get_buying_roles_display(self) -> list[str]:
        labels = dict(BuyingRole.choices)
        return [str(labels[r]) for r in self.buying_roles if r in labels]
