"""Forms of incoming e-mail: a mailbox's settings, filing a waiting message."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kontor.core.models import Team
from kontor.mail import servers
from kontor.mail.models import ImapSecurity, Mailbox, MailboxKind


class MailboxForm(forms.ModelForm):
    """The password is never shown back: blank keeps the stored one (on edit)."""

    password = forms.CharField(
        label=_("password"),
        max_length=255,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    port = forms.IntegerField(
        label=_("port"), min_value=servers.PORT_MIN, max_value=servers.PORT_MAX, initial=993
    )

    class Meta:
        model = Mailbox
        # The password is a plain form field: model validation must not see a blank
        # one (= unchanged) on the instance.
        fields = [
            "name",
            "email_address",
            "kind",
            "team",
            "host",
            "port",
            "security",
            "username",
            "folder",
            "enabled",
        ]

    field_order = [
        "name", "email_address", "kind", "team", "host", "port", "security",
        "username", "password", "folder", "enabled",
    ]  # fmt: skip

    def __init__(self, *args, may_manage_team: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.order_by("name")
        self.fields["security"].choices = ImapSecurity.choices
        editing = self.instance.pk is not None
        if editing:
            # A mailbox does not change between shared and personal.
            del self.fields["kind"]
            self.fields["password"].help_text = _("Leave blank to keep the current password.")
        elif not may_manage_team:
            self.fields["kind"].choices = [(MailboxKind.PERSONAL, MailboxKind.PERSONAL.label)]
            self.fields["kind"].initial = MailboxKind.PERSONAL
        kind = self.instance.kind if editing else None
        if kind == MailboxKind.PERSONAL or (not editing and not may_manage_team):
            del self.fields["team"]
        if not editing:
            self.fields["password"].required = True
        self.fields["port"].help_text = _("993 for SSL/TLS, 143 for STARTTLS.")
        if not may_manage_team and servers.allowed_hosts():
            # Only the servers the administrator allows (kontor.mail.servers); the
            # service checks again.
            self.fields["host"].help_text = _("Allowed servers: %(hosts)s") % {
                "hosts": ", ".join(servers.allowed_hosts())
            }

    def values(self) -> dict:
        """The cleaned values for the services, without kind and password."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name not in ("kind", "password")
        }


class FileToForm(forms.Form):
    person = forms.UUIDField(label=_("person"))


class PersonSearchForm(forms.Form):
    q = forms.CharField(label=_("Find a person"), max_length=200, required=False)
