from django import forms
from django.utils.translation import gettext_lazy as _

from kontor.processes.models import AcceptanceStatus


class AcceptanceForm(forms.Form):
    """One requirement's acceptance on the acceptance page."""

    activity = forms.IntegerField(widget=forms.HiddenInput)
    acceptance = forms.ChoiceField(label=_("Acceptance"), choices=AcceptanceStatus.choices)
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
