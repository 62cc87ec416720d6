"""Formatting customer data for people: ``{{ person.phone|phone }}``."""

from django import template

from kontor.customers import contact_data

register = template.Library()


@register.filter
def phone(value: str) -> str:
    """A stored E.164 number as people write it (0221 123456 / +43 1 234567)."""
    return contact_data.phone_display(value)
