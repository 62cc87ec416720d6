"""Reads on appointments, shared by the calendar, the appointment pages, the 360°
section and the API. Every list starts from ``Appointment.objects.visible_to(user)``."""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from kontor.activities.models import Appointment
from kontor.core.access import get_object_for_user
from kontor.customers.models import Organization, Person

RELATED = ("owner", "person", "organization", "report")


def appointments_visible(*, user) -> QuerySet[Appointment]:
    """What ``user`` may see, with what a list shows loaded in a fixed number of
    queries: of the external attendees only those ``user`` may see (attending does
    not make a person one of the appointment's customers, so one of another team is
    not named — as on the detail page; a change keeps them)."""
    return (
        Appointment.objects.visible_to(user)
        .select_related(*RELATED)
        .prefetch_related("attendees", external_attendees_visible_to(user))
    )


def external_attendees_visible_to(user) -> Prefetch:
    """The external attendees to load with appointments: those ``user`` may see."""
    return Prefetch("external_attendees", queryset=Person.objects.visible_to(user))


def appointment_get(*, user, uuid) -> Appointment:
    """The appointment if ``user`` may see it; 404 otherwise."""
    return get_object_for_user(Appointment, user, related=RELATED, uuid=uuid)


def overlapping(queryset: QuerySet, *, start: datetime, end: datetime) -> QuerySet:
    """Appointments that touch [start, end): they start before its end and end after
    its start (a zero-length one at ``start`` counts too)."""
    return queryset.filter(Q(starts_at__lt=end) & (Q(ends_at__gt=start) | Q(starts_at__gte=start)))


def involving(queryset: QuerySet, *, users) -> QuerySet:
    """Appointments organised or attended by any of ``users``."""
    ids = [u.pk for u in users]
    attending = Appointment.attendees.through.objects.filter(user_id__in=ids).values(
        "appointment_id"
    )
    return queryset.filter(Q(owner_id__in=ids) | Q(pk__in=attending))


def calendar_appointments(*, user, start: datetime, end: datetime, people) -> list[Appointment]:
    """The appointments of ``people`` between ``start`` and ``end`` that ``user`` may
    see (cancelled ones too: the calendar strikes them through), by start."""
    rows = overlapping(
        involving(appointments_visible(user=user), users=people), start=start, end=end
    ).order_by("starts_at", "id")
    return list(rows)


def calendar_people():
    """Everybody one may open the calendar of: the active users."""
    return get_user_model().objects.filter(is_active=True).order_by("username")


def customer_appointments(
    *, user, customer: Person | Organization, upcoming: int = 10, past: int = 5
) -> tuple[list[Appointment], list[Appointment]]:
    """The next ``upcoming`` and the last ``past`` appointments with ``customer`` (linked,
    or the person attends; for an organization also its persons attending)."""
    if isinstance(customer, Person):
        link = Q(person=customer) | Q(
            pk__in=Appointment.external_attendees.through.objects.filter(
                person_id=customer.pk
            ).values("appointment_id")
        )
    else:
        link = Q(organization=customer) | Q(
            pk__in=Appointment.external_attendees.through.objects.filter(
                person__organization_id=customer.pk
            ).values("appointment_id")
        )
    base = appointments_visible(user=user).filter(link)
    now = timezone.now()
    coming = list(base.filter(ends_at__gte=now).order_by("starts_at", "id")[:upcoming])
    gone = list(base.filter(ends_at__lt=now).order_by("-starts_at", "-id")[:past])
    return coming, gone
