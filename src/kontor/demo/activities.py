"""The activities in the demo data: the contact history of the customers this load
made, in bulk (``RowWriter``: COPY on PostgreSQL, ``executemany`` elsewhere), plus
what a demo user sees on their first day — appointments this week and next, tasks
overdue, due today and coming up — and a shared e-mail template.

Sizes: about 5 activities per person for small (5,000), 300,000 for medium and
10 million for large. One customer, "Musterkunde GmbH" with Erika Mustermann (owned by
the benchmark user ``rep``), carries exactly 10,000 activities for the timeline
benchmark. As ``activity_create`` does, an activity on a person at an organization is
linked to that organization too.
"""

import random
import time
from array import array
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.utils import timezone

from kontor.activities.models import (
    Activity,
    ActivityKind,
    Appointment,
    Direction,
    Recurrence,
    Task,
    TaskPriority,
)
from kontor.core.permissions import RoleCode
from kontor.customers.duplicates import derive_keys
from kontor.customers.models import Gender, Organization, Person, Salutation
from kontor.demo import tables
from kontor.mail.models import EmailTemplate

ACTIVITY_COUNTS = {"small": 5_000, "medium": 300_000, "large": 10_000_000}
ACTIVITIES_PER_PERSON = 5  # loads with an exact number of persons (tests)
TIMELINE_ACTIVITIES = 10_000
TIMELINE_ACTIVITIES_SMALL_LOAD = 100  # for loads with an exact number of persons
ORGANIZATION_ONLY_SHARE = 0.15  # activities on an organization, no person
HISTORY_DAYS = 3 * 365
TIMELINE_OWNER = "rep"  # the benchmark user (bench/run.py) must see the timeline customer

TIMELINE_ORGANIZATION = "Musterkunde GmbH"
TIMELINE_PERSON = ("Erika", "Mustermann", "erika.mustermann@musterkunde.de")

# (kind, direction, subject, text, outcome, (min, max) minutes or None)
ACTIVITY_TEMPLATES = [
    (
        ActivityKind.CALL,
        Direction.OUTGOING,
        "Nachfassen zum Angebot",
        "Angebot besprochen. Preis passt grundsätzlich, Lieferzeit ist kritisch.\n"
        "Kunde meldet sich nach der internen Abstimmung.",
        "Rückruf in zwei Wochen",
        (5, 25),
    ),
    (
        ActivityKind.CALL,
        Direction.INCOMING,
        "Rückfrage zur Lieferung",
        "Kunde fragt nach dem Liefertermin der Teilelieferung. Termin bestätigt.",
        "erledigt",
        (3, 15),
    ),
    (
        ActivityKind.CALL,
        Direction.OUTGOING,
        "Terminvereinbarung Vor-Ort-Besuch",
        "Besuchstermin für die Vorführung der neuen Maschine vereinbart.",
        "Termin vereinbart",
        (5, 10),
    ),
    (
        ActivityKind.EMAIL,
        Direction.OUTGOING,
        "Angebot Wartungsvertrag",
        "Sehr geehrte Damen und Herren,\n\nanbei unser Angebot für den Wartungsvertrag "
        "wie besprochen.\n\nMit freundlichen Grüßen",
        "",
        None,
    ),
    (
        ActivityKind.EMAIL,
        Direction.INCOMING,
        "Anfrage Ersatzteile",
        "Guten Tag,\n\nwir benötigen ein Angebot über Ersatzteile für die Anlage in Halle 2.\n\n"
        "Viele Grüße",
        "",
        None,
    ),
    (
        ActivityKind.MEETING,
        Direction.NONE,
        "Jahresgespräch",
        "Rückblick auf das Jahr, Planung der Investitionen. Rahmenvertrag soll verlängert "
        "werden.\n\n- Preise für nächstes Jahr klären\n- Schulung anbieten",
        "Rahmenvertrag in Vorbereitung",
        (45, 120),
    ),
    (
        ActivityKind.VISIT,
        Direction.NONE,
        "Besuchsbericht: Vorführung vor Ort",
        "Vorführung in der Fertigung. Die Technik war überzeugt, der Einkauf will "
        "Vergleichsangebote einholen.",
        "Angebot bis Monatsende",
        (60, 180),
    ),
    (
        ActivityKind.LETTER,
        Direction.OUTGOING,
        "Einladung zur Hausmesse",
        "Einladung zur Hausmesse mit Programm und Anmeldekarte verschickt.",
        "",
        None,
    ),
    (
        ActivityKind.TRADE_FAIR,
        Direction.INCOMING,
        "Messe: Hannover Messe",
        "Interessen: Automatisierung, Wartung\n\nStandbesuch, Unterlagen mitgenommen.\n\n"
        "Mit Kontaktaufnahme einverstanden: ja",
        "Unterlagen schicken",
        (10, 30),
    ),
    (
        ActivityKind.NOTE,
        Direction.NONE,
        "Notiz: neuer Ansprechpartner",
        "Der bisherige Einkaufsleiter ist ausgeschieden, Nachfolge ab nächstem Monat.",
        "",
        None,
    ),
    (
        ActivityKind.INFO_REQUEST,
        Direction.INCOMING,
        "Prospektanforderung",
        "Kunde bittet um den aktuellen Katalog und die Preisliste.",
        "Katalog verschickt",
        None,
    ),
    (
        ActivityKind.SERVICE,
        Direction.NONE,
        "Wartung durchgeführt",
        "Jährliche Wartung durchgeführt, Verschleißteile getauscht. Keine Mängel.",
        "Nächste Wartung in zwölf Monaten",
        (90, 240),
    ),
]
ACTIVITY_WEIGHTS = [14, 8, 5, 12, 6, 5, 5, 3, 3, 4, 3, 3]

APPOINTMENTS = [
    ("Besuch: Vorführung Laserschneider", "Beim Kunden", 90, True),
    ("Jahresgespräch", "Beim Kunden", 60, True),
    ("Telefontermin Angebot", "", 30, True),
    ("Teammeeting Vertrieb", "Besprechungsraum 1", 60, False),
    ("Schulung CRM", "Schulungsraum", 120, False),
    ("Messevorbereitung", "Besprechungsraum 2", 45, False),
]
TASKS = [
    # (title, days from today, priority, recurrence)
    ("Angebot nachfassen", -3, TaskPriority.HIGH, ""),
    ("Rückruf zusagen", -1, TaskPriority.NORMAL, ""),
    ("Besuchsbericht schreiben", 0, TaskPriority.NORMAL, ""),
    ("Unterlagen nach der Messe schicken", 0, TaskPriority.HIGH, ""),
    ("Vertragsverlängerung vorbereiten", 3, TaskPriority.NORMAL, ""),
    ("Quartalsplanung", 10, TaskPriority.LOW, ""),
    ("Wochenbericht an die Vertriebsleitung", 4, TaskPriority.NORMAL, Recurrence.WEEKLY),
]

TEMPLATE_NAME = "Nachfass-Mail nach der Messe"
TEMPLATE_SUBJECT = "Schön, dass Sie uns auf der Messe besucht haben"
TEMPLATE_BODY = (
    "{{ person.letter_salutation }},\n\n"
    "vielen Dank für das Gespräch an unserem Messestand. Wie besprochen:\n\n"
    "{{ notes.latest }}\n\n"
    "Gern schicke ich Ihnen ein Angebot oder vereinbare einen Termin vor Ort.\n\n"
    "Mit freundlichen Grüßen"
)


def _copy_escape(text: str) -> str:
    """A string in PostgreSQL's COPY text format (the pools of data.py are plain; the
    activity texts have newlines)."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def activities_load(
    *,
    writer,
    seed: int,
    size: str,
    persons: int | None,
    persons_after: int,
    organizations_after: int,
    users: list,
    progress: Callable[[str], object],
) -> dict:
    """The activities of this load's customers (ids above ``persons_after`` /
    ``organizations_after``), the timeline customer, appointments, tasks and the
    e-mail template. Returns counts for the summary."""
    rnd = random.Random(seed)
    if persons is None:
        count, timeline = ACTIVITY_COUNTS[size], TIMELINE_ACTIVITIES
    else:
        count, timeline = persons * ACTIVITIES_PER_PERSON, TIMELINE_ACTIVITIES_SMALL_LOAD
    authors = [u.pk for u in users if u.role and u.role.code != RoleCode.READ_ONLY]
    by_name = {u.username: u for u in users}
    counts: dict[str, int] = {}

    owner = by_name.get(TIMELINE_OWNER) or users[0]
    timeline_person, made = _timeline_customer(owner, persons_after)
    # The timeline customer gets exactly its own activities: its organization and its
    # contacts stay out of the random ones.
    skip_org = timeline_person.organization_id if timeline_person is not None else None
    person_ids, person_orgs = array("q"), array("q")
    for pk, org in (
        Person.objects.filter(pk__gt=persons_after).order_by("pk").values_list("pk", "organization")
    ):
        if org is None or org != skip_org:
            person_ids.append(pk)
            person_orgs.append(org or 0)
    org_ids = array(
        "q",
        Organization.objects.filter(pk__gt=organizations_after)
        .exclude(pk=skip_org)
        .order_by("pk")
        .values_list("pk", flat=True),
    )
    started = time.monotonic()
    if person_ids and count:
        _activities(writer, rnd, count, person_ids, person_orgs, org_ids, authors, "activities")
    counts["activities"] = count if person_ids else 0
    if made:
        _activities(
            writer,
            rnd,
            timeline,
            array("q", [timeline_person.pk]),
            array("q", [timeline_person.organization_id]),
            array("q"),
            authors,
            f"activities of {TIMELINE_ORGANIZATION}",
        )
        counts[f"activities of {TIMELINE_ORGANIZATION}"] = timeline
    _analyze(Activity)
    progress(f"  activities: {time.monotonic() - started:.1f} s")

    workers = [u for u in users if u.role and u.role.code != RoleCode.READ_ONLY]
    counts["appointments"] = _appointments(rnd, workers, person_ids, person_orgs, timeline_person)
    counts["tasks"] = _tasks(rnd, workers, person_ids, person_orgs)
    EmailTemplate.objects.get_or_create(
        name=TEMPLATE_NAME,
        owner=None,
        defaults={"subject": TEMPLATE_SUBJECT, "body": TEMPLATE_BODY, "language": "de"},
    )
    return counts


def _activities(writer, rnd, count, person_ids, person_orgs, org_ids, authors, label) -> None:
    fields = [
        "uuid",
        "kind",
        "direction",
        "occurred_at",
        "duration_minutes",
        "subject",
        "text",
        "outcome",
        "person",
        "organization",
        "author",
        "private",
        "created_at",
        "updated_at",
        "version",
    ]
    prep = writer.preparer(Activity)
    escape = _copy_escape if writer.use_copy else str
    now = datetime.now(UTC).replace(microsecond=0)
    # Prepared once: the timestamps (the newest in the last minutes, spread over three
    # years), the templates and the foreign keys.
    stamps = [
        prep("occurred_at", now - timedelta(seconds=rnd.randrange(HISTORY_DAYS * 86400)))
        for _ in range(min(count, 50_000))
    ]
    templates = []
    for kind, direction, subject, text, outcome, minutes in ACTIVITY_TEMPLATES:
        durations = (
            [prep("duration_minutes", m) for m in range(minutes[0], minutes[1] + 1, 5)]
            if minutes
            else [prep("duration_minutes", None)]
        )
        if tables.NEEDS_ESCAPE.search(subject + outcome):
            raise ValueError("activity subjects and outcomes must be plain")
        templates.append((kind.value, direction.value, subject, escape(text), outcome, durations))
    persons_prepped = [
        (prep("person", pk), prep("organization", org or None))
        for pk, org in zip(person_ids, person_orgs, strict=True)
    ]
    no_person = prep("person", None)
    orgs_prepped = [prep("organization", pk) for pk in org_ids]
    authors_prepped = [prep("author", pk) for pk in authors]
    private, version = prep("private", False), prep("version", 1)
    org_share = ORGANIZATION_ONLY_SHARE if orgs_prepped else 0.0

    def rows(k: int) -> Iterator[tuple]:
        chosen = rnd.choices(templates, ACTIVITY_WEIGHTS, k=k)
        subjects = rnd.choices(persons_prepped, k=k)
        orgs = rnd.choices(orgs_prepped, k=k) if orgs_prepped else [None] * k
        whens = rnd.choices(stamps, k=k)
        by = rnd.choices(authors_prepped, k=k)
        uuids = tables.uuids(k)
        rand = rnd.random
        for i in range(k):
            kind, direction, subject, text, outcome, durations = chosen[i]
            person, organization = subjects[i]
            if rand() < org_share:
                person, organization = no_person, orgs[i]
            when = whens[i]
            yield (
                uuids[i],
                kind,
                direction,
                when,
                durations[int(rand() * len(durations))],
                subject,
                text,
                outcome,
                person,
                organization,
                by[i],
                private,
                when,
                when,
                version,
            )

    writer.insert(Activity, fields, rows, count, label)


def _timeline_customer(owner, persons_after: int) -> tuple[Person | None, bool]:
    """The one organization and person with the long timeline: the first organization
    of this load with a contact becomes "Musterkunde GmbH" and that contact Erika
    Mustermann, owned by ``owner`` (rewritten rows: the counts stay as asked). Made
    once: a second load finds them and adds no second timeline."""
    first, last, email = TIMELINE_PERSON
    existing = Person.objects.filter(email=email).select_related("organization").first()
    if existing is not None:
        return existing, False
    person = (
        Person.objects.filter(pk__gt=persons_after, organization__isnull=False)
        .select_related("organization")
        .order_by("pk")
        .first()
    )
    if person is None:
        return None, False
    team = owner.teams.order_by("id").first()
    organization = person.organization
    for name, value in {
        "name": TIMELINE_ORGANIZATION,
        "owner": owner,
        "team": team,
        "website": "https://www.musterkunde.de",
        "email": "info@musterkunde.de",
        "vat_id": "",
    }.items():
        setattr(organization, name, value)
    derive_keys(organization)
    organization.save()
    for name, value in {
        "salutation": Salutation.MS,
        "title": "",
        "first_name": first,
        "last_name": last,
        "email": email,
        "gender": Gender.FEMALE,
        "owner": owner,
        "team": team,
    }.items():
        setattr(person, name, value)
    derive_keys(person)
    person.save()
    return person, True


def _local(day, hour: int, minute: int = 0) -> datetime:
    zone = ZoneInfo(settings.TIME_ZONE)
    return datetime.combine(day, clock(hour, minute), tzinfo=zone).astimezone(UTC)


def _appointments(rnd, workers, person_ids, person_orgs, timeline_person) -> int:
    """Every working demo user: appointments on the working days of this week and
    the next, some at a customer of theirs, some with a colleague."""
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    days = [monday + timedelta(days=d) for d in (*range(5), *range(7, 12))]
    own = _customers_of(workers, person_ids, person_orgs)
    made, attendees = [], []
    for user in workers:
        team = user.teams.order_by("id").first()
        customers = own.get(user.pk, [])
        if user.username == TIMELINE_OWNER and timeline_person is not None:
            customers = [(timeline_person.pk, timeline_person.organization_id), *customers]
        for index, day in enumerate(rnd.sample(days, 6)):
            title, location, minutes, at_customer = APPOINTMENTS[index % len(APPOINTMENTS)]
            starts = _local(day, rnd.choice((8, 9, 10, 11, 13, 14, 15, 16)), rnd.choice((0, 30)))
            person_id, org_id = (
                customers[index % len(customers)] if at_customer and customers else (None, None)
            )
            appointment = Appointment(
                owner=user,
                team=team,
                title=title,
                location=location,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=minutes),
                person_id=person_id,
                organization_id=org_id,
                # No reminders: the worker would mail the demo users' made-up addresses.
            )
            made.append(appointment)
            colleague = rnd.choice(workers)
            attendees.append({user.pk, colleague.pk} if not at_customer else {user.pk})
    Appointment.objects.bulk_create(made)
    through = Appointment.attendees.through
    through.objects.bulk_create(
        through(appointment_id=a.pk, user_id=pk)
        for a, pks in zip(made, attendees, strict=True)
        for pk in sorted(pks)
    )
    return len(made)


def _tasks(rnd, workers, person_ids, person_orgs) -> int:
    """Every working demo user: tasks overdue, due today and coming up, one of them
    recurring, most about a customer of theirs."""
    today = timezone.localdate()
    own = _customers_of(workers, person_ids, person_orgs)
    made = []
    for user in workers:
        team = user.teams.order_by("id").first()
        customers = own.get(user.pk, [])
        for index, (title, days, priority, recurrence) in enumerate(TASKS):
            person_id, org_id = (
                customers[index % len(customers)] if customers and not recurrence else (None, None)
            )
            made.append(
                Task(
                    owner=user,
                    team=team,
                    created_by=user,
                    title=title,
                    due_date=today + timedelta(days=days),
                    priority=priority,
                    recurrence=recurrence,
                    person_id=person_id,
                    organization_id=org_id,
                )
            )
    Task.objects.bulk_create(made)
    return len(made)


def _customers_of(workers, person_ids, person_orgs) -> dict[int, list[tuple[int, int | None]]]:
    """A few persons (with their organization) each worker owns, from this load."""
    if not person_ids:
        return {}
    found: dict[int, list[tuple[int, int | None]]] = {}
    sample = list(person_ids[:: max(1, len(person_ids) // 2000)])
    rows = Person.objects.filter(pk__in=sample, owner__in=[u.pk for u in workers]).values_list(
        "owner", "pk", "organization"
    )
    for owner, pk, org in rows.order_by("pk"):
        if len(found.setdefault(owner, [])) < 6:
            found[owner].append((pk, org))
    return found


def _analyze(model) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
