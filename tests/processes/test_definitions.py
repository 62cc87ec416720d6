"""Process definitions: creating processes, editing drafts, publishing (validated,
retiring the old version), the versioning rule (published or used versions are
frozen; edits go to an exact copy), permissions and the audit trail."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from kontor.core import audit
from kontor.core.models import AuditAction, AuditEntry
from kontor.core.permissions import RoleCode
from kontor.processes.models import (
    AcceptanceStatus,
    Process,
    ProcessInstance,
    ProcessVersion,
    Step,
    StepActivity,
    Transition,
    VersionStatus,
)
from kontor.processes.services import definitions as services
from kontor.processes.validation import validate_version
from tests.conftest import role
from tests.core.factories import UserFactory
from tests.customers.factories import PersonFactory, owned_by

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    # Messages are asserted in English (the msgids); the default language is German.
    with translation.override("en"):
        yield


@pytest.fixture
def manager(team):
    """A sales manager: may define processes (processes.manage)."""
    return UserFactory(username="manager", role=role(RoleCode.SALES_MANAGER), teams=[team])


def rich_process(actor) -> Process:
    """A trade-fair process with a branch, a loop with an exit, activities of every
    grade (one accepted with a comment) and required fields — draft version 1."""
    process = services.process_create(
        actor=actor,
        name="Messebesucher wird Neukunde",
        goal="Erster Auftrag",
        trigger="trade_fair_capture",
        trigger_config={"fair": "Hannover Messe"},
        description="Vom Messekontakt zum Auftrag.",
    )
    version = process.versions.get()
    start = Step.objects.get(version=version, key="start")
    end = Step.objects.get(version=version, key="end")
    contact = services.step_create(
        actor=actor,
        version=version,
        name="Nachfassen",
        lane="sales",
        responsible="sales_rep",
        deadline_days=3,
        required_fields=["person.email", "custom.budget"],
        position=1,
    )
    offer = services.step_create(
        actor=actor, version=version, name="Angebot", key="offer", responsible="record_owner",
        deadline_days=5, position=2,
    )  # fmt: skip
    lost = services.step_create(
        actor=actor, version=version, name="Kein Interesse", is_end=True, lane="system",
        responsible="system",
    )  # fmt: skip
    way = Transition.objects.get(version=version, source=start, target=end)
    services.transition_update(actor=actor, transition=way, target=contact, label="")
    services.transition_create(actor=actor, source=contact, target=offer, label="Interessiert")
    services.transition_create(
        actor=actor,
        source=contact,
        target=lost,
        label="Kein Interesse",
        condition={"field": "person.lifecycle", "equals": "lost"},
    )
    services.transition_create(actor=actor, source=offer, target=end, label="Auftrag")
    services.transition_create(actor=actor, source=offer, target=contact, label="Nachbessern")
    for grade, kind in (("must", "task"), ("should", "email"), ("can", "appointment")):
        services.step_activity_create(
            actor=actor,
            step=contact,
            kind=kind,
            title=f"{kind} {grade}",
            grade=grade,
            required=grade == "must",
            config={"priority": "high"} if kind == "task" else {},
        )
    out = services.step_activity_create(
        actor=actor, step=offer, kind="checklist", title="Rabatt", grade="out", required=False
    )
    StepActivity.objects.filter(pk=out.pk).update(
        acceptance=AcceptanceStatus.ACCEPTED, acceptance_comment="Abgenommen am 3.3."
    )
    return process


def structure(version: ProcessVersion) -> dict:
    """Everything a version defines, without database ids (to compare copies)."""
    skip = {"id", "version", "step", "source", "target"}

    def values(row) -> dict:
        return {
            f.attname: getattr(row, f.attname)
            for f in row._meta.concrete_fields
            if f.name not in skip
        }

    version_fields = {
        k: v
        for k, v in values(version).items()
        if k
        not in {
            "process_id",
            "number",
            "status",
            "created_by_id",
            "created_at",
            "published_at",
            "lock_version",
        }
    }
    return {
        "version": version_fields,
        "steps": [
            {
                **values(s),
                "activities": [values(a) for a in s.activities.order_by("position", "id")],
            }
            for s in version.steps.order_by("position", "id")
        ],
        "transitions": sorted(
            (t.source.key, t.target.key, t.label, repr(t.condition), t.position)
            for t in version.transitions.all()
        ),
    }


def state():
    """Everything a definition write could change."""
    return (
        list(Process.objects.order_by("pk").values()),
        list(ProcessVersion.objects.order_by("pk").values()),
        list(Step.objects.order_by("pk").values()),
        list(Transition.objects.order_by("pk").values()),
        list(StepActivity.objects.order_by("pk").values()),
        AuditEntry.objects.count(),
    )


def _no_exit(version):
    """Nachfassen ⇄ Angebot with no way out."""
    Transition.objects.filter(version=version, source__key="offer", target__key="end").delete()
    Transition.objects.filter(version=version, target__key="kein-interesse").delete()


def start_instance(version: ProcessVersion, owner) -> ProcessInstance:
    step = version.steps.order_by("position").first()
    return ProcessInstance.objects.create(
        version=version, person=owned_by(PersonFactory, owner), current_step=step
    )


# --- Creating ----------------------------------------------------------------------------


def test_create_makes_a_sound_draft_version_1_with_a_start_and_an_end(manager):
    process = services.process_create(
        actor=manager, name="Reklamation", goal="Zufriedener Kunde", subject_kind="organization"
    )
    version = process.versions.get()
    assert (version.number, version.status, version.goal, version.trigger) == (
        1,
        VersionStatus.DRAFT,
        "Zufriedener Kunde",
        "manual",
    )
    assert process.owner == manager
    assert [(s.key, s.position, s.is_end, s.goal_reached) for s in version.steps.all()] == [
        ("start", 0, False, False),
        ("end", 1, True, True),
    ]
    assert [(t.source.key, t.target.key) for t in version.transitions.all()] == [("start", "end")]
    assert validate_version(version) == []
    entry = audit.entries_for(process).get()
    assert (entry.action, entry.actor, entry.via) == (AuditAction.CREATE, manager, "ui")
    assert entry.changes["name"] == [None, "Reklamation"]


def test_create_without_a_name_or_goal_is_refused_and_nothing_saved(manager):
    before = state()
    with pytest.raises(ValidationError) as exc:
        services.process_create(actor=manager, name="  ", goal="x")
    assert exc.value.message_dict == {"name": ["This field is required."]}
    with pytest.raises(ValidationError) as exc:
        services.process_create(actor=manager, name="Ok", goal="")
    assert exc.value.message_dict == {"goal": ["This field is required."]}
    assert state() == before


@pytest.mark.parametrize("persona", ["owner", "readonly"])
def test_roles_without_processes_manage_cannot_write(request, manager, persona):
    user = request.getfixturevalue(persona)
    process = rich_process(manager)
    version = process.versions.get()
    step = version.steps.get(key="offer")
    before = state()
    calls = [
        lambda: services.process_create(actor=user, name="X", goal="Y"),
        lambda: services.version_update(actor=user, version=version, goal="Z"),
        lambda: services.step_create(actor=user, version=version, name="Neu"),
        lambda: services.step_update(actor=user, step=step, name="Neu"),
        lambda: services.step_delete(actor=user, step=step),
        lambda: services.step_activity_create(actor=user, step=step, kind="task", title="T"),
        lambda: services.version_publish(actor=user, version=version),
        lambda: services.version_new_draft(actor=user, process=process),
        lambda: services.process_archive(actor=user, process=process),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert state() == before


# --- Editing a draft ---------------------------------------------------------------------


def test_steps_are_added_keyed_moved_and_deleted_in_order(manager):
    process = services.process_create(actor=manager, name="P", goal="G")
    version = process.versions.get()
    a = services.step_create(actor=manager, version=version, name="Anruf planen", position=1)
    b = services.step_create(actor=manager, version=version, name="Anruf planen")
    assert (a.key, b.key) == ("anruf-planen", "anruf-planen-2")
    assert list(version.steps.values_list("key", flat=True)) == [
        "start", "anruf-planen", "end", "anruf-planen-2",
    ]  # fmt: skip
    services.step_move(actor=manager, step=b, position=0)
    assert list(version.steps.values_list("key", "position")) == [
        ("anruf-planen-2", 0), ("start", 1), ("anruf-planen", 2), ("end", 3),
    ]  # fmt: skip
    services.step_delete(actor=manager, step=a)
    assert list(version.steps.values_list("key", "position")) == [
        ("anruf-planen-2", 0), ("start", 1), ("end", 2),
    ]  # fmt: skip


def test_a_given_key_must_be_unique_and_a_slug(manager):
    version = services.process_create(actor=manager, name="P", goal="G").versions.get()
    with pytest.raises(ValidationError) as exc:
        services.step_create(actor=manager, version=version, name="X", key="start")
    assert exc.value.message_dict == {"key": ["Another step of this version has this key."]}
    with pytest.raises(ValidationError) as exc:
        services.step_create(actor=manager, version=version, name="X", key="a b")
    assert exc.value.message_dict == {"key": ["Use only letters, digits, hyphens and underscores."]}


def test_goal_reached_only_on_an_end_step(manager):
    version = services.process_create(actor=manager, name="P", goal="G").versions.get()
    with pytest.raises(ValidationError) as exc:
        services.step_create(actor=manager, version=version, name="X", goal_reached=True)
    assert exc.value.message_dict == {
        "goal_reached": ["Only a step that ends the process can reach the goal."]
    }


def test_a_transition_to_a_step_of_another_version_is_refused(manager):
    one = services.process_create(actor=manager, name="P", goal="G").versions.get()
    two = services.process_create(actor=manager, name="Q", goal="G").versions.get()
    before = state()
    with pytest.raises(ValidationError) as exc:
        services.transition_create(
            actor=manager, source=one.steps.get(key="start"), target=two.steps.get(key="end")
        )
    assert exc.value.message_dict == {"target": ["Choose a step of this version."]}
    assert state() == before


def test_a_malformed_condition_is_refused(manager):
    version = services.process_create(actor=manager, name="P", goal="G").versions.get()
    start, end = version.steps.get(key="start"), version.steps.get(key="end")
    with pytest.raises(ValidationError) as exc:
        services.transition_create(actor=manager, source=start, target=end, condition={"x": 1})
    assert list(exc.value.message_dict) == ["condition"]


def test_version_update_with_a_stale_lock_version_is_a_conflict(manager):
    version = services.process_create(actor=manager, name="P", goal="G").versions.get()
    services.version_update(actor=manager, version=version, goal="Neu", lock_version=1)
    version.refresh_from_db()
    assert (version.goal, version.lock_version) == ("Neu", 2)
    with pytest.raises(services.EditConflict):
        services.version_update(actor=manager, version=version, goal="Alt", lock_version=1)
    version.refresh_from_db()
    assert version.goal == "Neu"


def test_activities_are_added_moved_and_deleted(manager):
    version = services.process_create(actor=manager, name="P", goal="G").versions.get()
    step = version.steps.get(key="start")
    a = services.step_activity_create(actor=manager, step=step, kind="task", title="A")
    b = services.step_activity_create(
        actor=manager, step=step, kind="email", title="B", grade="can"
    )
    c = services.step_activity_create(actor=manager, step=step, kind="field", title="C")
    services.step_activity_move(actor=manager, activity=c, position=0)
    assert list(step.activities.values_list("title", "position")) == [("C", 0), ("A", 1), ("B", 2)]
    services.step_activity_delete(actor=manager, activity=a)
    assert list(step.activities.values_list("title", "position")) == [("C", 0), ("B", 1)]
    services.step_activity_update(
        actor=manager, activity=b, kind="email", title="B2", grade="should", required=False
    )
    b.refresh_from_db()
    assert (b.title, b.grade, b.required) == ("B2", "should", False)
    with pytest.raises(ValidationError) as exc:
        services.step_activity_create(actor=manager, step=step, kind="fax", title="X")
    assert exc.value.message_dict == {"kind": ["Select a valid choice."]}


def test_a_step_created_at_a_position_comes_back_with_it(manager):
    version = services.process_create(actor=manager, name="P", goal="G").versions.get()
    step = services.step_create(actor=manager, version=version, name="Mitte", position=99)
    assert step.position == 2
    first = services.step_create(actor=manager, version=version, name="Erst", position=0)
    assert first.position == 0
    assert list(version.steps.values_list("key", "position")) == [
        ("erst", 0), ("start", 1), ("end", 2), ("mitte", 3),
    ]  # fmt: skip


def test_a_move_is_audited_on_the_moved_row_with_its_old_and_new_position(manager):
    version = services.process_create(actor=manager, name="P", goal="G").versions.get()
    start, end = version.steps.get(key="start"), version.steps.get(key="end")
    moved = services.step_move(actor=manager, step=end, position=0, via="api")
    assert (moved.pk, moved.position) == (end.pk, 0)
    entry = audit.entries_for(end).get(action=AuditAction.UPDATE)
    assert (entry.changes, entry.actor, entry.via) == ({"position": [1, 0]}, manager, "api")
    # The rows that close up are renumbered without entries of their own.
    assert not audit.entries_for(start).filter(action=AuditAction.UPDATE).exists()
    a = services.step_activity_create(actor=manager, step=start, kind="task", title="A")
    b = services.step_activity_create(actor=manager, step=start, kind="task", title="B")
    moved = services.step_activity_move(actor=manager, activity=a, position=5)
    assert (moved.pk, moved.position) == (a.pk, 1)
    assert audit.entries_for(a).get(action=AuditAction.UPDATE).changes == {"position": [0, 1]}
    assert not audit.entries_for(b).filter(action=AuditAction.UPDATE).exists()
    # A move that changes nothing writes nothing.
    entries = AuditEntry.objects.count()
    services.step_activity_move(actor=manager, activity=a, position=1)
    assert AuditEntry.objects.count() == entries


def test_deleting_a_step_audits_it_and_each_of_its_transitions(manager):
    version = services.process_create(actor=manager, name="P", goal="G").versions.get()
    start, end = version.steps.get(key="start"), version.steps.get(key="end")
    middle = services.step_create(actor=manager, version=version, name="Mitte", position=1)
    way_in = services.transition_create(actor=manager, source=start, target=middle)
    way_out = services.transition_create(actor=manager, source=middle, target=end)
    services.step_activity_create(actor=manager, step=middle, kind="task", title="A")
    services.step_delete(actor=manager, step=middle, via="api")
    deleted = AuditEntry.objects.filter(action=AuditAction.DELETE)
    assert sorted((e.content_type.model, e.object_id, e.via) for e in deleted) == sorted(
        [
            ("step", middle.pk, "api"),
            ("transition", way_in.pk, "api"),
            ("transition", way_out.pk, "api"),
        ]
    )
    assert list(version.transitions.values_list("source__key", "target__key")) == [("start", "end")]
    assert not StepActivity.objects.filter(step__version=version).exists()


def test_a_new_transition_goes_after_its_sources_others_and_a_delete_leaves_them(manager):
    version = services.process_create(actor=manager, name="P", goal="G").versions.get()
    start, end = version.steps.get(key="start"), version.steps.get(key="end")
    middle = services.step_create(actor=manager, version=version, name="Mitte")
    first = version.transitions.get()
    second = services.transition_create(actor=manager, source=start, target=middle)
    other = services.transition_create(actor=manager, source=middle, target=end)
    assert (first.position, second.position, other.position) == (0, 1, 0)
    services.transition_delete(actor=manager, transition=first)
    second.refresh_from_db()
    # Only the order of a step's ways out matters: the others keep their positions.
    assert second.position == 1
    assert audit.entries_for(first).filter(action=AuditAction.DELETE).count() == 1


def test_updates_are_audited_with_what_changed(manager):
    version = services.process_create(actor=manager, name="P", goal="G").versions.get()
    start, end = version.steps.get(key="start"), version.steps.get(key="end")
    services.step_update(actor=manager, step=start, name="Anfang", deadline_days=2)
    assert audit.entries_for(start).get(action=AuditAction.UPDATE).changes == {
        "name": ["Start", "Anfang"],
        "deadline_days": [None, 2],
    }
    way = version.transitions.get()
    services.transition_update(actor=manager, transition=way, target=end, label="Weiter")
    assert audit.entries_for(way).get(action=AuditAction.UPDATE).changes == {
        "label": ["", "Weiter"]
    }
    activity = services.step_activity_create(actor=manager, step=start, kind="task", title="A")
    services.step_activity_update(
        actor=manager, activity=activity, kind="task", title="A", grade="can"
    )
    assert audit.entries_for(activity).get(action=AuditAction.UPDATE).changes == {
        "grade": ["must", "can"]
    }
    process = version.process
    services.process_archive(actor=manager, process=process, via="api")
    entry = audit.entries_for(process).get(action=AuditAction.UPDATE)
    assert (entry.changes, entry.via) == ({"archived": [False, True]}, "api")


def test_every_draft_edit_needs_the_permission_and_a_draft(manager, owner):
    process = rich_process(manager)
    v1 = services.version_publish(actor=manager, version=process.versions.get())
    offer, contact = v1.steps.get(key="offer"), v1.steps.get(key="nachfassen")
    way = v1.transitions.first()
    activity = StepActivity.objects.filter(step=contact).first()
    edits = {
        "version_update": lambda a: services.version_update(actor=a, version=v1, goal="X"),
        "step_create": lambda a: services.step_create(actor=a, version=v1, name="X"),
        "step_update": lambda a: services.step_update(actor=a, step=offer, name="X"),
        "step_delete": lambda a: services.step_delete(actor=a, step=offer),
        "step_move": lambda a: services.step_move(actor=a, step=offer, position=0),
        "transition_create": lambda a: services.transition_create(
            actor=a, source=offer, target=contact
        ),
        "transition_update": lambda a: services.transition_update(
            actor=a, transition=way, target=offer
        ),
        "transition_delete": lambda a: services.transition_delete(actor=a, transition=way),
        "step_activity_create": lambda a: services.step_activity_create(
            actor=a, step=offer, kind="task", title="X"
        ),
        "step_activity_update": lambda a: services.step_activity_update(
            actor=a, activity=activity, kind="task", title="X"
        ),
        "step_activity_delete": lambda a: services.step_activity_delete(actor=a, activity=activity),
        "step_activity_move": lambda a: services.step_activity_move(
            actor=a, activity=activity, position=2
        ),
    }
    before = state()
    for edit in edits.values():
        # The permission is checked first: without it, not even the version's state shows.
        with pytest.raises(PermissionDenied):
            edit(owner)
        with pytest.raises(services.VersionFrozen):
            edit(manager)
    assert state() == before


@pytest.mark.parametrize(
    "condition, stored",
    [
        (None, {}),
        ({}, {}),
        ({"field": "person.lifecycle", "equals": "lost"}, None),
        ({"field": "custom.budget", "equals": None}, None),
    ],
)
def test_a_condition_is_a_field_and_a_value_or_empty(manager, condition, stored):
    version = services.process_create(actor=manager, name="P", goal="G").versions.get()
    start, end = version.steps.get(key="start"), version.steps.get(key="end")
    way = services.transition_create(actor=manager, source=start, target=end, condition=condition)
    way.refresh_from_db()
    assert way.condition == (condition if stored is None else stored)


@pytest.mark.parametrize(
    "condition",
    [
        {"field": "person.lifecycle"},
        {"equals": "lost"},
        {"field": "", "equals": "lost"},
        {"field": 1, "equals": "lost"},
        {"field": "person.lifecycle", "equals": "lost", "else": "x"},
        ["person.lifecycle", "lost"],
        "person.lifecycle",
    ],
)
def test_a_malformed_condition_is_refused_on_create_and_update(manager, condition):
    version = services.process_create(actor=manager, name="P", goal="G").versions.get()
    start, end = version.steps.get(key="start"), version.steps.get(key="end")
    way = version.transitions.get()
    before = state()
    message = {"condition": ['A condition is {"field": "…", "equals": …}, or empty.']}
    with pytest.raises(ValidationError) as exc:
        services.transition_create(actor=manager, source=start, target=end, condition=condition)
    assert exc.value.message_dict == message
    with pytest.raises(ValidationError) as exc:
        services.transition_update(actor=manager, transition=way, target=end, condition=condition)
    assert exc.value.message_dict == message
    assert state() == before


def test_configurations_must_be_json_objects(manager):
    with pytest.raises(ValidationError) as exc:
        services.process_create(actor=manager, name="P", goal="G", trigger_config=["x"])
    assert exc.value.message_dict == {"trigger_config": ["Send a JSON object."]}
    version = services.process_create(actor=manager, name="P", goal="G").versions.get()
    with pytest.raises(ValidationError) as exc:
        services.version_update(actor=manager, version=version, goal="G", trigger_config="x")
    assert exc.value.message_dict == {"trigger_config": ["Send a JSON object."]}
    step = version.steps.get(key="start")
    before = state()
    with pytest.raises(ValidationError) as exc:
        services.step_activity_create(actor=manager, step=step, kind="task", title="A", config="")
    assert exc.value.message_dict == {"config": ["Send a JSON object."]}
    assert state() == before
    activity = services.step_activity_create(actor=manager, step=step, kind="task", title="A")
    assert activity.config == {}


# --- Publishing --------------------------------------------------------------------------


def test_publish_validates_and_sets_published_at(manager):
    process = rich_process(manager)
    version = services.version_publish(actor=manager, version=process.versions.get())
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED
    assert version.published_at is not None


@pytest.mark.parametrize(
    "breakage, code",
    [
        (lambda v: Step.objects.filter(version=v).delete(), "no_steps"),
        (
            lambda v: Step.objects.filter(version=v, key="offer").update(responsible=""),
            "no_responsible",
        ),
        (lambda v: Transition.objects.filter(version=v, source__key="offer").delete(), "dead_end"),
        (lambda v: _no_exit(v), "loop_without_exit"),
    ],
    ids=["no steps", "no responsible", "leads nowhere", "loop without exit"],
)
def test_publish_is_refused_with_the_problem_and_nothing_changes(manager, breakage, code):
    process = rich_process(manager)
    version = process.versions.get()
    breakage(version)
    before = state()
    with pytest.raises(services.VersionInvalid) as exc:
        services.version_publish(actor=manager, version=version)
    assert code in [p.code for p in exc.value.problems]
    assert exc.value.messages == [p.message for p in exc.value.problems]
    assert state() == before


def test_publishing_a_new_version_retires_the_old_one(manager):
    process = rich_process(manager)
    v1 = services.version_publish(actor=manager, version=process.versions.get())
    v2 = services.version_new_draft(actor=manager, process=process)
    services.version_update(actor=manager, version=v2, goal="Zwei Aufträge")
    services.version_publish(actor=manager, version=v2)
    assert list(process.versions.order_by("number").values_list("number", "status")) == [
        (1, VersionStatus.RETIRED),
        (2, VersionStatus.PUBLISHED),
    ]
    assert [
        e.changes["status"] for e in audit.entries_for(v1).filter(action="update").order_by("id")
    ] == [
        ["draft", "published"],
        ["published", "retired"],
    ]


def test_a_published_version_cannot_be_published_again(manager):
    process = rich_process(manager)
    version = services.version_publish(actor=manager, version=process.versions.get())
    with pytest.raises(ValidationError) as exc:
        services.version_publish(actor=manager, version=version)
    assert exc.value.messages == ["Version 1 is not a draft; only drafts can be published."]


# --- Versioning --------------------------------------------------------------------------


def test_a_new_draft_is_an_exact_copy(manager):
    process = rich_process(manager)
    v1 = services.version_publish(actor=manager, version=process.versions.get())
    v2 = services.version_new_draft(actor=manager, process=process)
    assert (v2.number, v2.status, v2.published_at, v2.lock_version) == (2, "draft", None, 1)
    assert structure(v2) == structure(v1)
    # The copy is its own: no row is shared between the versions.
    assert not set(v1.steps.values_list("pk", flat=True)) & set(
        v2.steps.values_list("pk", flat=True)
    )
    assert all(t.source.version_id == v2.pk == t.target.version_id for t in v2.transitions.all())
    copied = StepActivity.objects.get(step__version=v2, title="Rabatt")
    assert (copied.acceptance, copied.acceptance_comment) == ("accepted", "Abgenommen am 3.3.")


def test_asking_for_a_draft_while_one_is_open_returns_it(manager):
    process = rich_process(manager)
    services.version_publish(actor=manager, version=process.versions.get())
    v2 = services.version_new_draft(actor=manager, process=process)
    assert services.version_new_draft(actor=manager, process=process) == v2
    assert process.versions.count() == 2


def test_editing_a_published_version_is_refused_and_goes_to_a_new_draft(manager):
    process = rich_process(manager)
    v1 = services.version_publish(actor=manager, version=process.versions.get())
    step = v1.steps.get(key="offer")
    before = state()
    for call in (
        lambda: services.step_update(actor=manager, step=step, name="Anders"),
        lambda: services.step_create(actor=manager, version=v1, name="Neu"),
        lambda: services.version_update(actor=manager, version=v1, goal="Anders"),
        lambda: services.step_activity_create(actor=manager, step=step, kind="task", title="T"),
        lambda: services.transition_delete(actor=manager, transition=v1.transitions.first()),
    ):
        with pytest.raises(services.VersionFrozen) as exc:
            call()
        assert exc.value.messages == [
            "Version 1 is published or in use and cannot be changed. Edit a new draft: "
            "running instances finish on the version they started with."
        ]
    assert state() == before
    v2 = services.version_new_draft(actor=manager, process=process)
    services.step_update(actor=manager, step=v2.steps.get(key="offer"), name="Anders")
    assert v1.steps.get(key="offer").name == "Angebot"
    assert v2.steps.get(key="offer").name == "Anders"


def test_a_draft_with_instances_is_frozen_and_they_keep_their_version(manager, owner):
    process = rich_process(manager)
    v1 = process.versions.get()
    instance = start_instance(v1, owner)
    with pytest.raises(services.VersionFrozen):
        services.step_create(actor=manager, version=v1, name="Neu")
    v2 = services.version_new_draft(actor=manager, process=process)
    assert v2.number == 2
    services.step_create(actor=manager, version=v2, name="Neu")
    instance.refresh_from_db()
    assert instance.version == v1
    assert instance.current_step.version == v1


def test_archive_and_restore(manager):
    process = rich_process(manager)
    services.process_archive(actor=manager, process=process)
    process.refresh_from_db()
    assert process.archived is True
    services.process_archive(actor=manager, process=process, archived=False)
    process.refresh_from_db()
    assert process.archived is False
