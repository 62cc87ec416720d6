"""Is a process version sound enough to run? ``validate_version`` lists what is wrong.

Drafts may have problems (the editor shows them); publishing requires none.

The rules, and the choices behind them:

- **Start**: the step first by position is the start. A model drawn with several
  steps that nothing leads to would otherwise have to guess which one starts; "the
  first in the list" is what people see in the editor and in the drawing. Other steps
  without incoming transitions are then simply *not reachable*. The start must not be
  an end step (the process would end before it begins) unless it is the only step.
- **Every step has a responsible** (a role, the record's owner, the customer or Kontor).
- **Every transition stays inside the version** (source and target are its steps).
- **Every step that does not end the process has a way on**; an end step has none.
- **Every step is reachable from the start.**
- **No loop without an exit**: a strongly connected set of steps from which no end
  step can be reached would keep an instance circling for ever.
- **A branch is decidable**: of a step's several outgoing transitions, at most one may
  have neither a condition nor a label (the user could not tell them apart).
- **At least one end step.**
- **The trigger can fire**: a draft is not published with a trigger whose event no
  installed app emits (lead created, case opened, opportunity lost wait for the sales
  and service apps; see kontor.processes.triggers). Versions published already keep
  theirs — a shipped scene may wait for its app — so only drafts get this problem.
- **"Customer inactive" says after how long**: ``{"months": N}``, N a positive whole number.
"""

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from kontor.processes.models import (
    ProcessVersion,
    Step,
    Transition,
    TriggerKind,
)


def months_of(config: Any) -> int | None:
    """The ``months`` of a customer_inactive config: a positive whole number, else None."""
    months = config.get("months") if isinstance(config, dict) else None
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        return None
    return months


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a version: a stable ``code`` (for programs and tests), a
    translated ``message`` and the ``step`` key it is about (None: the whole version)."""

    code: str
    message: str
    step: str | None = None

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "step": self.step}


def validate_version(version: ProcessVersion) -> list[Problem]:
    """The problems of ``version``, in a stable order (by rule, then by step position).
    Two queries: the steps and the transitions."""
    steps = list(Step.objects.filter(version=version).order_by("position", "id"))
    transitions = list(
        Transition.objects.filter(version=version)
        .select_related("source", "target")
        .order_by("source__position", "position", "id")
    )
    return check(version, steps, transitions)


def check(
    version: ProcessVersion, steps: list[Step], transitions: list[Transition]
) -> list[Problem]:
    """The rules on already loaded rows (steps in position order)."""
    if not steps:
        return [
            Problem("no_steps", _("The process has no steps. Add at least a start and an end.")),
            *_trigger_problems(version),
        ]

    problems: list[Problem] = []
    by_pk = {step.pk: step for step in steps}
    outgoing: dict[int, list[Transition]] = defaultdict(list)
    edges: dict[int, set[int]] = defaultdict(set)

    for transition in transitions:
        if transition.source_id not in by_pk or transition.target_id not in by_pk:
            problems.append(
                Problem(
                    "foreign_transition",
                    _("The transition “%(transition)s” leads to or from a step of another version.")
                    % {"transition": transition},
                    transition.source.key if transition.source_id in by_pk else None,
                )
            )
            continue
        outgoing[transition.source_id].append(transition)
        edges[transition.source_id].add(transition.target_id)

    start = steps[0]
    if start.is_end and len(steps) > 1:
        problems.append(
            Problem(
                "start_is_end",
                _("The first step “%(step)s” ends the process: nothing after it can happen.")
                % {"step": start.name},
                start.key,
            )
        )

    for step in steps:
        if not step.responsible:
            problems.append(
                Problem(
                    "no_responsible",
                    _("Step “%(step)s” has no responsible role.") % {"step": step.name},
                    step.key,
                )
            )

    for step in steps:
        if step.is_end and outgoing[step.pk]:
            problems.append(
                Problem(
                    "end_has_outgoing",
                    _("Step “%(step)s” ends the process but leads on to other steps.")
                    % {"step": step.name},
                    step.key,
                )
            )
        elif not step.is_end and not outgoing[step.pk]:
            problems.append(
                Problem(
                    "dead_end",
                    _(
                        "Step “%(step)s” leads nowhere: add a way on, or mark it as ending "
                        "the process."
                    )
                    % {"step": step.name},
                    step.key,
                )
            )

    for step in steps:
        ways = outgoing[step.pk]
        if len(ways) >= 2 and sum(1 for t in ways if not t.condition and not t.label) > 1:
            problems.append(
                Problem(
                    "ambiguous_branch",
                    _(
                        "Step “%(step)s” branches, but more than one way on has neither a "
                        "condition nor a label: the user could not tell them apart."
                    )
                    % {"step": step.name},
                    step.key,
                )
            )

    reachable = _reachable({start.pk}, edges)
    for step in steps:
        if step.pk not in reachable:
            problems.append(
                Problem(
                    "unreachable",
                    _("Step “%(step)s” cannot be reached from the start “%(start)s”.")
                    % {"step": step.name, "start": start.name},
                    step.key,
                )
            )

    ends = {step.pk for step in steps if step.is_end}
    if not ends:
        problems.append(
            Problem("no_end", _("No step ends the process. Mark at least one as the end."))
        )
    else:
        reverse: dict[int, set[int]] = defaultdict(set)
        for source, targets in edges.items():
            for target in targets:
                reverse[target].add(source)
        can_finish = _reachable(ends, reverse)
        position = {step.pk: index for index, step in enumerate(steps)}
        for component in _strongly_connected(steps, edges):
            is_loop = len(component) > 1 or next(iter(component)) in edges[next(iter(component))]
            if is_loop and not component & can_finish:
                members = sorted(component, key=position.__getitem__)
                problems.append(
                    Problem(
                        "loop_without_exit",
                        _("The steps %(steps)s form a loop with no way out to an end step.")
                        % {"steps": ", ".join(f"“{by_pk[pk].name}”" for pk in members)},
                        by_pk[members[0]].key,
                    )
                )
    problems.extend(_trigger_problems(version))
    return problems


def _trigger_problems(version: ProcessVersion) -> list[Problem]:
    problems = []
    trigger = version.trigger
    # A trigger whose app is not installed yet (lead created, case opened …) is no
    # problem: the version can be published and started by hand until the event
    # exists; the process page says so (so a shipped scene stays adaptable).
    if trigger == TriggerKind.CUSTOMER_INACTIVE and months_of(version.trigger_config) is None:
        problems.append(
            Problem(
                "trigger_months",
                _(
                    "Say after how many months without contact the process starts: "
                    'trigger settings {"months": N}, N a whole number of at least 1.'
                ),
            )
        )
    return problems


def _reachable(starts: set[int], edges: dict[int, set[int]]) -> set[int]:
    seen = set(starts)
    todo = list(starts)
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _strongly_connected(steps: list[Step], edges: dict[int, set[int]]) -> list[set[int]]:
    """Tarjan's algorithm, iterative (a long process must not hit the recursion limit)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    components: list[set[int]] = []
    counter = 0
    for root in (step.pk for step in steps):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components
