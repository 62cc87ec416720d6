from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kontor.core.fields import WebsiteField
from kontor.core.models import OwnedRecord

from .matchkeys import MatchKeyField


class CustomerKind(models.TextChoices):
    BUSINESS = "business", _("Business customer")
    TRADE = "trade", _("Trade/retail customer")


class LifecycleStatus(models.TextChoices):
    LEAD = "lead", _("Lead")
    PROSPECT = "prospect", _("Prospect")
    CUSTOMER = "customer", _("Customer")
    FORMER = "former", _("Former customer")
    LOST = "lost", _("Lost")


class RevenueBand(models.TextChoices):
    UNDER_1M = "lt1m", _("under 1 million €")
    UP_TO_10M = "1m-10m", _("1–10 million €")
    UP_TO_50M = "10m-50m", _("10–50 million €")
    UP_TO_250M = "50m-250m", _("50–250 million €")
    OVER_250M = "gt250m", _("over 250 million €")


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
    customer_number = models.CharField(
        _("customer number"), max_length=20, blank=True, db_index=True
    )
    legal_name = models.CharField(_("legal name"), max_length=200, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent organization"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subsidiaries",
    )
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    revenue_band = models.CharField(
        _("annual revenue"), max_length=16, choices=RevenueBand.choices, blank=True
    )
    vat_id = models.CharField(_("VAT ID"), max_length=20, blank=True)
    tags = models.ManyToManyField(
        "customers.Tag", verbose_name=_("tags"), blank=True, related_name="+"
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    # Duplicate detection (customers.duplicates.derive_keys, kept by the services).
    name_key = MatchKeyField(max_length=200)
    phonetic_key = MatchKeyField(max_length=64)
    city_key = MatchKeyField(max_length=120)
    email_key = MatchKeyField()
    phone_key = MatchKeyField(max_length=20)
    domain_key = MatchKeyField()
    vat_key = MatchKeyField(max_length=20)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        indexes = [
            models.Index(Lower("name"), "id", name="org_name_idx"),
            # The list's default sort (name, id); the Lower() index above serves search.
            models.Index(fields=["name", "id"], name="org_name_id_idx"),
            models.Index(fields=["owner", "name", "id"], name="org_owner_name_idx"),
            models.Index(fields=["team", "name", "id"], name="org_team_name_idx"),
            models.Index(fields=["name_key"], name="org_name_key_idx"),
            models.Index(fields=["phonetic_key", "city_key"], name="org_phonetic_city_idx"),
            models.Index(fields=["phonetic_key", "postal_code"], name="org_phonetic_postal_idx"),
            models.Index(fields=["email_key"], name="org_email_key_idx"),
            models.Index(fields=["phone_key"], name="org_phone_key_idx"),
            models.Index(fields=["domain_key"], name="org_domain_key_idx"),
            models.Index(fields=["vat_key"], name="org_vat_key_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("customers:organization_detail", args=[self.uuid])

    def search_document(self):
        """What the global search finds this organization by (kontor.core.search)."""
        from kontor.core.search.tokens import SearchDocument

        return SearchDocument(
            title=self.name,
            subtitle=" · ".join(p for p in (self.city, self.customer_number) if p),
            names=[self.name, self.legal_name],
            text=[self.city, self.industry],
            emails=[self.email],
            phones=[self.phone],
            numbers=[self.customer_number],
            custom=self.custom,
        )
