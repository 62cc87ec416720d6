"""The trade-fair quick-capture form: few required fields, inputs that bring up the
right phone keyboard. The known-record choices (``person`` / ``organization``) are
radio buttons of the matches partial, read by the view, not fields of this form."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from kontor.activities.services.capture import (
    DEFAULT_FOLLOW_UP_DAYS,
    FOLLOW_UP_DAYS,
    CaptureData,
)
from kontor.customers.models import Salutation

# Inputs whose change looks the visitor up again (views/capture.py, capture_matches).
MATCH_INPUT = "capture-match-input"


def _text(label, max_length, *, match=False, **attrs):
    if match:
        attrs["class"] = MATCH_INPUT
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", **attrs}),
    )


class AssigneeChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


class CaptureForm(forms.Form):
    event = forms.CharField(
        label=_("Trade fair or event"),
        max_length=250,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=_("Kept for the next visitor."),
    )
    salutation = forms.ChoiceField(
        label=_("salutation"), choices=Salutation.choices, required=False
    )
    first_name = _text(_("first name"), 100, match=True, autocapitalize="words")
    last_name = _text(_("last name"), 100, match=True, autocapitalize="words")
    company = _text(_("company"), 200, match=True)
    job_title = _text(_("job title"), 120)
    email = forms.EmailField(
        label=_("e-mail"),
        required=False,
        widget=forms.EmailInput(
            attrs={"class": MATCH_INPUT, "autocomplete": "off", "autocapitalize": "none"}
        ),
    )
    phone = _text(_("phone"), 40, match=True, type="tel", inputmode="tel")
    mobile = _text(_("mobile"), 40, match=True, type="tel", inputmode="tel")
    interests = forms.CharField(
        label=_("interests"),
        max_length=2_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    notes = forms.CharField(
        label=_("notes"),
        max_length=20_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    consent = forms.BooleanField(label=_("Agrees to be contacted"), required=False)
    follow_up = forms.CharField(
        label=_("next step"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=_("The follow-up task, e.g. “Send an offer”."),
    )
    follow_up_days = forms.TypedChoiceField(
        label=_("due in"),
        coerce=int,
        choices=[
            (d, _("1 day") if d == 1 else _("%(days)s days") % {"days": d}) for d in FOLLOW_UP_DAYS
        ],
        initial=DEFAULT_FOLLOW_UP_DAYS,
        widget=forms.RadioSelect,
    )
    assignee = AssigneeChoice(
        label=_("for"), queryset=get_user_model().objects.none(), required=False
    )

    # The groups the page shows, in order (the matches sit between them).
    VISITOR = ("event", "salutation", "first_name", "last_name", "company", "job_title")
    CONTACT = ("email", "phone", "mobile")
    CONVERSATION = ("interests", "notes", "consent", "follow_up", "follow_up_days", "assignee")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = (
            get_user_model().objects.filter(is_active=True).order_by("first_name", "last_name")
        )
        self.fields["assignee"].initial = user.pk
        self.fields["assignee"].empty_label = None

    def group(self, names):
        return [self[name] for name in names]

    def visitor_fields(self):
        return self.group(self.VISITOR)

    def contact_fields(self):
        return self.group(self.CONTACT)

    def conversation_fields(self):
        return self.group(self.CONVERSATION)

    def capture_data(self, *, person=None, organization=None) -> CaptureData:
        """The cleaned values for the service (call after ``is_valid()``)."""
        values = self.cleaned_data
        return CaptureData(
            event=values["event"],
            salutation=values["salutation"],
            first_name=values["first_name"],
            last_name=values["last_name"],
            company=values["company"],
            job_title=values["job_title"],
            email=values["email"],
            phone=values["phone"],
            mobile=values["mobile"],
            interests=values["interests"],
            notes=values["notes"],
            consent=values["consent"],
            follow_up=values["follow_up"],
            follow_up_days=values["follow_up_days"],
            assignee=values["assignee"],
            person=person,
            organization=organization,
        )

    def probe_data(self) -> CaptureData:
        """What is typed so far, unchecked: for the matches while typing."""
        get = self.data.get
        return CaptureData(
            event="",
            first_name=get("first_name", ""),
            last_name=get("last_name", ""),
            company=get("company", ""),
            email=get("email", ""),
            phone=get("phone", ""),
            mobile=get("mobile", ""),
        )
