"""The shipped customer scenes: ready-made processes, in German and English, built from
the source texts ("a trade-fair visitor becomes a new customer", "a complaint becomes a
satisfied customer" …). They are data here; ``scenes_install`` writes them as published
version 1 of processes with a stable ``key`` so a company can use them as they are or
adapt them in the editor (which then makes a new version).

Every text is a ``(German, English)`` pair; a scene is created in one language, the one
the company works in. Installing is idempotent by ``Process.key``: a scene that exists
(whatever its language, whatever was changed in it since) is left alone.
"""

from dataclasses import dataclass, field
from itertools import pairwise

from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from kontor.core import audit
from kontor.core.models import AuditAction
from kontor.processes.models import (
    ActivityType,
    Grade,
    Lane,
    Process,
    ProcessVersion,
    Responsible,
    Step,
    StepActivity,
    SubjectKind,
    Transition,
    TriggerKind,
    VersionStatus,
)

Text = tuple[str, str]  # (German, English)


@dataclass(frozen=True)
class SceneActivity:
    kind: str
    title: Text
    grade: str = Grade.MUST
    required: bool = True
    description: Text = ("", "")
    config: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SceneStep:
    key: str
    name: Text
    lane: str
    responsible: str
    deadline_days: int | None = None
    required_fields: tuple[str, ...] = ()
    description: Text = ("", "")
    is_end: bool = False
    goal_reached: bool = False
    activities: tuple[SceneActivity, ...] = ()


@dataclass(frozen=True)
class SceneTransition:
    source: str
    target: str
    label: Text = ("", "")


@dataclass(frozen=True)
class Scene:
    key: str
    name: Text
    goal: Text
    description: Text
    steps: tuple[SceneStep, ...]
    transitions: tuple[SceneTransition, ...]
    trigger: str = TriggerKind.MANUAL
    trigger_config: dict = field(default_factory=dict)
    subject_kind: str = SubjectKind.PERSON


def _chain(*keys: str) -> tuple[SceneTransition, ...]:
    """Unlabelled transitions through ``keys`` in order (the only way on each time)."""
    return tuple(SceneTransition(a, b) for a, b in pairwise(keys))


A = SceneActivity
S = SceneStep
T = SceneTransition
TASK, EMAIL, APPOINTMENT, FIELD, CHECKLIST = (
    ActivityType.TASK,
    ActivityType.EMAIL,
    ActivityType.APPOINTMENT,
    ActivityType.FIELD,
    ActivityType.CHECKLIST,
)
MUST, SHOULD, CAN, OUT = Grade.MUST, Grade.SHOULD, Grade.CAN, Grade.OUT_OF_SCOPE
OWNER, SYSTEM, CUSTOMER = Responsible.RECORD_OWNER, Responsible.SYSTEM, Responsible.CUSTOMER
YES, NO = ("Ja", "Yes"), ("Nein", "No")


TRADE_FAIR = Scene(
    key="trade_fair_visitor",
    name=("Messebesucher → Neukunde", "Trade-fair visitor → new customer"),
    goal=(
        "Der Messebesucher hat seinen ersten Auftrag erteilt.",
        "The visitor placed a first order.",
    ),
    description=(
        "Aus einem Gespräch am Messestand wird ein neuer Kunde: Dank, Anruf, Angebot, "
        "Nachfassen bis zum ersten Auftrag.",
        "A conversation at the fair stand becomes a new customer: thanks, call, offer, "
        "follow-up until the first order.",
    ),
    trigger=TriggerKind.TRADE_FAIR_CAPTURE,
    steps=(
        S("captured", ("Messegespräch erfasst", "Trade-fair talk captured"), Lane.SYSTEM, SYSTEM,
          required_fields=("person.email", "person.organization"),
          activities=(
              A(FIELD, ("Gesprächsnotiz und Interesse erfassen", "Record talk notes and interest"),
                config={"field": "activity.body"}),
              A(CHECKLIST, ("Visitenkarte gescannt", "Business card scanned"), SHOULD, False),
          )),
        S("thanks", ("Dankesmail senden", "Send thank-you e-mail"), Lane.MARKETING, OWNER, 1,
          required_fields=("person.email",),
          activities=(
              A(EMAIL, ("Dankesmail mit Unterlagen", "Thank-you e-mail with brochures"),
                config={"send": False}),
              A(CHECKLIST, ("Newsletter-Einwilligung abfragen", "Ask for newsletter consent"),
                CAN, False),
          )),
        S("call", ("Anruf innerhalb 3 Werktagen", "Call within 3 business days"), Lane.SALES,
          OWNER, 3, required_fields=("person.phone",),
          activities=(
              A(TASK, ("Besucher anrufen und Bedarf klären", "Call the visitor, clarify needs")),
              A(FIELD, ("Budget erfassen", "Record the budget"), SHOULD, False,
                config={"field": "custom.budget"}),
          )),
        S("offer", ("Angebot erstellen", "Prepare an offer"), Lane.SALES, OWNER, 5,
          activities=(
              A(TASK, ("Angebot erstellen und versenden", "Prepare and send the offer")),
              A(CHECKLIST, ("Preisfreigabe durch Vertriebsleitung",
                            "Price approved by sales manager"), SHOULD, False),
              A(TASK, ("Angebot im ERP anlegen", "Create the offer in the ERP"), OUT, False),
          )),
        S("follow_up", ("Nachfassen", "Follow up"), Lane.SALES, OWNER, 5,
          activities=(A(TASK, ("Beim Kunden nachfassen", "Follow up with the customer")),)),
        S("order", ("Auftrag?", "Order?"), Lane.CUSTOMER, CUSTOMER,
          description=("Entscheidung des Kunden.", "The customer's decision.")),
        S("won", ("Erster Auftrag", "First order"), Lane.SALES, OWNER, is_end=True,
          goal_reached=True,
          activities=(A(CHECKLIST, ("Kunde als Neukunde markiert", "Marked as new customer"),
                        SHOULD, False),)),
        S("no_need", ("Kein Bedarf", "No need"), Lane.SALES, OWNER, is_end=True,
          activities=(A(FIELD, ("Grund erfassen", "Record the reason"), SHOULD, False,
                        config={"field": "activity.body"}),)),
    ),
    transitions=(
        *_chain("captured", "thanks", "call", "offer", "follow_up", "order"),
        T("order", "won", YES),
        T("order", "no_need", NO),
    ),
)  # fmt: skip

COMPLAINT = Scene(
    key="complaint",
    name=("Reklamation → zufriedener Kunde", "Complaint → satisfied customer"),
    goal=(
        "Der Kunde ist mit der Lösung zufrieden.",
        "The customer is satisfied with the solution.",
    ),
    description=(
        "Eine Reklamation wird schnell bestätigt, geprüft, gelöst und nachgefragt.",
        "A complaint is confirmed quickly, examined, solved and checked back.",
    ),
    steps=(
        S("received", ("Reklamation aufgenommen", "Complaint recorded"), Lane.SERVICE,
          Responsible.SERVICE_AGENT, 1, required_fields=("person.email",),
          activities=(
              A(FIELD, ("Fehlerbeschreibung erfassen", "Record the problem"),
                config={"field": "activity.body"}),
              A(EMAIL, ("Eingangsbestätigung senden", "Send acknowledgement"),
                config={"send": False}),
          )),
        S("examine", ("Reklamation prüfen", "Examine the complaint"), Lane.SERVICE,
          Responsible.SERVICE_AGENT, 3,
          activities=(
              A(TASK, ("Ursache klären", "Find the cause")),
              A(CHECKLIST, ("Vertrieb informiert", "Sales informed"), SHOULD, False),
          )),
        S("justified", ("Berechtigt?", "Justified?"), Lane.SERVICE, Responsible.SERVICE_AGENT, 1),
        S("solve", ("Lösung umsetzen", "Carry out the solution"), Lane.SERVICE,
          Responsible.SERVICE_AGENT, 5,
          activities=(A(TASK, ("Ersatz, Gutschrift oder Reparatur veranlassen",
                               "Arrange replacement, credit or repair")),)),
        S("explain", ("Ablehnung begründen", "Explain the rejection"), Lane.SALES, OWNER, 3,
          activities=(A(APPOINTMENT, ("Gespräch mit dem Kunden", "Talk to the customer"),
                        config={"duration_minutes": 30}),)),
        S("check_back", ("Zufriedenheit nachfragen", "Check satisfaction"), Lane.SALES, OWNER, 10,
          activities=(
              A(TASK, ("Kunden anrufen", "Call the customer")),
              A(FIELD, ("Zufriedenheit erfassen", "Record satisfaction"), CAN, False,
                config={"field": "custom.satisfaction"}),
          )),
        S("satisfied", ("Kunde zufrieden", "Customer satisfied"), Lane.CUSTOMER, CUSTOMER,
          is_end=True, goal_reached=True),
    ),
    transitions=(
        *_chain("received", "examine", "justified"),
        T("justified", "solve", YES),
        T("justified", "explain", NO),
        *_chain("solve", "check_back", "satisfied"),
        T("explain", "check_back"),
    ),
)  # fmt: skip

CAMPAIGN = Scene(
    key="campaign_response",
    name=("Kampagnenrücklauf → qualifizierter Lead", "Campaign response → qualified lead"),
    goal=("Der Interessent ist qualifiziert und an den Vertrieb übergeben.",
          "The prospect is qualified and handed over to sales."),
    description=(
        "Wer auf eine Kampagne antwortet, bekommt Unterlagen, wird qualifiziert und "
        "an den Vertrieb übergeben.",
        "Whoever responds to a campaign gets material, is qualified and handed to sales.",
    ),
    trigger=TriggerKind.LEAD_CREATED,
    trigger_config={"source": "campaign"},
    steps=(
        S("response", ("Rücklauf erfasst", "Response recorded"), Lane.MARKETING,
          Responsible.MARKETING, 1, required_fields=("person.email",),
          activities=(A(FIELD, ("Kampagne zuordnen", "Link the campaign"),
                        config={"field": "custom.campaign"}),)),
        S("material", ("Unterlagen senden", "Send material"), Lane.MARKETING,
          Responsible.MARKETING, 2,
          activities=(A(EMAIL, ("Informationsmail", "Information e-mail"),
                        config={"send": False}),)),
        S("qualify", ("Qualifizieren", "Qualify"), Lane.SALES, OWNER, 5,
          required_fields=("person.phone",),
          activities=(
              A(TASK, ("Bedarf, Budget, Entscheider, Zeitraum klären",
                       "Clarify need, budget, decision maker, timing")),
              A(CHECKLIST, ("Einkaufsgremium erfasst", "Buying center recorded"), SHOULD, False),
          )),
        S("decision", ("Qualifiziert?", "Qualified?"), Lane.SALES, OWNER),
        S("handover", ("An Vertrieb übergeben", "Handed over to sales"), Lane.SALES,
          Responsible.SALES_MANAGER, is_end=True, goal_reached=True),
        S("nurture", ("Weiter pflegen", "Keep nurturing"), Lane.MARKETING, Responsible.MARKETING,
          is_end=True,
          activities=(A(CHECKLIST, ("In Newsletter-Verteiler aufnehmen", "Add to newsletter"),
                        CAN, False),)),
    ),
    transitions=(
        *_chain("response", "material", "qualify", "decision"),
        T("decision", "handover", YES),
        T("decision", "nurture", NO),
    ),
)  # fmt: skip

VISIT = Scene(
    key="customer_visit",
    name=("Kundenbesuch", "Customer visit"),
    goal=("Der Besuch ist berichtet und nachbereitet.", "The visit is reported and followed up."),
    description=(
        "Ein Besuch wird vorbereitet, durchgeführt, berichtet und nachgefasst.",
        "A visit is prepared, made, reported and followed up.",
    ),
    subject_kind=SubjectKind.ORGANIZATION,
    steps=(
        S("prepare", ("Besuch vorbereiten", "Prepare the visit"), Lane.SALES, OWNER, 3,
          activities=(
              A(APPOINTMENT, ("Termin vereinbaren", "Schedule the appointment"),
                config={"duration_minutes": 60}),
              A(CHECKLIST, ("Kontakthistorie und Umsätze gelesen",
                            "Contact history and revenue read"), SHOULD, False),
          )),
        S("visit", ("Besuch durchführen", "Make the visit"), Lane.CUSTOMER, OWNER, 10,
          activities=(A(TASK, ("Besuch beim Kunden", "Visit the customer")),)),
        S("report", ("Besuchsbericht schreiben", "Write the visit report"), Lane.SALES, OWNER, 2,
          activities=(A(FIELD, ("Bericht erfassen", "Record the report"),
                        config={"field": "activity.body"}),)),
        S("follow_up", ("Nachfassen", "Follow up"), Lane.SALES, OWNER, 5,
          activities=(
              A(EMAIL, ("Zusammenfassung an den Kunden", "Summary to the customer"), SHOULD, False,
                config={"send": False}),
              A(TASK, ("Vereinbarte Punkte erledigen", "Do what was agreed")),
          )),
        S("done", ("Besuch abgeschlossen", "Visit completed"), Lane.SALES, OWNER, is_end=True,
          goal_reached=True),
    ),
    transitions=_chain("prepare", "visit", "report", "follow_up", "done"),
)  # fmt: skip

OFFER = Scene(
    key="offer_to_order",
    name=("Angebot → Auftrag", "Offer → order"),
    goal=("Das Angebot ist zum Auftrag geworden.", "The offer became an order."),
    description=(
        "Ein Angebot wird erstellt, freigegeben, versandt und nachgefasst.",
        "An offer is prepared, approved, sent and followed up.",
    ),
    subject_kind=SubjectKind.ORGANIZATION,
    steps=(
        S("request", ("Anfrage aufnehmen", "Take the request"), Lane.SALES, OWNER, 1,
          activities=(A(FIELD, ("Anforderungen erfassen", "Record the requirements"),
                        config={"field": "activity.body"}),)),
        S("prepare", ("Angebot erstellen", "Prepare the offer"), Lane.SALES, OWNER, 3,
          activities=(
              A(TASK, ("Angebot kalkulieren", "Calculate the offer")),
              A(CHECKLIST, ("Freigabe eingeholt", "Approval obtained"), SHOULD, False),
          )),
        S("send", ("Angebot versenden", "Send the offer"), Lane.SALES, OWNER, 1,
          required_fields=("person.email",),
          activities=(A(EMAIL, ("Angebotsmail", "Offer e-mail"), config={"send": False}),)),
        S("follow_up", ("Nachfassen", "Follow up"), Lane.SALES, OWNER, 5,
          activities=(A(TASK, ("Kunden anrufen", "Call the customer")),)),
        S("decision", ("Auftrag?", "Order?"), Lane.CUSTOMER, CUSTOMER),
        S("order", ("Auftrag erhalten", "Order received"), Lane.SALES, OWNER, is_end=True,
          goal_reached=True,
          activities=(A(TASK, ("Auftragsbestätigung im ERP", "Order confirmation in the ERP"),
                        OUT, False),)),
        S("lost", ("Verloren", "Lost"), Lane.SALES, OWNER, is_end=True,
          activities=(A(FIELD, ("Verlustgrund erfassen", "Record the reason for the loss"),
                        config={"field": "custom.loss_reason"}),)),
    ),
    transitions=(
        *_chain("request", "prepare", "send", "follow_up", "decision"),
        T("decision", "order", YES),
        T("decision", "lost", NO),
    ),
)  # fmt: skip

WIN_BACK = Scene(
    key="lost_customer_win_back",
    name=("Verlorener Kunde → zurückgewonnen", "Lost customer → won back"),
    goal=("Der Kunde hat wieder bestellt.", "The customer ordered again."),
    description=(
        "Ein Kunde, der lange nicht bestellt hat, wird nach dem Grund gefragt und "
        "mit einem Angebot zurückgewonnen.",
        "A customer who has not ordered for long is asked why and won back with an offer.",
    ),
    trigger=TriggerKind.CUSTOMER_INACTIVE,
    trigger_config={"months": 12},
    steps=(
        S("analyse", ("Grund analysieren", "Analyse the reason"), Lane.SALES, OWNER, 5,
          activities=(
              A(CHECKLIST, ("Historie und Reklamationen geprüft",
                            "History and complaints checked")),
          )),
        S("contact", ("Kunden ansprechen", "Contact the customer"), Lane.SALES, OWNER, 5,
          required_fields=("person.phone",),
          activities=(
              A(TASK, ("Anruf: Warum bestellen Sie nicht mehr?", "Call: why no more orders?")),
              A(FIELD, ("Grund erfassen", "Record the reason"),
                config={"field": "custom.loss_reason"}),
          )),
        S("offer", ("Rückgewinnungsangebot", "Win-back offer"), Lane.SALES, OWNER, 5,
          activities=(
              A(EMAIL, ("Angebot senden", "Send the offer"), config={"send": False}),
              A(TASK, ("Sonderkonditionen freigeben", "Approve special terms"), CAN, False),
          )),
        S("decision", ("Wieder bestellt?", "Ordered again?"), Lane.CUSTOMER, CUSTOMER),
        S("won_back", ("Zurückgewonnen", "Won back"), Lane.SALES, OWNER, is_end=True,
          goal_reached=True),
        S("gone", ("Endgültig verloren", "Lost for good"), Lane.SALES, OWNER, is_end=True),
    ),
    transitions=(
        *_chain("analyse", "contact", "offer", "decision"),
        T("decision", "won_back", YES),
        T("decision", "gone", NO),
    ),
)  # fmt: skip

ONBOARDING = Scene(
    key="new_customer_onboarding",
    name=("Neukunden-Onboarding", "New customer onboarding"),
    goal=(
        "Der Neukunde ist eingerichtet und betreut.",
        "The new customer is set up and looked after.",
    ),
    description=(
        "Nach dem ersten Auftrag: Begrüßung, Stammdaten, Einführung, erste Nachfrage.",
        "After the first order: welcome, master data, introduction, first check-in.",
    ),
    subject_kind=SubjectKind.ORGANIZATION,
    steps=(
        S("welcome", ("Begrüßung", "Welcome"), Lane.SALES, OWNER, 2,
          required_fields=("person.email",),
          activities=(A(EMAIL, ("Willkommensmail", "Welcome e-mail"), config={"send": False}),)),
        S("master_data", ("Stammdaten vervollständigen", "Complete master data"), Lane.SALES,
          OWNER, 5, required_fields=("organization.vat_id", "organization.address"),
          activities=(
              A(FIELD, ("Rechnungsadresse", "Billing address"),
                config={"field": "organization.address"}),
              A(CHECKLIST, ("Einkaufsgremium erfasst", "Buying center recorded"), SHOULD, False),
          )),
        S("introduce", ("Einführungsgespräch", "Introduction meeting"), Lane.SERVICE,
          Responsible.SERVICE_AGENT, 10,
          activities=(A(APPOINTMENT, ("Einführung beim Kunden", "Introduction at the customer"),
                        config={"duration_minutes": 90}),)),
        S("check_in", ("Erste Nachfrage", "First check-in"), Lane.SALES, OWNER, 20,
          activities=(A(TASK, ("Zufriedenheit nachfragen", "Ask about satisfaction")),)),
        S("onboarded", ("Kunde betreut", "Customer onboarded"), Lane.CUSTOMER, CUSTOMER,
          is_end=True, goal_reached=True),
    ),
    transitions=_chain("welcome", "master_data", "introduce", "check_in", "onboarded"),
)  # fmt: skip

SCENES: tuple[Scene, ...] = (TRADE_FAIR, COMPLAINT, CAMPAIGN, VISIT, OFFER, WIN_BACK, ONBOARDING)


def _pick(text: Text, language: str) -> str:
    return text[0] if language.startswith("de") else text[1]


def _create(row, *, actor):
    row.full_clean()
    row.save()
    audit.record(actor=actor, action=AuditAction.CREATE, instance=row, via="system")
    return row


def scene_install(scene: Scene, *, language: str = "de", actor=None) -> Process:
    """Write one scene as a process with published version 1 (no existence check)."""
    tr = lambda text: _pick(text, language)  # noqa: E731
    user = actor if getattr(actor, "pk", None) else None
    process = _create(
        Process(name=tr(scene.name), key=scene.key, subject_kind=scene.subject_kind, owner=user),
        actor=actor,
    )
    version = _create(
        ProcessVersion(
            process=process,
            number=1,
            status=VersionStatus.PUBLISHED,
            published_at=timezone.now(),
            goal=tr(scene.goal),
            description=tr(scene.description),
            trigger=scene.trigger,
            trigger_config=dict(scene.trigger_config),
            created_by=user,
        ),
        actor=actor,
    )
    steps: dict[str, Step] = {}
    for position, spec in enumerate(scene.steps):
        step = _create(
            Step(
                version=version,
                key=spec.key,
                name=tr(spec.name),
                description=tr(spec.description),
                position=position,
                lane=spec.lane,
                responsible=spec.responsible,
                deadline_days=spec.deadline_days,
                required_fields=list(spec.required_fields),
                is_end=spec.is_end,
                goal_reached=spec.goal_reached,
            ),
            actor=actor,
        )
        steps[spec.key] = step
        for index, item in enumerate(spec.activities):
            _create(
                StepActivity(
                    step=step,
                    kind=item.kind,
                    title=tr(item.title),
                    description=tr(item.description),
                    config=dict(item.config),
                    grade=item.grade,
                    required=item.required,
                    position=index,
                ),
                actor=actor,
            )
    positions: dict[str, int] = {}
    for spec in scene.transitions:
        position = positions.get(spec.source, 0)
        positions[spec.source] = position + 1
        _create(
            Transition(
                version=version,
                source=steps[spec.source],
                target=steps[spec.target],
                label=tr(spec.label),
                position=position,
            ),
            actor=actor,
        )
    return process


def scenes_install(*, language: str = "de", actor=None) -> list[Process]:
    """Install the shipped scenes in ``language`` ("de" or "en"). Idempotent by key: a
    scene whose process exists is left alone. Returns the processes created now."""
    created = []
    existing = set(
        Process.objects.filter(key__in=[s.key for s in SCENES]).values_list("key", flat=True)
    )
    with translation.override(language):
        for scene in SCENES:
            if scene.key in existing:
                continue
            try:
                with transaction.atomic():
                    created.append(scene_install(scene, language=language, actor=actor))
            except IntegrityError:
                # Installed at the same moment by someone else: that one stays.
                continue
    return created
