from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def percent(value) -> str:
    """0.4567 → "45.7 %" in the active locale; "—" for None."""
    if value is None:
        return "—"
    return f"{number_format(value * 100, 1)} %"


@register.filter
def span(value) -> str:
    """A duration as days and hours ("2 d 4 h"), or hours and minutes; "—" for None."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return _("%(days)s d %(hours)s h") % {"days": days, "hours": hours}
    return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}
