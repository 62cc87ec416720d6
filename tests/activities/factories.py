import datetime as dt

import factory
from django.utils import timezone

from kontor.activities.models import Activity, ActivityKind, Appointment, Task


class ActivityFactory(factory.django.DjangoModelFactory):
    """Give ``person`` or ``organization``: an activity needs a subject."""

    class Meta:
        model = Activity

    kind = ActivityKind.CALL
    subject = factory.Sequence(lambda n: f"Anruf {n}")
    occurred_at = factory.LazyFunction(timezone.now)


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appointment

    title = factory.Sequence(lambda n: f"Termin {n}")
    starts_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=1))
    ends_at = factory.LazyAttribute(lambda a: a.starts_at + dt.timedelta(hours=1))


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    title = factory.Sequence(lambda n: f"Wiedervorlage {n}")
    due_date = factory.LazyFunction(lambda: timezone.localdate())
