from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kontor.core.fields import WebsiteField
from kontor.core.models import OwnedRecord


class CustomerKind(models.TextChoices):
    BUSINESS = "business", _("Business customer")
    TRADE = "trade", _("Trade/retail customer")


class LifecycleStatus(models.TextChoices):
    LEAD = "lead", _("Lead")
    PROSPECT = "prospect", _("Prospect")
    CUSTOMER = "customer", _("Customer")
    FORMER = "former", _("Former customer")
    LOST = "lost", _("Lost")


class Organization(OwnedRecord):
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(
        _("customer kind"),
        max_length=16,
        choices=CustomerKind.choices,
        default=CustomerKind.BUSINESS,
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=LifecycleStatus.choices,
        default=LifecycleStatus.PROSPECT,
    )
    industry = models.CharField(_("industry"), max_length=120, blank=True)
    street = models.CharField(_("street"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=16, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    country = models.CharField(_("country"), max_length=2, default="DE")
    website = WebsiteField(_("website"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        indexes = [
            models.Index(Lower("name"), "id", name="org_name_idx"),
            models.Index(fields=["owner", "name", "id"], name="org_owner_name_idx"),
            models.Index(fields=["team", "name", "id"], name="org_team_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("customers:organization_detail", args=[self.uuid])


class Salutation(models.TextChoices):
    MR = "mr", _("Mr")
    MS = "ms", _("Ms")
    DIVERSE = "diverse", _("Diverse")
    NONE = "", _("(none)")


class Person(OwnedRecord):
    salutation = models.CharField(
        _("salutation"), max_length=8, choices=Salutation.choices, blank=True
    )
    title = models.CharField(_("title"), max_length=40, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="persons",
    )
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        indexes = [
            models.Index(fields=["last_name", "first_name", "id"], name="person_name_idx"),
            models.Index(
                fields=["owner", "last_name", "first_name", "id"], name="person_owner_name_idx"
            ),
            models.Index(
                fields=["team", "last_name", "first_name", "id"], name="person_team_name_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    def get_absolute_url(self) -> str:
        return reverse("customers:person_detail", args=[self.uuid])

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.title, self.first_name, self.last_name) if p)
