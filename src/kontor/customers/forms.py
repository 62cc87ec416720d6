from django import forms

from kontor.customers.models import Organization, Person


class VersionedForm(forms.ModelForm):
    """Carries the record version the user started editing from."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class OrganizationForm(VersionedForm):
    class Meta:
        model = Organization
        fields = [
            "name",
            "kind",
            "status",
            "industry",
            "street",
            "postal_code",
            "city",
            "country",
            "website",
            "phone",
            "email",
        ]


class PersonForm(VersionedForm):
    class Meta:
        model = Person
        fields = [
            "salutation",
            "title",
            "first_name",
            "last_name",
            "organization",
            "job_title",
            "email",
            "phone",
            "city",
            "birth_date",
        ]
        widgets = {"birth_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only organizations the user may see can be chosen.
        self.fields["organization"].queryset = Organization.objects.visible_to(user)
