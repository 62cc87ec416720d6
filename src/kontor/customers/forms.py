from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kontor.core import customfields
from kontor.core.access import user_can
from kontor.core.forms import NormalizedInputMixin
from kontor.core.permissions import Capability
from kontor.customers import contact_data
from kontor.customers.models import (
    PSYCHOGRAPHIC_FIELDS,
    BuyingRole,
    ContactRole,
    Equipment,
    Organization,
    Person,
    Tag,
)
from kontor.customers.services.records import NAME_FIELDS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
CUSTOM_PREFIX = "cf_"


class VersionedForm(NormalizedInputMixin, forms.ModelForm):
    """Carries the record version the user started editing from."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class CustomerForm(VersionedForm):
    """A person or organization form: the model fields, then the administrator's
    custom fields (``cf_<key>``). Contact data is checked by the same rules as the
    services use, so the messages appear at the field; phones are shown formatted
    for people and stored in E.164."""

    phone_fields: tuple[str, ...] = ()

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.entity = customfields.entity_of(self._meta.model)
        self.custom_fields = customfields.form_fields(self.entity)
        self.fields.update(self.custom_fields)
        if self.instance.pk:
            if self.custom_fields:
                for name, value in customfields.form_initial(
                    self.entity, self.instance.custom
                ).items():
                    self.initial.setdefault(name, value)
            for name in self.phone_fields:
                self.initial[name] = contact_data.phone_display(getattr(self.instance, name))
        if "tags" in self.fields:
            self.fields["tags"].widget = forms.CheckboxSelectMultiple()
            self.fields["tags"].queryset = Tag.objects.all()

    @property
    def model_field_names(self) -> list[str]:
        return [name for name in self._meta.fields if name in self.fields]

    def _region(self) -> str:
        # An unknown country is an error of its own; phones are then read as German.
        region = (self.data.get("country") or "").strip().upper()
        return region if region in contact_data.COUNTRY_CODES else contact_data.DEFAULT_REGION

    def _clean_phone(self, name: str) -> str:
        return contact_data.phone_normalize(self.cleaned_data.get(name, ""), region=self._region())

    def clean_postal_code(self) -> str:
        return contact_data.postal_code_normalize(
            self.cleaned_data.get("postal_code", ""), country=self._region()
        )

    def clean_country(self) -> str:
        return contact_data.country_normalize(self.cleaned_data.get("country", ""))

    def clean(self):
        cleaned = super().clean()
        for name in self.phone_fields:
            if name in cleaned:
                try:
                    cleaned[name] = self._clean_phone(name)
                except ValidationError as exc:
                    self.add_error(name, exc)
        return cleaned

    def service_data(self) -> dict:
        """What the create/update services take: model fields plus ``custom``."""
        data = {name: self.cleaned_data[name] for name in self.model_field_names}
        if self.custom_fields:
            data["custom"] = customfields.form_values(self.cleaned_data)
        return data

    def add_service_errors(self, exc: ValidationError) -> None:
        """A service's field errors at the form's fields (``custom.x`` → ``cf_x``)."""
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for name, errors in exc.error_dict.items():
            if name.startswith("custom."):
                name = CUSTOM_PREFIX + name.removeprefix("custom.")
            self.add_error(name if name in self.fields else None, errors)


def _keep_hidden_link(form: CustomerForm, name: str) -> None:
    """A link to an organization the user may not see is neither shown nor changed:
    the field is left out, so saving keeps it (customers.queries.
    with_organization_visibility). Offered as it is, the field would show no choice
    and saving would unlink it silently."""
    linked = getattr(form.instance, f"{name}_id")
    if linked is not None and not form.fields[name].queryset.filter(pk=linked).exists():
        del form.fields[name]


class OrganizationForm(CustomerForm):
    phone_fields = ("phone",)
    name_fields = NAME_FIELDS[Organization]

    class Meta:
        model = Organization
        fields = [
            "name",
            "legal_name",
            "kind",
            "status",
            "industry",
            "parent",
            "employees",
            "revenue_band",
            "street",
            "postal_code",
            "city",
            "country",
            "website",
            "phone",
            "email",
            "vat_id",
            "tags",
        ]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        parents = Organization.objects.visible_to(user)
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents
        _keep_hidden_link(self, "parent")

    def clean_vat_id(self) -> str:
        return contact_data.vat_id_normalize(self.cleaned_data.get("vat_id", ""))

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        if parent is not None and self.instance.pk:
            # No loops: the parent may not be this organization or one below it.
            seen, node = set(), parent
            while node is not None and node.pk not in seen:
                if node.pk == self.instance.pk:
                    raise ValidationError(
                        _("An organization cannot be placed below one of its subsidiaries.")
                    )
                seen.add(node.pk)
                node = node.parent
        return parent


class PersonForm(CustomerForm):
    phone_fields = ("phone", "mobile")
    name_fields = NAME_FIELDS[Person]

    class Meta:
        model = Person
        fields = [
            "salutation",
            "title",
            "first_name",
            "last_name",
            "organization",
            "job_title",
            "department",
            "email",
            "email2",
            "phone",
            "mobile",
            "street",
            "postal_code",
            "city",
            "country",
            "birth_date",
            "language",
            "preferred_channel",
            "gender",
            "household_size",
            "profession",
            "income_band",
            *PSYCHOGRAPHIC_FIELDS,
            "tags",
        ]
        widgets = {
            "birth_date": DATE,
            **{name: forms.Textarea(attrs={"rows": 2}) for name in PSYCHOGRAPHIC_FIELDS},
        }
        help_texts = {"title": gettext_lazy("e.g. Dr., Prof., Prof. Dr.")}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        # Only organizations the user may see can be chosen.
        self.fields["organization"].queryset = Organization.objects.visible_to(user)
        _keep_hidden_link(self, "organization")
        self.may_see_psychographic = user_can(user, Capability.CUSTOMERS_PSYCHOGRAPHIC)
        if not self.may_see_psychographic:
            for name in PSYCHOGRAPHIC_FIELDS:
                del self.fields[name]

    def clean_language(self) -> str:
        return contact_data.language_normalize(self.cleaned_data.get("language", ""))

    def clean_birth_date(self):
        return contact_data.birth_date_check(self.cleaned_data.get("birth_date"))

    def clean(self):
        cleaned = super().clean()
        if not self.may_see_psychographic and any(
            self.data.get(name) for name in PSYCHOGRAPHIC_FIELDS
        ):
            raise ValidationError(_("Your role may not change psychographic data."))
        return cleaned


class ContactRoleForm(forms.Form):
    """One person–organization link; the other side is chosen from what the user
    may see (``choose`` = "organization" on a person's page, "person" on an
    organization's)."""

    organization = forms.ModelChoiceField(
        label=gettext_lazy("organization"), queryset=Organization.objects.none()
    )
    person = forms.ModelChoiceField(label=gettext_lazy("person"), queryset=Person.objects.none())
    job_title = forms.CharField(
        label=gettext_lazy("job title"),
        max_length=ContactRole._meta.get_field("job_title").max_length,
        required=False,
    )
    department = forms.CharField(
        label=gettext_lazy("department"),
        max_length=ContactRole._meta.get_field("department").max_length,
        required=False,
    )
    buying_roles = forms.MultipleChoiceField(
        label=gettext_lazy("buying-center roles"),
        choices=BuyingRole.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, user, choose: str, contact_role: ContactRole | None = None, **kw):
        if contact_role is not None:
            kw.setdefault(
                "initial",
                {
                    "organization": contact_role.organization_id,
                    "person": contact_role.person_id,
                    "job_title": contact_role.job_title,
                    "department": contact_role.department,
                    "buying_roles": contact_role.buying_roles,
                },
            )
        super().__init__(*args, **kw)
        keep = "organization" if choose == "organization" else "person"
        del self.fields["person" if keep == "organization" else "organization"]
        model = Organization if keep == "organization" else Person
        self.fields[keep].queryset = model.objects.visible_to(user)
        if contact_role is not None:
            # Editing a link: the other side stays as it is.
            self.fields[keep].disabled = True


class EquipmentForm(forms.ModelForm):
    class Meta:
        model = Equipment
        fields = [
            "product",
            "model",
            "serial_number",
            "installed_on",
            "location",
            "service_contract_until",
        ]
        widgets = {"installed_on": DATE, "service_contract_until": DATE}


class VCardImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("vCard file (.vcf)"),
        help_text=gettext_lazy("One or more cards, vCard 3.0 or 4.0."),
    )
