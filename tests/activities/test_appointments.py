"""Appointment services: local times and DST, validation, who may, the audit trail,
optimistic locking, invitations after commit, cancel, the visit report (once) and
the reminders (real SMTP, idempotent)."""

import datetime as dt
import zoneinfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from kontor.activities.models import Activity, ActivityKind, Appointment, AppointmentStatus
from kontor.activities.services import appointments as services
from kontor.core.models import AuditAction, AuditEntry
from tests.activities.factories import AppointmentFactory
from tests.core.factories import UserFactory
from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by

pytestmark = pytest.mark.django_db

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
UTC = dt.UTC


def local(*args) -> dt.datetime:
    return dt.datetime(*args)


def state():
    """Everything an appointment action could change."""
    return (
        list(Appointment.objects.order_by("pk").values()),
        Activity.objects.count(),
        AuditEntry.objects.count(),
    )


@pytest.fixture
def person(owner):
    return owned_by(PersonFactory, owner, last_name="Muster")


def create(actor, **kwargs):
    values = {
        "title": "Besuch",
        "starts_at": local(2027, 6, 2, 10, 0),
        "ends_at": local(2027, 6, 2, 11, 30),
        "time_zone": "Europe/Berlin",
    }
    values.update(kwargs)
    return services.appointment_create(actor=actor, **values)


# --- Times --------------------------------------------------------------------------------


def test_local_times_are_read_in_the_given_zone_and_stored_in_utc(owner):
    appointment = create(owner)
    assert appointment.starts_at == dt.datetime(2027, 6, 2, 8, 0, tzinfo=UTC)
    assert appointment.ends_at == dt.datetime(2027, 6, 2, 9, 30, tzinfo=UTC)
    assert (appointment.owner, appointment.status) == (owner, AppointmentStatus.PLANNED)


def test_local_times_default_to_the_actors_time_zone(owner):
    owner.time_zone = "America/New_York"
    appointment = create(owner, time_zone=None)
    assert appointment.starts_at == dt.datetime(2027, 6, 2, 14, 0, tzinfo=UTC)


def test_a_time_in_the_dst_gap_is_refused_and_nothing_saved(owner):
    with pytest.raises(ValidationError) as exc:
        create(owner, starts_at=local(2027, 3, 28, 2, 30), ends_at=local(2027, 3, 28, 3, 30))
    assert exc.value.message_dict == {
        "starts_at": ["This time does not exist in Europe/Berlin because the clocks change."]
    }
    assert Appointment.objects.count() == 0


def test_an_ambiguous_time_takes_its_first_occurrence(owner):
    # 2027-10-31 02:30 happens twice in Berlin: first in summer time (UTC+2).
    appointment = create(
        owner, starts_at=local(2027, 10, 31, 2, 30), ends_at=local(2027, 10, 31, 4, 0)
    )
    assert appointment.starts_at == dt.datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    assert appointment.ends_at == dt.datetime(2027, 10, 31, 3, 0, tzinfo=UTC)


def test_aware_times_are_taken_as_they_are(owner):
    start = dt.datetime(2027, 6, 2, 8, 0, tzinfo=UTC)
    appointment = create(owner, starts_at=start, ends_at=start + dt.timedelta(hours=1))
    assert appointment.starts_at == start


def test_an_end_before_the_start_is_refused(owner):
    with pytest.raises(ValidationError) as exc:
        create(owner, starts_at=local(2027, 6, 2, 10, 0), ends_at=local(2027, 6, 2, 9, 0))
    assert exc.value.message_dict == {"ends_at": ["The end is before the start."]}
    assert Appointment.objects.count() == 0


def test_an_absurd_duration_is_refused(owner):
    with pytest.raises(ValidationError) as exc:
        create(owner, starts_at=local(2027, 6, 1, 10, 0), ends_at=local(2027, 6, 16, 10, 0))
    assert exc.value.message_dict == {"ends_at": ["An appointment can last at most 14 days."]}


def test_an_unknown_time_zone_is_a_field_error(owner):
    with pytest.raises(ValidationError) as exc:
        create(owner, time_zone="Mars/Olympus")
    assert exc.value.message_dict == {"time_zone": ["Unknown time zone: Mars/Olympus."]}


def test_all_day_runs_from_local_midnight_to_the_midnight_after_the_last_day(owner):
    appointment = create(
        owner, all_day=True, starts_at=dt.date(2027, 6, 2), ends_at=dt.date(2027, 6, 3)
    )
    assert appointment.all_day is True
    assert appointment.starts_at == dt.datetime(2027, 6, 1, 22, 0, tzinfo=UTC)
    assert appointment.ends_at == dt.datetime(2027, 6, 3, 22, 0, tzinfo=UTC)


def test_all_day_with_the_last_day_before_the_first_is_refused(owner):
    with pytest.raises(ValidationError) as exc:
        create(owner, all_day=True, starts_at=dt.date(2027, 6, 2), ends_at=dt.date(2027, 6, 1))
    assert exc.value.message_dict == {"ends_at": ["The last day is before the first day."]}


def test_the_reminder_is_due_its_minutes_before_the_start(owner):
    appointment = create(owner, reminder_minutes=30)
    assert appointment.reminder_due_at == dt.datetime(2027, 6, 2, 7, 30, tzinfo=UTC)
    assert create(owner).reminder_due_at is None


# --- Who may, audit -----------------------------------------------------------------------


def test_create_is_audited_with_the_attendees(owner, teammate, person):
    appointment = create(owner, attendees=[teammate], person=person)
    entry = AuditEntry.objects.get(object_id=appointment.pk, action=AuditAction.CREATE)
    assert entry.changes["attendees"] == [[], [str(teammate)]]
    assert entry.changes["title"] == [None, "Besuch"]
    assert list(appointment.attendees.all()) == [teammate]
    assert appointment.team == owner.primary_team


def test_a_person_at_an_organization_links_the_organization_too(owner):
    organization = owned_by(OrganizationFactory, owner)
    person = owned_by(PersonFactory, owner, organization=organization)
    appointment = create(owner, person=person)
    assert (appointment.person, appointment.organization) == (person, organization)


def test_read_only_users_cannot_plan_appointments(readonly):
    with pytest.raises(PermissionDenied):
        create(readonly)
    assert state() == ([], 0, 0)


def test_a_customer_the_actor_cannot_see_is_404_and_nothing_saved(outsider, person):
    with pytest.raises(Http404):
        create(outsider, person=person)
    assert Appointment.objects.count() == 0


def test_inactive_users_cannot_attend(owner):
    gone = UserFactory(username="gone", is_active=False)
    with pytest.raises(ValidationError) as exc:
        create(owner, attendees=[gone])
    assert list(exc.value.message_dict) == ["attendees"]
    assert Appointment.objects.count() == 0


def test_external_attendees_must_be_visible(owner, outsider, person):
    with pytest.raises(ValidationError) as exc:
        create(outsider, external_attendees=[person])
    assert exc.value.message_dict == {"external_attendees": ["Choose persons you may see."]}


def test_an_outsider_cannot_change_anothers_appointment(owner, outsider):
    appointment = create(owner)
    before = state()
    with pytest.raises(Http404):
        services.appointment_update(actor=outsider, appointment=appointment, data={"title": "x"})
    with pytest.raises(Http404):
        services.appointment_cancel(actor=outsider, appointment=appointment)
    assert state() == before


def test_an_attendee_from_another_team_sees_and_may_change_it(owner, outsider):
    appointment = create(owner, attendees=[outsider])
    assert list(Appointment.objects.visible_to(outsider)) == [appointment]
    updated = services.appointment_update(
        actor=outsider, appointment=appointment, data={"location": "Hamburg"}
    )
    assert updated.location == "Hamburg"


# --- Update -------------------------------------------------------------------------------


def test_update_changes_audits_and_raises_the_version(owner, teammate):
    appointment = create(owner, reminder_minutes=15)
    updated = services.appointment_update(
        actor=owner,
        appointment=appointment,
        data={
            "title": "Neuer Titel",
            "starts_at": local(2027, 6, 3, 14, 0),
            "ends_at": local(2027, 6, 3, 15, 0),
            "attendees": [teammate],
        },
        version=1,
        time_zone="Europe/Berlin",
    )
    assert (updated.title, updated.version) == ("Neuer Titel", 2)
    assert updated.starts_at == dt.datetime(2027, 6, 3, 12, 0, tzinfo=UTC)
    assert updated.reminder_due_at == dt.datetime(2027, 6, 3, 11, 45, tzinfo=UTC)
    entry = AuditEntry.objects.get(object_id=appointment.pk, action=AuditAction.UPDATE)
    assert entry.changes["title"] == ["Besuch", "Neuer Titel"]
    assert entry.changes["attendees"] == [[], [str(teammate)]]


def test_a_stale_version_is_a_conflict_and_nothing_changes(owner):
    appointment = create(owner)
    services.appointment_update(actor=owner, appointment=appointment, data={"title": "A"})
    before = state()
    with pytest.raises(services.AppointmentConflict) as exc:
        services.appointment_update(
            actor=owner, appointment=appointment, data={"title": "B"}, version=1
        )
    assert exc.value.current.version == 2
    assert state() == before


def test_moving_the_start_rearms_a_sent_reminder(owner):
    appointment = create(owner, reminder_minutes=10)
    Appointment.objects.filter(pk=appointment.pk).update(
        reminder_sent_at=dt.datetime(2027, 6, 2, 7, 50, tzinfo=UTC)
    )
    updated = services.appointment_update(
        actor=owner,
        appointment=appointment,
        data={"starts_at": local(2027, 6, 2, 12, 0), "ends_at": local(2027, 6, 2, 13, 0)},
        time_zone="Europe/Berlin",
    )
    assert updated.reminder_sent_at is None
    assert updated.reminder_due_at == dt.datetime(2027, 6, 2, 9, 50, tzinfo=UTC)


def test_changing_only_the_title_keeps_a_sent_reminder_sent(owner):
    appointment = create(owner, reminder_minutes=10)
    sent = dt.datetime(2027, 6, 2, 7, 50, tzinfo=UTC)
    Appointment.objects.filter(pk=appointment.pk).update(reminder_sent_at=sent)
    updated = services.appointment_update(actor=owner, appointment=appointment, data={"title": "x"})
    assert updated.reminder_sent_at == sent


def test_unknown_fields_are_refused(owner):
    appointment = create(owner)
    with pytest.raises(ValidationError) as exc:
        services.appointment_update(actor=owner, appointment=appointment, data={"owner": None})
    assert exc.value.message_dict == {"owner": ["This field cannot be changed."]}


# --- Invitations --------------------------------------------------------------------------


def test_invitations_are_sent_after_commit_and_raise_the_sequence(
    owner, teammate, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        appointment = create(owner, attendees=[teammate], send_invitations=True)
    assert len(callbacks) == 1
    assert appointment.sequence == 0
    with django_capture_on_commit_callbacks() as callbacks:
        updated = services.appointment_update(
            actor=owner, appointment=appointment, data={"title": "x"}, send_invitations=True
        )
    assert (len(callbacks), updated.sequence) == (1, 1)
    with django_capture_on_commit_callbacks() as callbacks:
        cancelled = services.appointment_cancel(
            actor=owner, appointment=appointment, send_invitations=True
        )
    assert (len(callbacks), cancelled.sequence) == (1, 2)


def test_no_invitations_without_the_option(owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        appointment = create(owner)
        services.appointment_update(actor=owner, appointment=appointment, data={"title": "x"})
    assert callbacks == []
    assert Appointment.objects.get().sequence == 0


# --- Cancel -------------------------------------------------------------------------------


def test_cancel_keeps_the_reason_and_is_audited(owner):
    appointment = create(owner, description="Agenda")
    cancelled = services.appointment_cancel(
        actor=owner, appointment=appointment, reason="Kunde krank"
    )
    assert cancelled.status == AppointmentStatus.CANCELLED
    assert cancelled.description == "Agenda\n\nCancelled: Kunde krank"
    entry = AuditEntry.objects.get(object_id=appointment.pk, action=AuditAction.UPDATE)
    assert entry.changes["status"] == ["planned", "cancelled"]


def test_a_cancelled_appointment_is_not_cancelled_again_or_changed(owner):
    appointment = create(owner)
    services.appointment_cancel(actor=owner, appointment=appointment)
    before = state()
    with pytest.raises(ValidationError) as exc:
        services.appointment_cancel(actor=owner, appointment=appointment)
    assert exc.value.message_dict == {"status": ["Only a planned appointment can be cancelled."]}
    with pytest.raises(ValidationError):
        services.appointment_update(actor=owner, appointment=appointment, data={"title": "x"})
    assert state() == before


# --- Visit report -------------------------------------------------------------------------


def test_the_visit_report_is_an_activity_with_the_participants(owner, teammate, person):
    guest = owned_by(PersonFactory, owner)
    appointment = create(owner, person=person, attendees=[teammate], external_attendees=[guest])
    activity = services.appointment_report(
        actor=owner, appointment=appointment, text="Gut gelaufen", outcome="Angebot"
    )
    assert (activity.kind, activity.subject, activity.text, activity.outcome) == (
        ActivityKind.VISIT,
        "Besuch",
        "Gut gelaufen",
        "Angebot",
    )
    assert (activity.occurred_at, activity.duration_minutes) == (appointment.starts_at, 90)
    assert (activity.person, activity.author) == (person, owner)
    assert set(activity.internal_participants.all()) == {owner, teammate}
    assert list(activity.external_participants.all()) == [guest]
    appointment.refresh_from_db()
    assert (appointment.report, appointment.status) == (activity, AppointmentStatus.HELD)


def test_a_second_report_is_refused_clearly(owner, person):
    appointment = create(owner, person=person)
    services.appointment_report(actor=owner, appointment=appointment, kind=ActivityKind.MEETING)
    before = state()
    with pytest.raises(ValidationError) as exc:
        services.appointment_report(actor=owner, appointment=appointment)
    assert exc.value.message_dict == {
        "report": ["A visit report has already been written for this appointment."]
    }
    assert state() == before


def test_a_report_needs_a_customer(owner):
    appointment = create(owner)
    with pytest.raises(ValidationError) as exc:
        services.appointment_report(actor=owner, appointment=appointment)
    assert list(exc.value.message_dict) == ["report"]
    assert Activity.objects.count() == 0


def test_a_cancelled_appointment_gets_no_report(owner, person):
    appointment = create(owner, person=person)
    services.appointment_cancel(actor=owner, appointment=appointment)
    with pytest.raises(ValidationError):
        services.appointment_report(actor=owner, appointment=appointment)
    assert Activity.objects.count() == 0


# --- Reminders ----------------------------------------------------------------------------


NOW = dt.datetime(2027, 6, 2, 7, 45, tzinfo=UTC)  # 09:45 in Berlin


def test_due_reminders_are_mailed_once_each_in_the_users_language_and_zone(
    owner, teammate, person, smtp_sink
):
    owner.language, owner.time_zone = "de", "Europe/Berlin"
    owner.save()
    teammate.language, teammate.time_zone = "en", "Europe/London"
    teammate.save()
    appointment = create(
        owner, person=person, attendees=[teammate], reminder_minutes=30, location="Raum 1"
    )
    create(owner, title="Später", starts_at=local(2027, 6, 2, 12), ends_at=local(2027, 6, 2, 13),
           reminder_minutes=30)  # fmt: skip
    assert services.appointment_reminders_send(now=NOW) == 1
    by_recipient = {m["To"]: m for m in smtp_sink.messages}
    assert sorted(by_recipient) == ["owner@example.com", "teammate@example.com"]
    german = by_recipient["owner@example.com"]
    english = by_recipient["teammate@example.com"]
    # German dates and times; the German wording comes with the translations.
    assert german["Subject"].strip().endswith("Besuch, 02.06.2027 10:00 – 11:30")
    assert english["Subject"].strip() == "Reminder: Besuch, 06/02/2027 9 a.m. – 10:30 a.m."
    assert "Raum 1" in english.get_content()
    assert appointment.get_absolute_url() in english.get_content()
    assert Appointment.objects.get(pk=appointment.pk).reminder_sent_at == NOW
    # A second run (or a second worker) sends nothing more.
    assert services.appointment_reminders_send(now=NOW + dt.timedelta(minutes=1)) == 0
    assert len(smtp_sink.messages) == 2


def test_a_reminder_claimed_by_another_worker_is_not_sent(owner, smtp_sink):
    appointment = create(owner, reminder_minutes=30)
    # The other worker's conditional UPDATE got there first.
    Appointment.objects.filter(pk=appointment.pk).update(reminder_sent_at=NOW)
    assert services.appointment_reminders_send(now=NOW) == 0
    assert smtp_sink.messages == []


def test_cancelled_and_past_appointments_are_not_reminded(owner, smtp_sink):
    cancelled = create(owner, reminder_minutes=30)
    services.appointment_cancel(actor=owner, appointment=cancelled)
    over = AppointmentFactory(
        owner=owner,
        starts_at=NOW - dt.timedelta(hours=3),
        ends_at=NOW - dt.timedelta(hours=2),
        reminder_minutes=10,
        reminder_due_at=NOW - dt.timedelta(hours=3, minutes=10),
    )
    assert services.appointment_reminders_send(now=NOW) == 0
    assert smtp_sink.messages == []
    over.refresh_from_db()
    assert over.reminder_sent_at == NOW
