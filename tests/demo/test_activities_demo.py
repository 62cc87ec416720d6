import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from kontor.activities.models import Activity, ActivityKind, Appointment, Task
from kontor.core import search
from kontor.core.models import User
from kontor.customers.models import Organization, Person
from kontor.demo import activities as demo_activities
from kontor.mail.models import EmailTemplate

pytestmark = pytest.mark.django_db

PERSONS = 40


@pytest.fixture
def loaded():
    out = StringIO()
    call_command("demo", "--persons", str(PERSONS), stdout=out)
    return out.getvalue()


def test_demo_loads_the_contact_history(loaded):
    timeline = demo_activities.TIMELINE_ACTIVITIES_SMALL_LOAD
    assert Activity.objects.count() == PERSONS * demo_activities.ACTIVITIES_PER_PERSON + timeline
    assert f"{PERSONS * demo_activities.ACTIVITIES_PER_PERSON:,} activities" in loaded
    # the counts of the customers stay as asked
    assert Person.objects.count() == PERSONS
    # every kind, with German subjects, authors among the demo users
    assert set(Activity.objects.values_list("kind", flat=True)) == set(ActivityKind.values)
    assert Activity.objects.filter(subject="Jahresgespräch").exists()
    assert not Activity.objects.filter(author=None).exists()
    assert set(Activity.objects.values_list("author__username", flat=True)) <= {
        u.username for u in User.objects.all()
    }
    # as activity_create does: on a person at an organization, linked to it as well
    with_org = Activity.objects.filter(person__organization__isnull=False)
    assert with_org.exists()
    assert not with_org.exclude(organization=F("person__organization")).exists()
    assert not Activity.objects.filter(person=None, organization=None).exists()
    assert Activity.objects.filter(person=None).exists()  # some on an organization only
    texts = Activity.objects.filter(kind=ActivityKind.EMAIL).values_list("text", flat=True)
    assert any("\n\n" in t for t in texts)


def test_the_timeline_customer_has_exactly_its_own_activities(loaded):
    person = Person.objects.get(email="erika.mustermann@musterkunde.de")
    organization = person.organization
    assert (person.first_name, person.last_name) == ("Erika", "Mustermann")
    assert organization.name == "Musterkunde GmbH"
    assert person.owner.username == organization.owner.username == "rep"
    assert person.team == organization.team == person.owner.teams.first()
    timeline = demo_activities.TIMELINE_ACTIVITIES_SMALL_LOAD
    assert Activity.objects.filter(person=person).count() == timeline
    assert Activity.objects.filter(organization=organization).count() == timeline
    # findable by the global search
    rep = User.objects.get(username="rep")
    found = search.search(user=rep, q="Musterkunde")
    assert organization.uuid in {hit.uuid for group in found.groups for hit in group.hits}
    found = search.search(user=rep, q="Erika Mustermann")
    assert person.uuid in {hit.uuid for group in found.groups for hit in group.hits}


def test_a_second_load_makes_no_second_timeline(loaded):
    call_command("demo", "--persons", "20", stdout=StringIO())
    assert Person.objects.filter(email="erika.mustermann@musterkunde.de").count() == 1
    assert Organization.objects.filter(name="Musterkunde GmbH").count() == 1


def test_demo_users_have_appointments_and_tasks(loaded):
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    rep = User.objects.get(username="rep")
    appointments = Appointment.objects.filter(owner=rep)
    assert appointments.count() == 6
    for appointment in appointments:
        day = timezone.localtime(appointment.starts_at).date()
        assert monday <= day < monday + dt.timedelta(days=14)
        assert appointment.ends_at > appointment.starts_at
        assert appointment.attendees.filter(pk=rep.pk).exists()
    assert appointments.filter(person__isnull=False).exists()
    # rep's calendar shows the timeline customer too
    assert appointments.filter(person__email="erika.mustermann@musterkunde.de").exists()
    tasks = Task.objects.filter(owner=rep)
    assert tasks.filter(due_date__lt=today).exists()
    assert tasks.filter(due_date=today).exists()
    assert tasks.filter(due_date__gt=today).exists()
    assert tasks.exclude(recurrence="").count() == 1
    assert not Task.objects.filter(owner__username="readonly").exists()


def test_demo_has_the_follow_up_template():
    call_command("demo", "--persons", "20", stdout=StringIO())
    template = EmailTemplate.objects.get(name="Nachfass-Mail nach der Messe")
    assert template.owner is None
    assert "{{ person.letter_salutation }}" in template.body
    assert "{{ notes.latest }}" in template.body
    call_command("demo", "--persons", "20", stdout=StringIO())
    assert EmailTemplate.objects.filter(name="Nachfass-Mail nach der Messe").count() == 1


def test_sizes():
    assert demo_activities.ACTIVITY_COUNTS == {
        "small": 5_000,
        "medium": 300_000,
        "large": 10_000_000,
    }
    assert demo_activities.TIMELINE_ACTIVITIES == 10_000
