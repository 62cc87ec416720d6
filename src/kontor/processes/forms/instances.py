"""The form that fills in a field a process step asks for. It only renders the field
and shows its errors: the value is checked and written by the engine
(kontor.processes.services.instances.item_fill / field_fill), like every customer edit."""

from django import forms


class FieldValueForm(forms.Form):
    """One ``value`` field, built from the customer field it fills."""

    def __init__(self, *args, field: forms.Field, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["value"] = field

    def raw_value(self):
        """What was entered, as the widget read it (a list for several choices)."""
        return self["value"].data
