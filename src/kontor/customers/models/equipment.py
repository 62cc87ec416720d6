from django.db import models
from django.utils.translation import gettext_lazy as _

from .belongs import one_customer_constraint


class Equipment(models.Model):
    """A product installed at a customer (an organization or a consumer)."""

    organization = models.ForeignKey(
        "customers.Organization",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="equipment",
    )
    person = models.ForeignKey(
        "customers.Person",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="equipment",
    )
    product = models.CharField(_("product"), max_length=200)
    model = models.CharField(_("model"), max_length=120, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=120, blank=True)
    installed_on = models.DateField(_("installed on"), null=True, blank=True)
    location = models.CharField(_("location"), max_length=200, blank=True)
    service_contract_until = models.DateField(_("service contract until"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product", "id"]
        constraints = [one_customer_constraint("equipment_one_customer")]
        verbose_name = _("equipment")
        verbose_name_plural = _("equipment")

    def __str__(self) -> str:
        return " ".join(p for p in (self.product, self.model, self.serial_number) if p)
