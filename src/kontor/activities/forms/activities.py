"""Forms of the contact history: the timeline filters, the short "Log a call" form
on the 360° page, the full activity form (log and edit) and the attachment upload.
They check input; the services check the rules (kontor.activities.services)."""

import datetime as dt

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kontor.activities.models import ACTIVITY_TEXT_MAX_LENGTH, ActivityKind, Direction
from kontor.activities.services.activities import MAX_DURATION_MINUTES
from kontor.customers.models import ContactRole, Organization, Person

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _now_local() -> dt.datetime:
    return timezone.localtime().replace(second=0, microsecond=0)


def _users():
    return get_user_model().objects.filter(is_active=True).order_by("username")


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


class UsersChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


class TimelineFilterForm(forms.Form):
    """Type, user and period of the 360° contact history; all optional."""

    kind = forms.ChoiceField(
        label=gettext_lazy("Type"),
        choices=[("", gettext_lazy("All types")), *ActivityKind.choices],
        required=False,
    )
    author = UserChoiceField(
        label=gettext_lazy("User"),
        queryset=_users(),
        to_field_name="username",
        required=False,
        empty_label=gettext_lazy("All users"),
    )
    since = forms.DateField(label=gettext_lazy("From"), required=False, widget=DATE)
    until = forms.DateField(label=gettext_lazy("To"), required=False, widget=DATE)

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise ValidationError(_("The period ends before it starts."))
        return data

    def filters(self) -> dict:
        """Keyword arguments of queries.timeline: the period in the user's time zone,
        ``until`` including its whole day."""
        data = self.cleaned_data if self.is_valid() else {}
        zone = timezone.get_current_timezone()

        def start_of(day: dt.date) -> dt.datetime:
            return dt.datetime.combine(day, dt.time.min, tzinfo=zone)

        return {
            "kinds": [data["kind"]] if data.get("kind") else [],
            "author": data.get("author"),
            "since": start_of(data["since"]) if data.get("since") else None,
            "until": start_of(data["until"] + dt.timedelta(days=1)) if data.get("until") else None,
        }


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class QuickCallForm(forms.Form):
    """The short "Log a call" form of the 360° page."""

    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=300)
    direction = forms.ChoiceField(
        label=gettext_lazy("Direction"),
        choices=[
            (Direction.OUTGOING, Direction.OUTGOING.label),
            (Direction.INCOMING, Direction.INCOMING.label),
        ],
        initial=Direction.OUTGOING,
    )
    occurred_at = forms.DateTimeField(label=gettext_lazy("Date"), widget=DATETIME)
    duration_minutes = forms.IntegerField(
        label=gettext_lazy("Duration (minutes)"),
        min_value=0,
        max_value=MAX_DURATION_MINUTES,
        required=False,
    )
    outcome = forms.CharField(label=gettext_lazy("Outcome"), max_length=300, required=False)
    text = forms.CharField(
        label=gettext_lazy("Text"),
        max_length=ACTIVITY_TEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_call_%s")
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("occurred_at", _now_local())

    def service_data(self) -> dict:
        return {"kind": ActivityKind.CALL, **self.cleaned_data}


class ActivityForm(forms.Form):
    """Log an activity of any kind (the full page), or change one (``activity``)."""

    kind = forms.ChoiceField(label=gettext_lazy("Type"), choices=ActivityKind.choices)
    direction = forms.ChoiceField(
        label=gettext_lazy("Direction"), choices=Direction.choices, required=False
    )
    occurred_at = forms.DateTimeField(label=gettext_lazy("Date"), widget=DATETIME)
    duration_minutes = forms.IntegerField(
        label=gettext_lazy("Duration (minutes)"),
        min_value=0,
        max_value=MAX_DURATION_MINUTES,
        required=False,
    )
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=300)
    text = forms.CharField(
        label=gettext_lazy("Text"),
        max_length=ACTIVITY_TEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    outcome = forms.CharField(label=gettext_lazy("Outcome"), max_length=300, required=False)
    internal_participants = UsersChoiceField(
        label=gettext_lazy("Internal participants"),
        queryset=_users(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    external_participants = forms.ModelMultipleChoiceField(
        label=gettext_lazy("External participants"),
        queryset=Person.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=gettext_lazy("Persons of this customer."),
    )
    private = forms.BooleanField(
        label=gettext_lazy("Private"),
        required=False,
        help_text=gettext_lazy("Only you see a private activity."),
    )
    files = MultipleFileField(label=gettext_lazy("Files"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, user, customer: Person | Organization, activity=None, **kwargs):
        self.activity = activity
        if activity is not None:
            initial = kwargs.setdefault("initial", {})
            for name in ("kind", "direction", "duration_minutes", "subject", "text", "outcome"):
                initial.setdefault(name, getattr(activity, name))
            initial.setdefault("private", activity.private)
            initial.setdefault("occurred_at", timezone.localtime(activity.occurred_at))
            initial.setdefault("internal_participants", list(activity.internal_participants.all()))
            initial.setdefault("external_participants", list(activity.external_participants.all()))
            initial.setdefault("version", activity.version)
        super().__init__(*args, **kwargs)
        if activity is None:
            self.initial.setdefault("occurred_at", _now_local())
            self.initial.setdefault("kind", ActivityKind.CALL)
        else:
            del self.fields["files"]  # added on the detail page, one upload at a time
        self.fields["external_participants"].queryset = _customer_persons(user, customer, activity)

    def clean_direction(self) -> str:
        return self.cleaned_data.get("direction") or Direction.NONE

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        data.pop("files", None)
        return data


def _customer_persons(user, customer: Person | Organization, activity=None):
    """The persons one may name as external participants — the person and their
    colleagues at the organization, or the organization's persons, and those
    already named — among those the user may see."""
    if isinstance(customer, Person):
        scope = Q(pk=customer.pk)
        if customer.organization_id:
            scope |= Q(organization_id=customer.organization_id) | Q(
                pk__in=ContactRole.objects.filter(organization_id=customer.organization_id).values(
                    "person_id"
                )
            )
    else:
        scope = Q(organization=customer) | Q(
            pk__in=ContactRole.objects.filter(organization=customer).values("person_id")
        )
    if activity is not None:
        scope |= Q(pk__in=activity.external_participants.values("pk"))
    return Person.objects.visible_to(user).filter(scope).order_by("last_name", "first_name", "id")


class AttachmentForm(forms.Form):
    file = MultipleFileField(label=gettext_lazy("Files"))
