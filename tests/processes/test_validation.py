"""Validation of process versions: each bad case of the issue gives one clear problem
with a stable code and the step it is about; a sound version gives none."""

import itertools

import pytest
from django.utils import translation

from kontor.processes.models import (
    Process,
    ProcessVersion,
    Step,
    Transition,
)
from kontor.processes.validation import Problem, validate_version

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    # Messages are asserted in English (the msgids); the default language is German.
    with translation.override("en"):
        yield


def build(steps: str, ways: list[tuple] = (), *, process: Process | None = None) -> ProcessVersion:
    """A draft version from a compact spec: ``steps`` is "a b c* d*" (``*`` ends the
    process), ``ways`` are (source, target[, label[, condition]]) by key."""
    process = process or Process.objects.create(name="Messe")
    number = ProcessVersion.objects.filter(process=process).count() + 1
    version = ProcessVersion.objects.create(process=process, number=number, goal="Auftrag")
    by_key = {}
    for position, spec in enumerate(steps.split()):
        key = spec.rstrip("*")
        by_key[key] = Step.objects.create(
            version=version, key=key, name=key.upper(), position=position, is_end=spec.endswith("*")
        )
    for source, target, *rest in ways:
        label = rest[0] if rest else ""
        condition = rest[1] if len(rest) > 1 else {}
        Transition.objects.create(
            version=version,
            source=by_key[source],
            target=by_key[target],
            label=label,
            condition=condition,
        )
    return version


def codes(version) -> list[tuple[str, str | None]]:
    return [(p.code, p.step) for p in validate_version(version)]


def test_a_straight_process_is_sound():
    version = build("a b c*", [("a", "b"), ("b", "c")])
    assert validate_version(version) == []


def test_a_branch_with_labels_and_a_loop_with_an_exit_is_sound():
    version = build(
        "a b c d*",
        [("a", "b"), ("b", "c", "Interested"), ("b", "d", "Not interested"), ("c", "b")],
    )
    assert validate_version(version) == []


def test_a_branch_by_condition_and_one_unlabelled_default_is_sound():
    version = build(
        "a b* c*",
        [("a", "b", "", {"field": "person.lifecycle", "equals": "customer"}), ("a", "c")],
    )
    assert validate_version(version) == []


def test_no_steps():
    version = build("")
    assert validate_version(version) == [
        Problem("no_steps", "The process has no steps. Add at least a start and an end.", None)
    ]


def test_a_step_without_a_responsible_role():
    version = build("a b*", [("a", "b")])
    Step.objects.filter(version=version, key="a").update(responsible="")
    assert validate_version(version) == [
        Problem("no_responsible", "Step “A” has no responsible role.", "a")
    ]


def test_a_branch_that_leads_nowhere():
    version = build("a b c*", [("a", "b", "Yes"), ("a", "c", "No")])
    assert validate_version(version) == [
        Problem(
            "dead_end",
            "Step “B” leads nowhere: add a way on, or mark it as ending the process.",
            "b",
        )
    ]


def test_a_loop_with_no_exit():
    version = build("a b c d*", [("a", "b", "Go"), ("a", "d", "Stop"), ("b", "c"), ("c", "b")])
    assert validate_version(version) == [
        Problem(
            "loop_without_exit",
            "The steps “B”, “C” form a loop with no way out to an end step.",
            "b",
        )
    ]


def test_a_step_looping_on_itself_for_ever():
    version = build("a b c*", [("a", "b", "x"), ("a", "c", "y"), ("b", "b")])
    assert codes(version) == [("loop_without_exit", "b")]


def test_no_end_step():
    version = build("a b", [("a", "b"), ("b", "a")])
    assert codes(version) == [("no_end", None)]


def test_an_end_step_with_ways_on():
    version = build("a b* c*", [("a", "b"), ("b", "c")])
    assert codes(version) == [("end_has_outgoing", "b")]


def test_an_unreachable_step():
    version = build("a b* c", [("a", "b"), ("c", "b")])
    assert validate_version(version) == [
        Problem("unreachable", "Step “C” cannot be reached from the start “A”.", "c")
    ]


def test_the_first_step_is_the_start_and_must_not_end_the_process():
    version = build("a* b c*", [("b", "c")])
    assert codes(version) == [("start_is_end", "a"), ("unreachable", "b"), ("unreachable", "c")]


def test_a_single_end_step_is_a_complete_if_trivial_process():
    assert validate_version(build("done*")) == []


def test_a_branch_the_user_cannot_tell_apart():
    version = build("a b* c*", [("a", "b"), ("a", "c")])
    assert validate_version(version) == [
        Problem(
            "ambiguous_branch",
            "Step “A” branches, but more than one way on has neither a condition nor a "
            "label: the user could not tell them apart.",
            "a",
        )
    ]


def test_a_transition_to_a_step_of_another_version():
    version = build("a b*", [("a", "b")])
    other = build("x*", process=version.process)
    Transition.objects.create(
        version=version,
        source=Step.objects.get(version=version, key="a"),
        target=Step.objects.get(version=other, key="x"),
        label="elsewhere",
    )
    assert codes(version) == [("foreign_transition", "a")]


def test_several_problems_are_all_listed_in_a_stable_order():
    version = build("a b c", [("a", "b"), ("b", "a")])
    Step.objects.filter(version=version, key="b").update(responsible="")
    assert codes(version) == [
        ("no_responsible", "b"),
        ("dead_end", "c"),
        ("unreachable", "c"),
        ("no_end", None),
    ]


def test_validation_costs_two_queries(django_assert_num_queries):
    version = build("a b c d*", [("a", "b"), ("b", "c"), ("c", "d")])
    with django_assert_num_queries(2):
        validate_version(version)


def test_a_long_chain_does_not_hit_the_recursion_limit():
    keys = [f"s{i}" for i in range(1500)]
    version = build(" ".join([*keys[:-1], keys[-1] + "*"]), list(itertools.pairwise(keys)))
    assert validate_version(version) == []


# --- Triggers ---------------------------------------------------------------------------------


def with_trigger(trigger: str, config=None, *, status="draft") -> ProcessVersion:
    version = build("a b*", [("a", "b")])
    ProcessVersion.objects.filter(pk=version.pk).update(
        trigger=trigger, trigger_config=config or {}, status=status
    )
    version.refresh_from_db()
    return version


def test_a_trigger_no_installed_app_fires_yet_is_no_problem():
    # Published and started by hand until the sales/service app emits the event.
    assert codes(with_trigger("lead_created", {"source": "web"})) == []
    assert codes(with_trigger("case_opened")) == []
    assert codes(with_trigger("opportunity_lost")) == []


def test_available_triggers_are_fine():
    assert codes(with_trigger("manual")) == []
    assert codes(with_trigger("trade_fair_capture")) == []
    assert codes(with_trigger("customer_inactive", {"months": 12})) == []


def test_a_published_version_keeps_its_waiting_trigger():
    # A shipped scene may wait for the sales app; it is not invalid meanwhile.
    assert codes(with_trigger("lead_created", status="published")) == []


def test_a_declared_event_makes_its_trigger_valid(monkeypatch):
    from kontor.core import hooks

    monkeypatch.setattr(hooks.lead_created, "declared", True)
    assert codes(with_trigger("lead_created")) == []


@pytest.mark.parametrize("config", [{}, {"months": 0}, {"months": -3}, {"months": "12"},
                                    {"months": 1.5}, {"months": True}])  # fmt: skip
def test_customer_inactive_needs_a_positive_whole_number_of_months(config):
    (problem,) = validate_version(with_trigger("customer_inactive", config))
    assert problem == Problem(
        "trigger_months",
        "Say after how many months without contact the process starts: trigger settings "
        '{"months": N}, N a whole number of at least 1.',
    )


def test_trigger_problems_come_after_the_step_problems_and_cost_no_query(
    django_assert_num_queries,
):
    version = build("a b", [("a", "b")])
    ProcessVersion.objects.filter(pk=version.pk).update(trigger="customer_inactive")
    version.refresh_from_db()
    with django_assert_num_queries(2):
        assert codes(version) == [("dead_end", "b"), ("no_end", None), ("trigger_months", None)]
