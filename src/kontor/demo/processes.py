"""The customer processes in the demo data: instances of the shipped scenes on this
load's customers, with their step records, in bulk (``RowWriter``: COPY on
PostgreSQL, ``executemany`` elsewhere), plus one long process of 30 steps
("Projektgeschäft: Ausschreibung bis Abnahme", built with the definitions services and
published) for the drawing benchmark.

Sizes: small about 300 instances (200 running); medium 10,000 running and enough
completed and cancelled ones for about 100,000 step records; large 100,000 running and
about 1,000,000 step records (the numbers of issue 6's benchmark). A few per cent more
are paused.

Each instance walks its version's transitions from the first step: at a branch the
first way on is the likeliest (the shipped scenes list "yes" first). Completed
instances walked to an end step (the goal is reached where that step says so);
cancelled ones stopped at a step (that record is "left"); running and paused ones have
one active step record — the instance's ``current_step`` — with its items, all of
the required ones but perhaps the first still open, so there is work to do. Step times
follow the steps' deadlines: most are done in time, about one in seven late; a step
without work (no required item, one way on) is passed at once, as the engine does.
Overdue active steps count as warned and escalated already, so the worker does not
mail the demo users about thousands of them. No tasks are made (``StepRunItem.task``
stays empty): "My day" keeps its own demo tasks.

Instances run on persons or organizations as their process says; running ones on a
customer are distinct per process (the engine refuses a second one). Assignees follow
the step's ``responsible`` like the engine does (the record's owner, or the first user
of that role in the record's team).
"""

import datetime as dt
import random
import time
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from kontor.core.access import user_can
from kontor.core.permissions import Capability
from kontor.customers.models import Organization, Person
from kontor.demo import tables
from kontor.processes.business_days import add_business_days
from kontor.processes.models import (
    ActivityType,
    Grade,
    InstanceStatus,
    Lane,
    Process,
    ProcessInstance,
    ProcessVersion,
    Responsible,
    Step,
    StepActivity,
    StepRun,
    StepRunItem,
    StepRunStatus,
    SubjectKind,
    Transition,
    TriggerKind,
    VersionStatus,
)

RUNNING = {"small": 200, "medium": 10_000, "large": 100_000}
# Completed and cancelled instances are added until the step records reach this.
STEP_RECORDS = {"small": 0, "medium": 100_000, "large": 1_000_000}
ENDED_SMALL = 100  # small and exact-person loads: this share of ended ones (of running)
PAUSED_SHARE = 0.02  # of the running ones, in addition
CANCELLED_SHARE = 0.25  # of the ended ones
FIRST_WAY_WEIGHT = 0.55  # at a branch, the first way on; the others share the rest
LATE_SHARE = 0.15  # steps done after their deadline
HISTORY_DAYS = 548  # about 18 months
ITEM_DONE_SHARE = 0.3

# How many instances each process gets, relatively (the trade-fair scene the most: it is
# the process of the figures benchmark).
WEIGHTS = {
    "trade_fair_visitor": 30,
    "complaint": 12,
    "campaign_response": 14,
    "lost_customer_win_back": 8,
    "customer_visit": 12,
    "offer_to_order": 14,
    "new_customer_onboarding": 7,
}
LONG_PROCESS_KEY = "project_tender"
LONG_PROCESS_WEIGHT = 3

CANCEL_REASONS = [
    "Kunde hat sich für einen Wettbewerber entschieden",
    "Kein Budget in diesem Jahr",
    "Ansprechpartner nicht mehr im Unternehmen",
    "Doppelt angelegt",
    "Projekt vom Kunden gestoppt",
    "Kunde wünscht keinen Kontakt",
]


# --- The long process (30 steps) -----------------------------------------------------------

_T, _E, _A, _F, _C = (
    ActivityType.TASK,
    ActivityType.EMAIL,
    ActivityType.APPOINTMENT,
    ActivityType.FIELD,
    ActivityType.CHECKLIST,
)
_OWNER, _CUSTOMER, _SYSTEM = Responsible.RECORD_OWNER, Responsible.CUSTOMER, Responsible.SYSTEM
_MANAGER, _SERVICE = Responsible.SALES_MANAGER, Responsible.SERVICE_AGENT
_MUST, _SHOULD, _CAN = Grade.MUST, Grade.SHOULD, Grade.CAN

# key, name, lane, responsible, deadline (business days), end, goal,
# activities: (kind, title, grade, required)
LONG_STEPS = [
    ("erfasst", "Ausschreibung erfasst", Lane.SYSTEM, _SYSTEM, None, False, False,
     [(_F, "Ausschreibungsunterlagen ablegen", _MUST, True)]),
    ("sichten", "Unterlagen sichten", Lane.SALES, _OWNER, 3, False, False,
     [(_T, "Leistungsverzeichnis und Fristen prüfen", _MUST, True),
      (_C, "Eignungskriterien erfüllt", _SHOULD, False)]),
    ("go_no_go", "Teilnahme entscheiden (Go/No-Go)", Lane.SALES, _MANAGER, 2, False, False,
     [(_F, "Bewertung Chancen und Risiken", _MUST, True)]),
    ("bieterfragen", "Bieterfragen stellen", Lane.SALES, _OWNER, 5, False, False,
     [(_E, "Bieterfragen an die Vergabestelle", _SHOULD, True)]),
    ("begehung", "Ortsbegehung", Lane.CUSTOMER, _OWNER, 10, False, False,
     [(_A, "Termin zur Ortsbegehung", _SHOULD, True),
      (_C, "Fotos und Maße aufgenommen", _CAN, False)]),
    ("technik", "Technische Lösung klären", Lane.SERVICE, _SERVICE, 5, False, False,
     [(_T, "Lösungskonzept mit der Technik abstimmen", _MUST, True)]),
    ("kalkulation", "Kalkulation", Lane.SALES, _OWNER, 5, False, False,
     [(_T, "Material, Montage und Risiko kalkulieren", _MUST, True),
      (_F, "Deckungsbeitrag erfassen", _SHOULD, False)]),
    ("preisfreigabe", "Preisfreigabe", Lane.SALES, _MANAGER, 2, False, False,
     [(_C, "Preis durch die Vertriebsleitung geprüft", _MUST, True)]),
    ("angebot", "Angebot erstellen", Lane.SALES, _OWNER, 3, False, False,
     [(_T, "Angebot und Formblätter ausfüllen", _MUST, True)]),
    ("abgabe", "Angebot fristgerecht abgeben", Lane.SALES, _OWNER, 1, False, False,
     [(_E, "Angebot an die Vergabestelle", _MUST, True),
      (_C, "Abgabe quittiert", _SHOULD, False)]),
    ("aufklaerung", "Aufklärungsgespräch", Lane.CUSTOMER, _OWNER, 10, False, False,
     [(_A, "Bietergespräch beim Auftraggeber", _SHOULD, True)]),
    ("zuschlag", "Zuschlag erhalten?", Lane.CUSTOMER, _CUSTOMER, 20, False, False, []),
    ("bestaetigung", "Auftragsbestätigung", Lane.SALES, _OWNER, 2, False, False,
     [(_E, "Auftragsbestätigung senden", _MUST, True)]),
    ("vertrag", "Vertrag prüfen und zeichnen", Lane.SALES, _MANAGER, 5, False, False,
     [(_T, "Vertragsbedingungen prüfen", _MUST, True),
      (_C, "Bürgschaft gestellt", _SHOULD, False)]),
    ("kickoff", "Projekt-Kickoff", Lane.SERVICE, _SERVICE, 10, False, False,
     [(_A, "Kickoff-Termin mit dem Kunden", _MUST, True)]),
    ("projektplan", "Projektplan abstimmen", Lane.SERVICE, _SERVICE, 5, False, False,
     [(_T, "Termine und Meilensteine festlegen", _MUST, True)]),
    ("material", "Material bestellen", Lane.SYSTEM, _SYSTEM, 3, False, False,
     [(_C, "Bestellung im ERP ausgelöst", _MUST, True)]),
    ("fertigung", "Fertigung und Vorbereitung", Lane.SERVICE, _SERVICE, 20, False, False,
     [(_T, "Fertigung überwachen", _MUST, True)]),
    ("montage", "Montage vor Ort", Lane.CUSTOMER, _SERVICE, 10, False, False,
     [(_A, "Montagetermin beim Kunden", _MUST, True)]),
    ("inbetriebnahme", "Inbetriebnahme", Lane.SERVICE, _SERVICE, 5, False, False,
     [(_T, "Anlage in Betrieb nehmen", _MUST, True),
      (_F, "Messprotokoll erfassen", _SHOULD, False)]),
    ("schulung", "Schulung der Anwender", Lane.SERVICE, _SERVICE, 10, False, False,
     [(_A, "Schulungstermin", _SHOULD, True)]),
    ("abnahmetermin", "Abnahmetermin vereinbaren", Lane.SALES, _OWNER, 5, False, False,
     [(_A, "Abnahme mit dem Kunden vereinbaren", _MUST, True)]),
    ("abnahme", "Abnahme durch den Kunden", Lane.CUSTOMER, _CUSTOMER, 5, False, False, []),
    ("maengel", "Mängel beseitigen", Lane.SERVICE, _SERVICE, 10, False, False,
     [(_T, "Mängelliste abarbeiten", _MUST, True)]),
    ("protokoll", "Abnahmeprotokoll", Lane.SALES, _OWNER, 2, False, False,
     [(_F, "Unterschriebenes Abnahmeprotokoll ablegen", _MUST, True)]),
    ("rechnung", "Schlussrechnung stellen", Lane.SYSTEM, _SYSTEM, 3, False, False,
     [(_C, "Schlussrechnung im ERP erstellt", _MUST, True)]),
    ("referenz", "Referenz anfragen", Lane.MARKETING, Responsible.MARKETING, 10, False, False,
     [(_E, "Bitte um Referenz und Freigabe für die Website", _CAN, False)]),
    ("abgeschlossen", "Projekt abgenommen", Lane.SALES, _OWNER, None, True, True, []),
    ("absage", "Absage auswerten", Lane.SALES, _OWNER, 5, False, False,
     [(_F, "Grund der Absage und Preis des Wettbewerbs", _SHOULD, True)]),
    ("nicht_gewonnen", "Nicht gewonnen", Lane.SALES, _OWNER, None, True, False, []),
]  # fmt: skip
# source, target, label (the first way on out of a branch is the likely one)
LONG_WAYS = [
    ("erfasst", "sichten", ""),
    ("sichten", "go_no_go", ""),
    ("go_no_go", "bieterfragen", "Teilnehmen"),
    ("go_no_go", "nicht_gewonnen", "Nicht teilnehmen"),
    ("bieterfragen", "begehung", ""),
    ("begehung", "technik", ""),
    ("technik", "kalkulation", ""),
    ("kalkulation", "preisfreigabe", ""),
    ("preisfreigabe", "angebot", "Freigegeben"),
    ("preisfreigabe", "kalkulation", "Nachkalkulieren"),
    ("angebot", "abgabe", ""),
    ("abgabe", "aufklaerung", ""),
    ("aufklaerung", "zuschlag", ""),
    ("zuschlag", "bestaetigung", "Ja"),
    ("zuschlag", "absage", "Nein"),
    ("bestaetigung", "vertrag", ""),
    ("vertrag", "kickoff", ""),
    ("kickoff", "projektplan", ""),
    ("projektplan", "material", ""),
    ("material", "fertigung", ""),
    ("fertigung", "montage", ""),
    ("montage", "inbetriebnahme", ""),
    ("inbetriebnahme", "schulung", ""),
    ("schulung", "abnahmetermin", ""),
    ("abnahmetermin", "abnahme", ""),
    ("abnahme", "protokoll", "Ohne Mängel"),
    ("abnahme", "maengel", "Mit Mängeln"),
    ("maengel", "abnahme", ""),
    ("protokoll", "rechnung", ""),
    ("rechnung", "referenz", ""),
    ("referenz", "abgeschlossen", ""),
    ("absage", "nicht_gewonnen", ""),
]


def long_process_install(*, actor) -> Process:
    """The 30-step process "Projektgeschäft: Ausschreibung bis Abnahme", in German,
    built and published with the definitions services (so it is valid as the editor
    would make it). Idempotent by its key."""
    from kontor.processes.services import definitions as defs

    existing = Process.objects.filter(key=LONG_PROCESS_KEY).first()
    if existing is not None:
        return existing
    process = defs.process_create(
        actor=actor,
        name="Projektgeschäft: Ausschreibung bis Abnahme",
        goal="Das Projekt ist abgenommen und abgerechnet.",
        description=(
            "Von der öffentlichen Ausschreibung über Angebot, Zuschlag, Fertigung und "
            "Montage bis zur Abnahme mit Schlussrechnung und Referenz."
        ),
        subject_kind=SubjectKind.ORGANIZATION,
        key=LONG_PROCESS_KEY,
        via="system",
    )
    version = process.versions.get()
    # process_create made a start and an end step: the start becomes the first step,
    # the placeholder end goes (with its transition).
    steps: dict[str, Step] = {}
    for key, name, lane, responsible, deadline, is_end, goal, _activities in LONG_STEPS:
        values = {
            "name": name,
            "lane": lane,
            "responsible": responsible,
            "deadline_days": deadline,
            "is_end": is_end,
            "goal_reached": goal,
            "via": "system",
        }
        if not steps:
            steps[key] = defs.step_update(
                actor=actor, step=version.steps.get(key="start"), **values
            )
            defs.step_delete(actor=actor, step=version.steps.get(key="end"), via="system")
        else:
            steps[key] = defs.step_create(actor=actor, version=version, key=key, **values)
    for key, *_rest, activities in LONG_STEPS:
        for kind, title, grade, required in activities:
            defs.step_activity_create(
                actor=actor,
                step=steps[key],
                kind=kind,
                title=title,
                grade=grade,
                required=required,
                via="system",
            )
    for source, target, label in LONG_WAYS:
        defs.transition_create(
            actor=actor, source=steps[source], target=steps[target], label=label, via="system"
        )
    defs.version_publish(actor=actor, version=version, via="system")
    return process


# --- The instances -------------------------------------------------------------------------


@dataclass
class _Step:
    pk: int
    deadline: int | None
    is_end: bool
    goal: bool
    responsible: str
    ways: list[int] = field(default_factory=list)  # target step pks, in order
    items: list[tuple[int, bool]] = field(default_factory=list)  # (activity pk, required)
    # Whether an instance can stay in the step: it has required work, or the user
    # chooses the way on. Otherwise the engine passes it at once. Set by _versions().
    waits: bool = False


@dataclass
class _Version:
    pk: int
    subject_kind: str
    started_via: str
    steps: dict[int, _Step]
    first: int
    weight: int


def _versions() -> list[_Version]:
    """The published versions of the processes the demo runs, with their graphs."""
    weights = {**WEIGHTS, LONG_PROCESS_KEY: LONG_PROCESS_WEIGHT}
    versions = list(
        ProcessVersion.objects.filter(
            status=VersionStatus.PUBLISHED, process__key__in=list(weights)
        )
        .select_related("process")
        .order_by("process__key")
    )
    result = []
    for version in versions:
        steps = {
            s.pk: _Step(s.pk, s.deadline_days, s.is_end, s.goal_reached, s.responsible)
            for s in Step.objects.filter(version=version).order_by("position", "id")
        }
        if not steps:
            continue
        for source, target in (
            Transition.objects.filter(version=version)
            .order_by("source", "position", "id")
            .values_list("source", "target")
        ):
            steps[source].ways.append(target)
        for step_id, pk, required in (
            StepActivity.objects.filter(step__version=version)
            .exclude(grade=Grade.OUT_OF_SCOPE)
            .order_by("step", "position", "id")
            .values_list("step", "pk", "required")
        ):
            steps[step_id].items.append((pk, required))
        for step in steps.values():
            step.waits = any(required for _pk, required in step.items) or len(step.ways) > 1
        trigger = version.trigger
        result.append(
            _Version(
                pk=version.pk,
                subject_kind=version.process.subject_kind,
                started_via=trigger if trigger != TriggerKind.MANUAL else "manual",
                steps=steps,
                first=next(iter(steps)),
                weight=weights[version.process.key],
            )
        )
    return result


def _walk(rnd: random.Random, version: _Version) -> list[int]:
    """The steps an instance goes through from the first to an end step."""
    path = [version.first]
    limit = 3 * len(version.steps)
    while True:
        step = version.steps[path[-1]]
        if step.is_end or not step.ways:
            return path
        ways = step.ways
        if len(ways) == 1 or len(path) > limit or rnd.random() < FIRST_WAY_WEIGHT:
            path.append(ways[0])
        else:
            path.append(rnd.choice(ways[1:]))


def _step_seconds(rnd: random.Random, step: _Step, *, late: bool) -> int:
    """How long a finished step took: passed at once without work; else around its
    deadline (business days, about 1.4 calendar days each)."""
    if not step.waits:
        return rnd.randrange(3)
    span = (step.deadline * 1.4 if step.deadline else 10.0) * 86400
    share = rnd.uniform(1.05, 2.5) if late else rnd.uniform(0.05, 0.95)
    return max(600, int(span * share))


@dataclass
class _Plan:
    version: _Version
    subject: int  # index into the subject arrays
    status: str
    path: list[int]
    # per step record: entered, finished (0: still active); epoch seconds
    entered: list[int]
    finished: list[int]
    ended: int = 0
    goal: bool = False


def _plan_instance(rnd, version: _Version, subject: int, status: str, now: int) -> _Plan:
    path = _walk(rnd, version)
    steps = version.steps
    if status in (InstanceStatus.RUNNING, InstanceStatus.PAUSED, InstanceStatus.CANCELLED):
        stops = [i for i, pk in enumerate(path) if steps[pk].waits and not steps[pk].is_end]
        if stops:
            path = path[: rnd.choice(stops) + 1]
        elif status != InstanceStatus.CANCELLED:
            path = path[:1]
    durations = [_step_seconds(rnd, steps[pk], late=rnd.random() < LATE_SHARE) for pk in path[:-1]]
    active = status in (InstanceStatus.RUNNING, InstanceStatus.PAUSED)
    if active:
        last = steps[path[-1]]
        span = (last.deadline * 1.4 if last.deadline else 10.0) * 86400
        # In the step for a while: mostly within the deadline, some overdue.
        age = int(span * (rnd.uniform(1.05, 3.0) if rnd.random() < 0.2 else rnd.uniform(0, 1)))
        started = now - max(60, age) - sum(durations)
    else:
        durations.append(_step_seconds(rnd, steps[path[-1]], late=rnd.random() < LATE_SHARE))
        total = sum(durations)
        room = HISTORY_DAYS * 86400 - total
        started = now - total - (rnd.randrange(room) if room > 0 else rnd.randrange(86400))
    entered, finished = [], []
    at = started
    for i, _pk in enumerate(path):
        entered.append(at)
        if i < len(durations):
            at += durations[i]
            finished.append(at)
        else:
            finished.append(0)
    plan = _Plan(version, subject, status, path, entered, finished)
    if not active:
        plan.ended = finished[-1]
        plan.goal = status == InstanceStatus.COMPLETED and steps[path[-1]].goal
    return plan


class _Subjects:
    """This load's persons or organizations: primary key, owner and team, in arrays."""

    def __init__(self, model, after: int):
        self.pk, self.owner, self.team = array("q"), array("q"), array("q")
        rows = model.objects.filter(pk__gt=after).order_by("pk")
        for pk, owner, team in rows.values_list("pk", "owner", "team").iterator(chunk_size=20_000):
            self.pk.append(pk)
            self.owner.append(owner or 0)
            self.team.append(team or 0)

    def __len__(self) -> int:
        return len(self.pk)


def processes_load(
    *,
    writer,
    seed: int,
    size: str,
    persons: int | None = None,
    persons_after: int,
    organizations_after: int,
    users: list,
    progress: Callable[[str], object],
) -> dict:
    """The 30-step process, and instances of the demo processes on this load's
    customers (ids above ``persons_after`` / ``organizations_after``) with their step
    records and the items of their active steps. Returns counts for the summary."""
    started_clock = time.monotonic()
    admin = next((u for u in users if user_can(u, Capability.PROCESSES_MANAGE)), None)
    if admin is not None:
        with transaction.atomic():
            long_process_install(actor=admin)
    rnd = random.Random(seed)
    if persons is None:
        running, target = RUNNING[size], STEP_RECORDS[size]
    else:
        running, target = max(20, persons), 0
    versions = _versions()
    subjects = {
        SubjectKind.PERSON: _Subjects(Person, persons_after),
        SubjectKind.ORGANIZATION: _Subjects(Organization, organizations_after),
    }
    versions = [v for v in versions if len(subjects[v.subject_kind])]
    if not versions or not running:
        return {}
    now = int(timezone.now().timestamp())
    plans: list[_Plan] = []
    runs = 0
    total_weight = sum(v.weight for v in versions)
    paused = int(running * PAUSED_SHARE)
    for version in versions:
        # Running (and paused) ones: distinct customers per process.
        pool = subjects[version.subject_kind]
        n = min(len(pool), round((running + paused) * version.weight / total_weight))
        for subject in rnd.sample(range(len(pool)), n):
            status = (
                InstanceStatus.PAUSED if rnd.random() < PAUSED_SHARE else InstanceStatus.RUNNING
            )
            plans.append(_plan_instance(rnd, version, subject, status, now))
            runs += len(plans[-1].path)
    ended = 0
    weights = [v.weight for v in versions]
    ended_wanted = ENDED_SMALL * running // RUNNING["small"] if not target else None
    while (runs < target) if target else (ended < ended_wanted):
        version = rnd.choices(versions, weights)[0]
        status = (
            InstanceStatus.CANCELLED if rnd.random() < CANCELLED_SHARE else InstanceStatus.COMPLETED
        )
        subject = rnd.randrange(len(subjects[version.subject_kind]))
        plans.append(_plan_instance(rnd, version, subject, status, now))
        runs += len(plans[-1].path)
        ended += 1
    # Oldest first, like a real history (ids grow with time).
    plans.sort(key=lambda p: p.entered[0])
    progress(
        f"  process instances planned: {len(plans):,} with {runs:,} step records "
        f"in {time.monotonic() - started_clock:.1f} s"
    )
    counts = _write(writer, rnd, plans, subjects, users, now, progress)
    progress(f"  processes: {time.monotonic() - started_clock:.1f} s")
    return counts


@lru_cache(maxsize=20_000)
def _due(day: dt.date, days: int) -> int:
    zone = ZoneInfo(settings.TIME_ZONE)
    due_day = add_business_days(day, days)
    return int(dt.datetime.combine(due_day, dt.time(23, 59, 59), tzinfo=zone).timestamp())


class _Assignees:
    """Who works a step, as the engine's ``_assignee`` decides: the record's owner,
    or for a role the first active user with it in the record's team."""

    def __init__(self, users: list):
        self.by_team_role: dict[tuple[int, str], int] = {}
        for user in sorted(users, key=lambda u: u.pk):
            if not user.is_active or user.role is None:
                continue
            for team_id in user.teams.values_list("pk", flat=True):
                self.by_team_role.setdefault((team_id, user.role.code), user.pk)

    def __call__(self, responsible: str, owner: int, team: int) -> int | None:
        if responsible not in (Responsible.RECORD_OWNER, Responsible.CUSTOMER, _SYSTEM, ""):
            found = self.by_team_role.get((team, responsible))
            if found:
                return found
        return owner or None


def _write(writer, rnd, plans: list[_Plan], subjects, users, now: int, progress) -> dict:
    zone = ZoneInfo(settings.TIME_ZONE)
    assignee_of = _Assignees(users)
    instance_base = tables.max_id(ProcessInstance)
    run_base = tables.max_id(StepRun)
    use_copy = writer.use_copy
    # Whole numbers (ids, foreign keys) as the writer sends them, without the field's
    # preparation (a few microseconds each, millions of times).
    if use_copy:

        def num(value: int | None) -> str:
            return "\\N" if value is None else str(value)

    else:

        def num(value: int | None) -> int | None:
            return value

    def stamper(model, name):
        prep = writer.preparer(model)
        if use_copy:
            return lambda seconds: dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat()
        return lambda seconds: prep(name, dt.datetime.fromtimestamp(seconds, dt.UTC))

    # --- instances
    prep = writer.preparer(ProcessInstance)
    stamp = stamper(ProcessInstance, "started_at")
    fields = [
        "id",
        "uuid",
        "version",
        "person",
        "organization",
        "status",
        "current_step",
        "started_by",
        "started_via",
        "started_at",
        "ended_at",
        "goal_reached",
        "cancel_reason",
        "lock_version",
    ]
    none = prep("person", None)
    true, false = prep("goal_reached", True), prep("goal_reached", False)
    reasons = [prep("cancel_reason", r) for r in CANCEL_REASONS]
    no_reason = prep("cancel_reason", "")
    numbered = iter(enumerate(plans))

    def instance_rows(k: int) -> Iterator[tuple]:
        uuids = tables.uuids(k)
        for j in range(k):
            i, plan = next(numbered)
            pool = subjects[plan.version.subject_kind]
            subject = num(pool.pk[plan.subject])
            owner = pool.owner[plan.subject]
            is_person = plan.version.subject_kind == SubjectKind.PERSON
            yield (
                num(instance_base + 1 + i),
                uuids[j],
                num(plan.version.pk),
                subject if is_person else none,
                none if is_person else subject,
                plan.status,
                num(plan.path[-1]),
                num(owner or None),
                plan.version.started_via,
                stamp(plan.entered[0]),
                stamp(plan.ended) if plan.ended else none,
                true if plan.goal else false,
                rnd.choice(reasons) if plan.status == InstanceStatus.CANCELLED else no_reason,
                num(len(plan.path) + 1),
            )

    writer.insert(ProcessInstance, fields, instance_rows, len(plans), "process instances")

    # --- step records, and the items of the active ones
    prep = writer.preparer(StepRun)
    stamp = stamper(StepRun, "entered_at")
    fields = [
        "id",
        "instance",
        "step",
        "status",
        "entered_at",
        "due_at",
        "finished_at",
        "finished_by",
        "assignee",
        "overdue_notified_at",
        "escalated_at",
    ]
    none = prep("due_at", None)
    active_runs: list[tuple[int, _Step, int, int | None]] = []  # run id, step, entered, user

    def records() -> Iterator[tuple]:
        run_id = run_base
        for i, plan in enumerate(plans):
            pool = subjects[plan.version.subject_kind]
            owner, team = pool.owner[plan.subject], pool.team[plan.subject]
            instance = num(instance_base + 1 + i)
            last = len(plan.path) - 1
            for n, step_pk in enumerate(plan.path):
                run_id += 1
                step = plan.version.steps[step_pk]
                entered, finished = plan.entered[n], plan.finished[n]
                user = assignee_of(step.responsible, owner, team)
                user_value = num(user)
                due = None
                if step.deadline is not None:
                    day = dt.datetime.fromtimestamp(entered, zone).date()
                    due = _due(day, step.deadline)
                if not finished:
                    status = StepRunStatus.ACTIVE
                    active_runs.append((run_id, step, entered, user))
                elif n == last and plan.status == InstanceStatus.CANCELLED:
                    status = StepRunStatus.LEFT
                else:
                    status = StepRunStatus.DONE
                # An overdue active step was warned and escalated already (by the worker).
                warned = none
                if not finished and due is not None and due < now:
                    warned = stamp(due + 8 * 3600)
                yield (
                    num(run_id),
                    instance,
                    num(step_pk),
                    status,
                    stamp(entered),
                    stamp(due) if due is not None else none,
                    stamp(finished) if finished else none,
                    user_value if finished else none,
                    user_value,
                    warned,
                    warned,
                )

    run_count = sum(len(plan.path) for plan in plans)
    stream = records()
    writer.insert(
        StepRun,
        fields,
        lambda k: (next(stream) for _ in range(k)),
        run_count,
        "process step records",
    )

    prep = writer.preparer(StepRunItem)
    stamp = stamper(StepRunItem, "done_at")
    none = prep("done_at", None)
    items = []
    for run_id, step, entered, user in active_runs:
        required = [pk for pk, req in step.items if req]
        first_done = len(required) > 1 and rnd.random() < ITEM_DONE_SHARE
        for pk, req in step.items:
            done = (first_done and pk == required[0]) or (
                not req and rnd.random() < ITEM_DONE_SHARE
            )
            when = entered + rnd.randrange(max(1, now - entered)) if done else 0
            items.append(
                (
                    num(run_id),
                    num(pk),
                    stamp(when) if done else none,
                    num(user) if done else none,
                )
            )
    item_stream = iter(items)
    writer.insert(
        StepRunItem,
        ["step_run", "activity", "done_at", "done_by"],
        lambda k: (next(item_stream) for _ in range(k)),
        len(items),
        "process step items",
    )
    with connection.cursor() as cursor:
        # The ids were given: the sequences (PostgreSQL) must continue after them.
        for sql in connection.ops.sequence_reset_sql(no_style(), [ProcessInstance, StepRun]):
            cursor.execute(sql)
    tables.analyze([ProcessInstance, StepRun, StepRunItem])
    statuses: dict[str, int] = {}
    for plan in plans:
        statuses[plan.status] = statuses.get(plan.status, 0) + 1
    return {
        "process instances running": statuses.get(InstanceStatus.RUNNING, 0),
        "paused": statuses.get(InstanceStatus.PAUSED, 0),
        "completed": statuses.get(InstanceStatus.COMPLETED, 0),
        "cancelled": statuses.get(InstanceStatus.CANCELLED, 0),
        "process step records": run_count,
    }
