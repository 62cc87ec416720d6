"""Formatting customer data for people: ``{{ person.phone|phone }}``,
``{% organization_link person %}``."""

from django import template
from django.utils.html import conditional_escape, format_html

from kontor.customers import contact_data, queries

register = template.Library()


@register.filter
def phone(value: str) -> str:
    """A stored E.164 number as people write it (0221 123456 / +43 1 234567)."""
    return contact_data.phone_display(value)


@register.simple_tag
def organization_link(record, link: str = "organization", empty: str = "") -> str:
    """The organization ``record`` is linked to by ``link`` as a link to it; the
    neutral placeholder without name or link for one the viewer may not see;
    ``empty`` for none (customers.queries.with_organization_visibility)."""
    if queries.organization_hidden(record, link):
        return format_html('<span class="muted">{}</span>', queries.NOT_VISIBLE)
    organization = queries.linked_organization(record, link)
    if organization is None:
        return conditional_escape(empty)
    return format_html('<a href="{}">{}</a>', organization.get_absolute_url(), organization.name)


@register.simple_tag
def organization_name(record, link: str = "organization") -> str:
    """The linked organization's name as text (no link), the placeholder for one the
    viewer may not see, "" for none (customers.queries.with_organization_visibility)."""
    return queries.organization_text(record, link)
