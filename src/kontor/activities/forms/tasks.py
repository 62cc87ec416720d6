"""Forms for tasks: the full task form, the quick one of My day and of the 360°
section, and the task list's filters."""

from django import forms
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from kontor.activities.models import Recurrence, TaskPriority, TaskStatus
from kontor.activities.queries import tasks as queries
from kontor.activities.services.tasks import MAX_RECURRENCE_INTERVAL


class CustomerSelect(forms.Select):
    """A select of one customer, with a search box that fills its options (htmx,
    from activities:task_customer_options) — no list of every customer on the page."""

    def render(self, name, value, attrs=None, renderer=None):
        select = super().render(name, value, attrs, renderer)
        select_id = (attrs or {}).get("id") or self.attrs.get("id") or f"id_{name}"
        return format_html(
            '<input type="search" name="customer_q" class="customer-search" maxlength="100" '
            'autocomplete="off" placeholder="{}" aria-label="{}" aria-controls="{}" '
            'hx-get="{}" hx-trigger="input changed delay:300ms, search" hx-target="#{}" '
            'hx-swap="innerHTML" hx-include="this">{}',
            _("Search a customer…"),
            _("Search a customer"),
            select_id,
            reverse("activities:task_customer_options"),
            select_id,
            select,
        )


class CustomerField(forms.CharField):
    widget = CustomerSelect


def _user_label(user) -> str:
    return user.get_full_name() or user.get_username()


class AssigneeField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return _user_label(obj)


class _CustomerMixin:
    """The ``customer`` field: "person:<uuid>" / "organization:<uuid>", checked
    against what the user may see; cleaned to the record (or None)."""

    def _init_customer(self, user, customer=None) -> None:
        self.user = user
        field = self.fields["customer"]
        choices = [("", _("(no customer)"))]
        value = self.data.get(self.add_prefix("customer")) if self.is_bound else None
        record = queries.customer_get(user=user, value=value) if value else customer
        if record is not None:
            kind = "person" if record._meta.model_name == "person" else "organization"
            choices.append((f"{kind}:{record.uuid}", str(record)))
            if not self.is_bound:
                self.initial["customer"] = f"{kind}:{record.uuid}"
        field.widget.choices = choices

    def clean_customer(self):
        value = self.cleaned_data.get("customer") or ""
        if not value:
            return None
        record = queries.customer_get(user=self.user, value=value)
        if record is None:
            raise forms.ValidationError(_("Choose a customer from the list."))
        return record

    def customer_links(self) -> dict:
        record = self.cleaned_data.get("customer")
        if record is None:
            return {"person": None, "organization": None}
        if record._meta.model_name == "person":
            return {"person": record, "organization": None}
        return {"person": None, "organization": record}


def _date_widget():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class TaskForm(_CustomerMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    due_date = forms.DateField(label=_("Due date"), widget=_date_widget())
    due_time = forms.TimeField(
        label=_("Due time"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    priority = forms.ChoiceField(
        label=_("Priority"), choices=TaskPriority.choices, initial=TaskPriority.NORMAL
    )
    assignee = AssigneeField(label=_("Assigned to"), queryset=None)
    customer = CustomerField(label=_("Customer"), required=False)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    recurrence = forms.ChoiceField(label=_("Repeats"), choices=Recurrence.choices, required=False)
    recurrence_interval = forms.IntegerField(
        label=_("Every"),
        min_value=1,
        max_value=MAX_RECURRENCE_INTERVAL,
        initial=1,
        help_text=_("Days, weeks, months or years, as chosen under Repeats."),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, customer=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = get_user_model().objects.filter(is_active=True)
        if not self.is_bound and "assignee" not in self.initial:
            self.initial["assignee"] = user.pk
        if not self.is_bound and "due_date" not in self.initial:
            self.initial["due_date"] = timezone.localdate()
        self._init_customer(user, customer)

    def service_data(self) -> dict:
        data = {
            name: self.cleaned_data[name]
            for name in (
                "title",
                "description",
                "due_date",
                "due_time",
                "priority",
                "assignee",
                "recurrence",
                "recurrence_interval",
            )
        }
        data["recurrence"] = data["recurrence"] or ""
        return {**data, **self.customer_links()}


class QuickTaskForm(_CustomerMixin, forms.Form):
    """My day's "new task": title, due date (today), priority, a customer."""

    title = forms.CharField(label=_("Title"), max_length=200)
    due_date = forms.DateField(label=_("Due date"), widget=_date_widget())
    priority = forms.ChoiceField(
        label=_("Priority"), choices=TaskPriority.choices, initial=TaskPriority.NORMAL
    )
    customer = CustomerField(label=_("Customer"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("due_date", timezone.localdate())
        self._init_customer(user)


class FollowUpForm(forms.Form):
    """The 360° section's "add follow-up": the customer is the page's."""

    title = forms.CharField(label=_("Follow-up"), max_length=200)
    due_date = forms.DateField(label=_("Due date"), widget=_date_widget())
    priority = forms.ChoiceField(
        label=_("Priority"), choices=TaskPriority.choices, initial=TaskPriority.NORMAL
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("due_date", timezone.localdate())


ASSIGNEE_ME = "me"
ASSIGNEE_TEAM = "team"


class TaskFilterForm(forms.Form):
    """The task list's filters (GET). ``assignee``: me, my team, everyone or a user."""

    assignee = forms.ChoiceField(label=_("Assigned to"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any")), *TaskStatus.choices],
    )
    due_after = forms.DateField(label=_("Due from"), required=False, widget=_date_widget())
    due_before = forms.DateField(label=_("Due until"), required=False, widget=_date_widget())
    priority = forms.ChoiceField(
        label=_("Priority"), required=False, choices=[("", _("Any")), *TaskPriority.choices]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.filter(is_active=True).order_by("username")
        self.fields["assignee"].choices = [
            (ASSIGNEE_ME, _("Me")),
            (ASSIGNEE_TEAM, _("My team")),
            ("", _("Everyone I can see")),
            *((u.username, _user_label(u)) for u in users),
        ]

    def query_kwargs(self, user) -> dict:
        """Arguments for queries.task_list; call after is_valid()."""
        data = self.cleaned_data
        assignee = data.get("assignee") or None
        if assignee not in (None, ASSIGNEE_ME, ASSIGNEE_TEAM):
            assignee = get_user_model().objects.filter(username=assignee).first()
        return {
            "assignee": assignee,
            "status": data.get("status") or "",
            "due_after": data.get("due_after"),
            "due_before": data.get("due_before"),
            "priority": data.get("priority") or "",
        }
