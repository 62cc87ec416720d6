"""Forms for writing e-mails and for e-mail templates. They check the shape of the
input; the services check the rest (merge fields, permissions, the person's address)."""

from django import forms
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kontor.mail.services import outgoing, templates


class TemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=templates.NAME_MAX_LENGTH)
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        help_text=_("The letter salutation follows it; empty: the person's language."),
    )
    subject = forms.CharField(
        label=_("Subject"),
        max_length=templates.SUBJECT_MAX_LENGTH,
        widget=forms.TextInput(attrs={"data-merge-target": ""}),
    )
    body = forms.CharField(
        label=_("Text"),
        max_length=templates.BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 14, "data-merge-target": ""}),
        help_text=_("Merge fields such as {{ person.first_name }} are filled in for each person."),
    )
    shared = forms.BooleanField(
        label=_("Shared template (for everyone)"),
        required=False,
        help_text=_("Otherwise only you see this template."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, may_share: bool = False, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("The person's language")), *settings.LANGUAGES]
        if not may_share or editing:
            del self.fields["shared"]
        if not editing:
            del self.fields["version"]


class ComposeForm(forms.Form):
    template = forms.ChoiceField(label=_("Template"), required=False)
    subject = forms.CharField(
        label=_("Subject"),
        max_length=outgoing.SUBJECT_MAX_LENGTH,
        widget=forms.TextInput(attrs={"data-merge-target": ""}),
    )
    body = forms.CharField(
        label=_("Text"),
        max_length=outgoing.BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 16, "data-merge-target": ""}),
    )

    def __init__(self, *args, template_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [("", _("(no template)")), *template_choices]
        # Choosing a template fills subject and text for the person (htmx).
        self.fields["template"].widget.attrs.update(
            {
                "hx-get": reverse("mail:compose_fill"),
                "hx-include": "[name=person]",
                "hx-target": "#compose-fields",
                "hx-swap": "outerHTML",
            }
        )
