"""Forms of the account and administration pages. They validate input only; the
writes happen in kontor.core.services."""

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kontor.core import normalize, queries
from kontor.core.models import Role, Team, TokenScope, User
from kontor.core.models.users import time_zone_choices


class NormalizedInputMixin:
    """Text arrives as it will be stored: NFC everywhere, and the ``name_fields``
    without invisible format characters (core.normalize.clean_name). Done on the
    submitted data, before the fields clean it, so that a name of only spaces or
    invisible characters is refused as missing — as the API refuses it."""

    name_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            # A password is compared byte for byte: it stays as typed.
            secret = {
                name
                for name, field in self.fields.items()
                if isinstance(field.widget, forms.PasswordInput)
            }
            self.data = normalized_data(self.data, self.name_fields, keep=secret)


def normalized_data(data, name_fields=(), keep=frozenset()):
    """A copy of submitted form data in NFC, ``name_fields`` also cleaned as names;
    the fields in ``keep`` as they are."""
    data = data.copy()
    for key in list(data.keys()):
        if key in keep:
            continue
        clean = normalize.clean_name if key in name_fields else normalize.nfc
        values = data.getlist(key) if hasattr(data, "getlist") else [data[key]]
        values = [clean(v) if isinstance(v, str) else v for v in values]
        if hasattr(data, "setlist"):
            data.setlist(key, values)
        else:
            data[key] = values[0]
    return data


class TimeZoneField(forms.ChoiceField):
    def __init__(self, **kwargs):
        kwargs.setdefault("initial", User._meta.get_field("time_zone").default)
        super().__init__(label=_("time zone"), choices=time_zone_choices, **kwargs)


class UniqueEmailMixin:
    """Two accounts with one address would make the password link ambiguous."""

    def clean_email(self):
        email = self.cleaned_data.get("email", "").strip()
        if email:
            others = User.objects.filter(email__iexact=email)
            if self.instance.pk:
                others = others.exclude(pk=self.instance.pk)
            if others.exists():
                raise forms.ValidationError(_("Another user already uses this e-mail address."))
        return email


class UserForm(NormalizedInputMixin, UniqueEmailMixin, forms.ModelForm):
    """Edit a user (administration)."""

    name_fields = ("first_name", "last_name")

    time_zone = TimeZoneField()

    class Meta:
        model = User
        fields = [
            "username",
            "first_name",
            "last_name",
            "email",
            "role",
            "teams",
            "language",
            "time_zone",
        ]
        widgets = {"teams": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].required = True
        self.fields["role"].queryset = Role.objects.order_by("id")
        self.fields["teams"].queryset = Team.objects.order_by("name")

    def data_for_service(self) -> dict:
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class UserCreateForm(UserForm):
    """Create a user with an initial password, or mail them a link to set one."""

    LINK = "link"
    SET = "set"

    password_mode = forms.ChoiceField(
        label=_("Password"),
        choices=[
            (LINK, _("Send an e-mail with a link to set the password")),
            (SET, _("Set an initial password now")),
        ],
        initial=LINK,
        widget=forms.RadioSelect,
    )
    password = forms.CharField(
        label=_("Initial password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Only when the password is set now. Tell it to the user in person."),
    )

    def clean(self):
        cleaned = super().clean()
        mode = cleaned.get("password_mode")
        password = cleaned.get("password") or ""
        if mode == self.LINK:
            if not cleaned.get("email") and "email" not in self.errors:
                self.add_error("email", _("The link is sent to this address: enter one."))
            if password:
                self.add_error("password", _("Leave this empty when the link is sent by e-mail."))
        elif mode == self.SET:
            if not password:
                self.add_error("password", _("Enter the initial password."))
            else:
                candidate = User(
                    username=cleaned.get("username", ""),
                    first_name=cleaned.get("first_name", ""),
                    last_name=cleaned.get("last_name", ""),
                    email=cleaned.get("email", ""),
                )
                try:
                    password_validation.validate_password(password, candidate)
                except forms.ValidationError as exc:
                    self.add_error("password", exc)
        return cleaned


class TeamForm(forms.ModelForm):
    members = forms.ModelMultipleChoiceField(
        label=_("Members"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The team lead is always a member."),
    )

    class Meta:
        model = Team
        fields = ["name", "lead"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        users = queries.assignable_users(team=self.instance)
        self.fields["lead"].queryset = users
        self.fields["members"].queryset = users
        if self.instance.pk:
            self.initial.setdefault("members", list(self.instance.members.all()))

    def data_for_service(self) -> dict:
        return {
            "name": self.cleaned_data["name"],
            "lead": self.cleaned_data["lead"],
            "members": list(self.cleaned_data["members"]),
        }


class ProfileForm(NormalizedInputMixin, UniqueEmailMixin, forms.ModelForm):
    name_fields = ("first_name", "last_name")
    time_zone = TimeZoneField()

    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "language", "time_zone"]

    def data_for_service(self) -> dict:
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class TokenForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
    scope = forms.ChoiceField(label=_("scope"), choices=TokenScope.choices)


class OtpForm(forms.Form):
    code = forms.RegexField(
        label=_("Code from your authenticator app"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("Enter the six digits your app shows.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Also reaches users who never set a password (invited by an administrator
    whose first link expired): every Kontor account logs in with a password."""

    def get_users(self, email):
        return (
            user
            for user in User.objects.filter(email__iexact=email, is_active=True)
            if user.email.lower() == email.lower()
        )


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """A service's ValidationError on the form: each field's errors at that field when
    the form has it, everything else above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, errors)
