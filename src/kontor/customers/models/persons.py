from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kontor.core.models import OwnedRecord

from .matchkeys import MatchKeyField


class Salutation(models.TextChoices):
    MR = "mr", _("Mr")
    MS = "ms", _("Ms")
    DIVERSE = "diverse", _("Diverse")
    NONE = "", _("(none)")


class Gender(models.TextChoices):
    FEMALE = "female", _("female")
    MALE = "male", _("male")
    DIVERSE = "diverse", _("diverse")


class IncomeBand(models.TextChoices):
    LOW = "low", _("under 30,000 €")
    MIDDLE = "middle", _("30,000–60,000 €")
    UPPER = "upper", _("60,000–100,000 €")
    HIGH = "high", _("over 100,000 €")


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    LETTER = "letter", _("Letter")
    VISIT = "visit", _("Visit")


# Psychographic fields are shown only to roles with customers.psychographic.
PSYCHOGRAPHIC_FIELDS = ("interests", "values", "attitudes", "preferences")


class Person(OwnedRecord):
    salutation = models.CharField(
        _("salutation"), max_length=8, choices=Salutation.choices, blank=True
    )
    title = models.CharField(_("title"), max_length=40, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100)
    organization = models.ForeignKey(
        "customers.Organization",
        verbose_name=_("organization"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="persons",
    )
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    department = models.CharField(_("department"), max_length=120, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    email2 = models.EmailField(_("second e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    mobile = models.CharField(_("mobile"), max_length=40, blank=True)
    street = models.CharField(_("street"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=16, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    country = models.CharField(_("country"), max_length=2, default="DE")
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=8, default="de", blank=True)
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=8, choices=Channel.choices, blank=True
    )
    # Sociodemographic data
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices, blank=True)
    household_size = models.PositiveSmallIntegerField(_("household size"), null=True, blank=True)
    profession = models.CharField(_("profession"), max_length=120, blank=True)
    income_band = models.CharField(
        _("income band"), max_length=8, choices=IncomeBand.choices, blank=True
    )
    # Psychographic data (see PSYCHOGRAPHIC_FIELDS)
    interests = models.TextField(_("interests"), blank=True)
    values = models.TextField(_("values"), blank=True)
    attitudes = models.TextField(_("attitudes"), blank=True)
    preferences = models.TextField(_("preferences"), blank=True)
    tags = models.ManyToManyField(
        "customers.Tag", verbose_name=_("tags"), blank=True, related_name="+"
    )
    # Duplicate detection (customers.duplicates.derive_keys, kept by the services).
    email_key = MatchKeyField()
    phone_key = MatchKeyField(max_length=20)
    name_key = MatchKeyField(max_length=100)
    phonetic_key = MatchKeyField(max_length=64)
    city_key = MatchKeyField(max_length=120)

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
            models.Index(fields=["email_key"], name="person_email_key_idx"),
            # Incoming e-mail is matched on the second address too (mail.inbound).
            models.Index(Lower("email2"), name="person_email2_lower_idx"),
            models.Index(fields=["phone_key"], name="person_phone_key_idx"),
            models.Index(fields=["phonetic_key", "city_key"], name="person_phonetic_city_idx"),
            models.Index(fields=["phonetic_key", "organization"], name="person_phonetic_org_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name

    def get_absolute_url(self) -> str:
        return reverse("customers:person_detail", args=[self.uuid])

    def search_document(self):
        """What the global search finds this person by (kontor.core.search)."""
        from kontor.core.search.tokens import SearchDocument

        company = self.organization.name if self.organization_id else ""
        return SearchDocument(
            title=self.full_name,
            subtitle=" · ".join(p for p in (company, self.city, self.email) if p),
            sort_key=f"{self.last_name} {self.first_name}",
            names=[self.first_name, self.last_name, company],
            text=[self.city, self.job_title, self.department],
            emails=[self.email, self.email2],
            phones=[self.phone, self.mobile],
            custom=self.custom,
        )

    @property
    def is_consumer(self) -> bool:
        """An end customer on their own, not a contact person at an organization."""
        return self.organization_id is None

    @property
    def age(self) -> int | None:
        if self.birth_date is None:
            return None
        from django.utils import timezone

        today = timezone.localdate()
        before_birthday = (today.month, today.day) < (self.birth_date.month, self.birth_date.day)
        return today.year - self.birth_date.year - before_birthday

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.title, self.first_name, self.last_name) if p)
