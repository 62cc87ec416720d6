"""Forms of the process editor. They validate input only; the writes happen in
kontor.processes.services.definitions (which checks everything again)."""

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from kontor.core.nul_guard import NUL_MESSAGE, nul_path
from kontor.processes.models import (
    ActivityType,
    Grade,
    Lane,
    Responsible,
    Step,
    SubjectKind,
    TriggerKind,
)


def _limit_triggers(form: forms.Form, current: str | None = None) -> None:
    """Offer only the triggers that can fire here (and the version's current one)."""
    from kontor.processes.triggers import available_triggers

    allowed = {*available_triggers(), *([current] if current else [])}
    field = form.fields["trigger"]
    field.choices = [(value, label) for value, label in TriggerKind.choices if value in allowed]


class _JSONObjectField(forms.JSONField):
    """Optional JSON that must be an object; empty means {}."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 2}))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise forms.ValidationError(_('Enter a JSON object, e.g. {"months": 12}.'))
        if nul_path(value) is not None:  # typed as \u0000; jsonb cannot hold it
            raise forms.ValidationError(NUL_MESSAGE)
        return value


class ProcessCreateForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=200)
    subject_kind = forms.ChoiceField(
        label=_("runs on"), choices=SubjectKind.choices, initial=SubjectKind.PERSON
    )
    goal = forms.CharField(
        label=_("goal"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_('What "done" means, e.g. "first order placed".'),
    )
    trigger = forms.ChoiceField(label=_("trigger"), choices=TriggerKind.choices)
    trigger_config = _JSONObjectField(
        label=_("trigger settings"),
        help_text=_('Optional, as JSON: e.g. {"months": 12} or {"source": "web"}.'),
    )
    description = forms.CharField(
        label=_("description"),
        max_length=20_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _limit_triggers(self)


class ProcessForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=200)


class VersionForm(forms.Form):
    goal = forms.CharField(
        label=_("goal"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_('What "done" means, e.g. "first order placed".'),
    )
    description = forms.CharField(
        label=_("description"),
        max_length=20_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    trigger = forms.ChoiceField(label=_("trigger"), choices=TriggerKind.choices)
    trigger_config = _JSONObjectField(
        label=_("trigger settings"),
        help_text=_('Optional, as JSON: e.g. {"months": 12} or {"source": "web"}.'),
    )
    lock_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _limit_triggers(self, self.initial.get("trigger"))


class StepForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=200)
    key = forms.SlugField(
        label=_("key"),
        max_length=60,
        required=False,
        help_text=_("Stable identifier (BPMN id). Leave empty to derive it from the name."),
    )
    description = forms.CharField(
        label=_("description"),
        max_length=10_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    lane = forms.ChoiceField(label=_("lane"), choices=Lane.choices, initial=Lane.SALES)
    responsible = forms.ChoiceField(
        label=_("responsible"), choices=Responsible.choices, initial=Responsible.RECORD_OWNER
    )
    deadline_days = forms.IntegerField(
        label=_("deadline (business days)"),
        min_value=0,
        max_value=365,
        required=False,
        help_text=_("From the step's start; German public holidays do not count."),
    )
    required_fields = forms.CharField(
        label=_("information needed"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_('One field per line, e.g. "person.email" or "custom.budget".'),
    )
    is_end = forms.BooleanField(label=_("ends the process"), required=False)
    goal_reached = forms.BooleanField(label=_("goal reached here"), required=False)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            # The key is the step's identity across versions: it does not change.
            del self.fields["key"]

    @classmethod
    def initial_for(cls, step: Step) -> dict:
        return {
            "name": step.name,
            "description": step.description,
            "lane": step.lane,
            "responsible": step.responsible,
            "deadline_days": step.deadline_days,
            "required_fields": "\n".join(step.required_fields or []),
            "is_end": step.is_end,
            "goal_reached": step.goal_reached,
        }

    def clean_required_fields(self) -> list[str]:
        text = self.cleaned_data.get("required_fields") or ""
        return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("key", None)
        return data


class TransitionForm(forms.Form):
    target = forms.ChoiceField(label=_("leads to"))
    label = forms.CharField(
        label=_("label"),
        max_length=200,
        required=False,
        help_text=_("What the user chooses, e.g. “Interested” — needed when a step branches."),
    )
    condition_field = forms.CharField(
        label=_("condition: field"),
        max_length=100,
        required=False,
        help_text=_('Optional, e.g. "person.lifecycle". Empty: the user chooses.'),
    )
    condition_equals = forms.CharField(
        label=_("condition: equals"),
        max_length=200,
        required=False,
        help_text=_("The value; true, false and numbers are read as such."),
    )

    def __init__(self, *args, steps: list[Step], **kwargs):
        super().__init__(*args, **kwargs)
        self.steps = {step.key: step for step in steps}
        self.fields["target"].choices = [(step.key, step.name) for step in steps]

    @staticmethod
    def initial_for(transition) -> dict:
        condition = transition.condition or {}
        equals = condition.get("equals", "")
        return {
            "target": transition.target.key,
            "label": transition.label,
            "condition_field": condition.get("field", ""),
            "condition_equals": equals if isinstance(equals, str) else json.dumps(equals),
        }

    def clean(self):
        cleaned = super().clean()
        field = (cleaned.get("condition_field") or "").strip()
        equals = (cleaned.get("condition_equals") or "").strip()
        if equals and not field:
            self.add_error("condition_field", _("Name the field the condition looks at."))
        condition = {}
        if field:
            try:
                value = json.loads(equals) if equals else ""
                if isinstance(value, dict | list):
                    value = equals
            except ValueError:
                value = equals
            condition = {"field": field, "equals": value}
        cleaned["condition"] = condition
        return cleaned

    def service_data(self) -> dict:
        return {
            "target": self.steps[self.cleaned_data["target"]],
            "label": self.cleaned_data["label"],
            "condition": self.cleaned_data["condition"],
        }


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(label=_("type"), choices=ActivityType.choices)
    title = forms.CharField(label=_("title"), max_length=200)
    description = forms.CharField(
        label=_("description"),
        max_length=10_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    grade = forms.ChoiceField(label=_("grade"), choices=Grade.choices, initial=Grade.MUST)
    required = forms.BooleanField(
        label=_("required to finish the step"), required=False, initial=True
    )
    config = _JSONObjectField(
        label=_("settings"),
        help_text=_(
            'Optional, as JSON: task {"priority": "high"}, e-mail {"template": "…", '
            '"send": true}, appointment {"duration_minutes": 60}, field {"field": "person.email"}.'
        ),
    )

    @staticmethod
    def initial_for(activity) -> dict:
        return {
            "kind": activity.kind,
            "title": activity.title,
            "description": activity.description,
            "grade": activity.grade,
            "required": activity.required,
            "config": activity.config,
        }
