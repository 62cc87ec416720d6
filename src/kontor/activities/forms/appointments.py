"""Forms of the appointment pages. Start and end are local times in the user's time
zone; the form keeps them naive and the service reads them in that zone (so that a
time in a DST gap gets a clear message and an ambiguous one its first occurrence)."""

from datetime import timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from kontor.activities.models import ActivityKind, Appointment
from kontor.activities.services.appointments import REPORT_KINDS
from kontor.core.access import sees
from kontor.core.forms import add_service_errors
from kontor.customers.models import Organization, Person

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"

REMINDER_CHOICES = [
    ("", _("No reminder")),
    ("0", _("At the start")),
    ("5", _("5 minutes before")),
    ("15", _("15 minutes before")),
    ("30", _("30 minutes before")),
    ("60", _("1 hour before")),
    ("120", _("2 hours before")),
    ("1440", _("1 day before")),
]


class LocalDateTimeField(forms.DateTimeField):
    """A naive local datetime: no conversion in the form (the service does it)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_FORMAT)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if hasattr(value, "hour"):
            return value
        try:
            result = parse_datetime(str(value).strip())
        except ValueError:
            result = None
        if result is None:
            result = forms.fields.BaseTemporalField.to_python(self, value)
        return result


def local_initial(value, *, all_day: bool = False, end: bool = False) -> str:
    """A stored time as the form shows it; an all-day end is its last day."""
    local = timezone.localtime(value)
    if all_day and end:
        local -= timedelta(days=1)
    return local.strftime(LOCAL_FORMAT)


class AppointmentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    location = forms.CharField(label=_("Location"), max_length=300, required=False)
    starts_at = LocalDateTimeField(label=_("Start"))
    ends_at = LocalDateTimeField(label=_("End"))
    all_day = forms.BooleanField(
        label=_("All day"),
        required=False,
        help_text=_("All-day appointments use only the dates of start and end."),
    )
    attendees = forms.ModelMultipleChoiceField(
        label=_("Attendees (colleagues)"),
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    external_attendees = forms.ModelMultipleChoiceField(
        label=_("External attendees"),
        queryset=Person.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Persons of the linked customer."),
    )
    person = forms.ModelChoiceField(
        queryset=Person.objects.none(),
        to_field_name="uuid",
        required=False,
        widget=forms.HiddenInput,
    )
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        to_field_name="uuid",
        required=False,
        widget=forms.HiddenInput,
    )
    reminder_minutes = forms.TypedChoiceField(
        label=_("Reminder"),
        choices=REMINDER_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=20_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    send_invitations = forms.BooleanField(
        label=_("Send invitations"),
        required=False,
        help_text=_("E-mail the attendees an invitation with a calendar file (.ics)."),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, appointment: Appointment | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = (
            get_user_model().objects.filter(is_active=True).exclude(pk=user.pk)
        )
        persons = Person.objects.visible_to(user)
        self.fields["person"].queryset = persons
        self.fields["external_attendees"].queryset = persons
        self.fields["organization"].queryset = Organization.objects.visible_to(user)
        # The checkbox list shows the persons of the linked customer and those chosen
        # already, never all customers (there may be a million of them).
        data = self.data if self.is_bound else self.initial
        self.person_obj = self._lookup(persons, data.get("person"))
        self.organization_obj = self._lookup(
            Organization.objects.visible_to(user), data.get("organization")
        )
        if self.organization_obj is None and self.person_obj and self.person_obj.organization_id:
            employer = self.person_obj.organization
            # Another team's organization is neither named nor are its persons offered.
            self.organization_obj = employer if sees(user, employer) else None
        shown = Person.objects.none()
        if self.person_obj is not None:
            shown = shown | persons.filter(pk=self.person_obj.pk)
        if self.organization_obj is not None:
            shown = shown | persons.filter(organization=self.organization_obj)
        if appointment is not None:
            shown = shown | persons.filter(pk__in=appointment.external_attendees.values("pk"))
        self.fields["external_attendees"].widget.choices = [
            (p.pk, str(p)) for p in shown.distinct().order_by("last_name", "first_name")[:100]
        ]
        if not self.fields["external_attendees"].widget.choices:
            del self.fields["external_attendees"]

    @staticmethod
    def _lookup(queryset, value):
        if not value:
            return None
        if hasattr(value, "pk"):
            return value
        try:
            return queryset.filter(uuid=value).first()
        except (ValueError, TypeError, forms.ValidationError):
            return None

    def service_data(self) -> dict:
        data = {
            k: v for k, v in self.cleaned_data.items() if k not in ("version", "send_invitations")
        }
        if "external_attendees" not in self.fields:
            data.pop("external_attendees", None)
        return data

    def add_service_errors(self, exc) -> None:
        add_service_errors(self, exc)


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    send_invitations = forms.BooleanField(
        label=_("Tell the attendees"),
        required=False,
        initial=True,
        help_text=_("E-mail the attendees a cancellation with a calendar file (.ics)."),
    )


class ReportForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Type"),
        choices=[(k.value, k.label) for k in ActivityKind if k in REPORT_KINDS],
        initial=ActivityKind.VISIT,
    )
    subject = forms.CharField(label=_("Subject"), max_length=300)
    text = forms.CharField(
        label=_("Report"), max_length=100_000, required=False, widget=forms.Textarea
    )
    outcome = forms.CharField(label=_("Outcome"), max_length=300, required=False)

    def add_service_errors(self, exc) -> None:
        add_service_errors(self, exc)
