"""The drawing of a process version: swimlanes per lane, steps in columns by their
distance from the start, branches and deadlines visible — rendered on the server as
a standalone SVG (no external service, works offline, embeddable in the page and in
the requirements document).

``layout(version)`` computes the geometry once; ``draw`` turns it into SVG and the
BPMN export (kontor.processes.bpmn) writes the same geometry as BPMNDI, so a
modelling tool shows the process the way Kontor draws it.

The SVG is inlined into HTML pages under a strict Content-Security-Policy, so it
uses presentation attributes only (no <style>, no style="", no scripts, no event
handlers, no external references). All user text is escaped. The output is
deterministic: the same version (and instance) gives the same bytes."""

import html
import re
import textwrap
from dataclasses import dataclass, field

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kontor.processes.models import (
    InstanceStatus,
    Lane,
    ProcessInstance,
    ProcessVersion,
    Step,
    StepRunStatus,
    Transition,
)

# Geometry, in SVG user units (pixels at 100 %).
MARGIN = 10
LANE_LABEL_W = 110  # the lane's name on the left
START_W = 50  # room for the start circle before the first column
BOX_W = 160
BOX_H = 72
COL_GAP = 96  # between two columns: gateway, arrows, labels
ROW_PAD = 32  # above and below a box inside its lane
ROW_H = BOX_H + ROW_PAD
RIGHT_PAD = 80  # room for end events (BPMN) after the last column
GATEWAY_R = 14  # half the diagonal of a gateway diamond
GATEWAY_DX = 26  # from the box's right edge to the diamond's centre
START_R = 10
CHANNEL_INSET = 14  # the vertical leg of a long arrow, left of its target

NAME_FONT = 12
SMALL_FONT = 10
NAME_CHARS = 22  # characters per line of a step name (sans-serif at 12 px, ~6.5 px each)
NAME_LINES = 3
LABEL_CHARS = 16
LANE_CHARS = 15

INK = "#334155"
MUTED = "#64748b"
BOX_FILL = "#ffffff"
BOX_STROKE = "#475569"
LANE_FILLS = ("#f8fafc", "#eef2f7")
LANE_LABEL_FILL = "#e2e8f0"
GOAL = "#15803d"
CURRENT_FILL = "#fef3c7"
CURRENT_STROKE = "#b45309"
DONE = "#15803d"

LANE_ORDER = [lane for lane, _label in Lane.choices]

_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Box:
    step: Step
    x: int
    y: int
    column: int
    w: int = BOX_W
    h: int = BOX_H

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    @property
    def cx(self) -> int:
        return self.x + self.w // 2

    @property
    def cy(self) -> int:
        return self.y + self.h // 2


@dataclass(frozen=True)
class Gateway:
    """The diamond after a branching step."""

    step: Step
    cx: int
    cy: int
    r: int = GATEWAY_R


@dataclass(frozen=True)
class LaneBand:
    lane: str
    y: int
    h: int


@dataclass(frozen=True)
class Route:
    """The polyline of one transition (from the step, or from its gateway)."""

    transition: Transition
    points: tuple[tuple[int, int], ...]
    label_x: int
    label_y: int
    label_anchor: str  # start | middle


@dataclass
class Layout:
    version: ProcessVersion
    steps: list[Step]
    transitions: list[Transition]
    boxes: dict[int, Box] = field(default_factory=dict)
    lanes: list[LaneBand] = field(default_factory=list)
    gateways: dict[int, Gateway] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    start_ids: list[int] = field(default_factory=list)
    width: int = 0
    height: int = 0

    @property
    def lane_x(self) -> int:
        return MARGIN

    @property
    def lane_w(self) -> int:
        return self.width - 2 * MARGIN

    def start_point(self, step_id: int) -> tuple[int, int]:
        box = self.boxes[step_id]
        return box.x - START_W // 2 - START_R // 2, box.cy

    def end_point(self, step_id: int) -> tuple[int, int]:
        """Where the BPMN end event after an end step sits."""
        box = self.boxes[step_id]
        gateway = self.gateways.get(step_id)
        if gateway:
            return gateway.cx + gateway.r + 30, gateway.cy
        return box.right + COL_GAP // 2, box.cy


def _branches(step: Step, outgoing: list[Transition]) -> bool:
    """A step whose way on is a choice: several transitions, or an end step that can
    also go on."""
    return len(outgoing) >= 2 or (step.is_end and len(outgoing) >= 1)


def _columns(steps: list[Step], outgoing: dict[int, list[Transition]]) -> dict[int, int]:
    """Column of each step: the longest path from a start, cycles broken by leaving out
    the back edges a depth-first search finds (iteratively: no recursion limit)."""
    order = {step.id: index for index, step in enumerate(steps)}
    has_incoming = {
        t.target_id for ts in outgoing.values() for t in ts if t.source_id != t.target_id
    }
    roots = [s.id for s in steps if s.id not in has_incoming]
    if steps and steps[0].id not in roots:
        roots.insert(0, steps[0].id)
    roots += [s.id for s in steps if s.id not in roots]  # everything, unreachable or not

    state: dict[int, int] = {}  # 1 on the stack, 2 finished
    back: set[int] = set()  # ids of transitions that close a cycle
    postorder: list[int] = []
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(outgoing.get(root, ())))]
        while stack:
            node, edges = stack[-1]
            for edge in edges:
                target = edge.target_id
                if target not in order:
                    continue
                if state.get(target) == 1:
                    back.add(edge.id)
                elif target not in state:
                    state[target] = 1
                    stack.append((target, iter(outgoing.get(target, ()))))
                    break
            else:
                state[node] = 2
                postorder.append(node)
                stack.pop()

    column = dict.fromkeys(order, 0)
    for node in reversed(postorder):  # a topological order of the acyclic rest
        for edge in outgoing.get(node, ()):
            if edge.id not in back and edge.target_id in column:
                column[edge.target_id] = max(column[edge.target_id], column[node] + 1)
    return column


def _simplify(points: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Without repeated points and without middle points of straight runs."""
    out: list[tuple[int, int]] = []
    for point in points:
        if out and out[-1] == point:
            continue
        if len(out) >= 2:
            (ax, ay), (bx, by) = out[-2], out[-1]
            if (ax == bx == point[0]) or (ay == by == point[1]):
                out[-1] = point
                continue
        out.append(point)
    return tuple(out)


def _route(transition: Transition, source: Box, target: Box, gateway: Gateway | None) -> Route:
    x2, y2 = target.x, target.cy
    if target.column == source.column + 1:
        if gateway:
            if y2 == gateway.cy:
                start = (gateway.cx + gateway.r, gateway.cy)
            elif y2 < gateway.cy:
                start = (gateway.cx, gateway.cy - gateway.r)
            else:
                start = (gateway.cx, gateway.cy + gateway.r)
            points = [start, (gateway.cx, y2), (x2, y2)]
            label = (gateway.cx + (gateway.r if y2 == gateway.cy else 0) + 4, y2 - 4, "start")
        else:
            middle = source.right + COL_GAP // 2
            points = [(source.right, source.cy), (middle, source.cy), (middle, y2), (x2, y2)]
            label = (source.right + 4, source.cy - 4, "start")
    else:
        # Further on, or back: along the channel under the source's row, then up or
        # down in the gap just before the target.
        start = (gateway.cx, gateway.cy + gateway.r) if gateway else (source.cx, source.bottom)
        channel = source.bottom + ROW_PAD // 2
        leg = target.x - CHANNEL_INSET
        points = [start, (start[0], channel), (leg, channel), (leg, y2), (x2, y2)]
        label = ((start[0] + leg) // 2, channel - 3, "middle")
    return Route(transition, _simplify(points), *label)


def layout(version: ProcessVersion) -> Layout:
    """The geometry of ``version``'s drawing. Three queries: steps, their activities,
    transitions."""
    steps = list(version.steps.prefetch_related("activities"))
    transitions = list(version.transitions.all())
    result = Layout(version=version, steps=steps, transitions=transitions)
    if not steps:
        result.width, result.height = (
            2 * MARGIN + LANE_LABEL_W + START_W + BOX_W,
            2 * MARGIN + ROW_H,
        )
        return result

    step_ids = {s.id for s in steps}
    outgoing: dict[int, list[Transition]] = {}
    for transition in transitions:
        if transition.source_id in step_ids and transition.target_id in step_ids:
            outgoing.setdefault(transition.source_id, []).append(transition)
    column = _columns(steps, outgoing)

    # Steps sharing a lane and a column stack in sub-rows of that lane.
    cells: dict[tuple[str, int], list[Step]] = {}
    for step in steps:
        lane = step.lane if step.lane in LANE_ORDER else Lane.SALES
        cells.setdefault((lane, column[step.id]), []).append(step)
    rows = {lane: 0 for lane in LANE_ORDER}
    for (lane, _col), members in cells.items():
        rows[lane] = max(rows[lane], len(members))

    x0 = MARGIN + LANE_LABEL_W + START_W
    y = MARGIN
    for lane in LANE_ORDER:
        if not rows[lane]:
            continue
        band = LaneBand(lane, y, rows[lane] * ROW_H)
        result.lanes.append(band)
        for (cell_lane, col), members in cells.items():
            if cell_lane != lane:
                continue
            for sub, step in enumerate(members):
                result.boxes[step.id] = Box(
                    step=step,
                    x=x0 + col * (BOX_W + COL_GAP),
                    y=y + ROW_PAD // 2 + sub * ROW_H,
                    column=col,
                )
        y += band.h
    columns = max(column.values()) + 1
    result.width = x0 + columns * (BOX_W + COL_GAP) - COL_GAP + RIGHT_PAD + MARGIN
    result.height = y + MARGIN

    for step in steps:
        if _branches(step, outgoing.get(step.id, [])):
            box = result.boxes[step.id]
            result.gateways[step.id] = Gateway(step, box.right + GATEWAY_DX, box.cy)
    for transition in transitions:
        if transition.source_id in step_ids and transition.target_id in step_ids:
            result.routes.append(
                _route(
                    transition,
                    result.boxes[transition.source_id],
                    result.boxes[transition.target_id],
                    result.gateways.get(transition.source_id),
                )
            )
    has_incoming = {t.target_id for t in transitions if t.source_id != t.target_id}
    result.start_ids = [s.id for s in steps if s.id not in has_incoming]
    if steps[0].id not in result.start_ids:
        result.start_ids.insert(0, steps[0].id)
    return result


# --- SVG ---------------------------------------------------------------------------------


def _text(value) -> str:
    """Escaped for XML text and attribute values; characters XML forbids removed."""
    return html.escape(_XML_INVALID.sub("", str(value)), quote=True)


def _wrap(value: str, width: int, lines: int) -> list[str]:
    wrapped = textwrap.wrap(
        " ".join(str(value).split()), width=width, break_long_words=True, break_on_hyphens=True
    )
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: width - 1].rstrip() + "…"
    return wrapped


def _short(value: str, chars: int) -> str:
    value = " ".join(value.split())
    return value if len(value) <= chars else value[: chars - 1].rstrip() + "…"


def _points(points) -> str:
    return " ".join(f"{x},{y}" for x, y in points)


def deadline_text(days: int) -> str:
    return ngettext("≤ %(days)s business day", "≤ %(days)s business days", days) % {"days": days}


def _star(cx: int, cy: int, radius: int = 7) -> str:
    # A five-pointed star from fixed unit points (inner radius 0.382): deterministic.
    unit = (
        (0.0, -1.0),
        (0.2245, -0.309),
        (0.9511, -0.309),
        (0.3633, 0.118),
        (0.5878, 0.809),
        (0.0, 0.382),
        (-0.5878, 0.809),
        (-0.3633, 0.118),
        (-0.9511, -0.309),
        (-0.2245, -0.309),
    )
    return " ".join(f"{cx + ux * radius:.1f},{cy + uy * radius:.1f}" for ux, uy in unit)


def _step_tooltip(step: Step) -> str:
    parts = [step.name, f"{_('Responsible')}: {step.get_responsible_display()}"]
    if step.deadline_days is not None:
        parts.append(deadline_text(step.deadline_days))
    if step.is_end:
        parts.append(_("Goal reached") if step.goal_reached else _("Ends the process"))
    for activity in step.activities.all():
        parts.append(f"– {activity.title} ({activity.get_grade_display()})")
    return "\n".join(parts)


def _svg(result: Layout, instance: ProcessInstance | None, done_ids: set[int]) -> str:
    version = result.version
    uid = f"kp{version.pk}" + (f"i{instance.pk}" if instance else "")
    arrow = f"{uid}-arrow"
    title = _("%(process)s, version %(number)s") % {
        "process": version.process.name,
        "number": version.number,
    }
    if instance is not None:
        title = _("%(process)s, version %(number)s: the steps of this instance") % {
            "process": version.process.name,
            "number": version.number,
        }
    current_id = (
        instance.current_step_id
        if instance is not None
        and instance.status in (InstanceStatus.RUNNING, InstanceStatus.PAUSED)
        else None
    )
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="process-drawing" '
        f'viewBox="0 0 {result.width} {result.height}" width="{result.width}" '
        f'height="{result.height}" role="img" aria-label="{_text(title)}" '
        f'font-family="sans-serif">',
        f"<title>{_text(title)}</title>",
    ]
    if result.steps:
        out.append(
            "<desc>"
            + _text(_("Steps: %(steps)s") % {"steps": ", ".join(s.name for s in result.steps)})
            + "</desc>"
        )
    out.append(
        f'<defs><marker id="{arrow}" viewBox="0 0 10 10" refX="10" refY="5" '
        f'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{INK}"/></marker></defs>'
    )
    out.append(
        f'<rect x="0" y="0" width="{result.width}" height="{result.height}" fill="#ffffff"/>'
    )
    if not result.steps:
        out.append(
            f'<text x="{result.width // 2}" y="{result.height // 2}" text-anchor="middle" '
            f'font-size="{NAME_FONT}" fill="{MUTED}">{_text(_("No steps yet."))}</text></svg>'
        )
        return "".join(out)

    # Lanes.
    for index, band in enumerate(result.lanes):
        out.append(f'<g class="lane" data-lane="{band.lane}">')
        out.append(
            f'<rect x="{result.lane_x}" y="{band.y}" width="{result.lane_w}" height="{band.h}" '
            f'fill="{LANE_FILLS[index % 2]}" stroke="#cbd5e1"/>'
        )
        out.append(
            f'<rect x="{result.lane_x}" y="{band.y}" width="{LANE_LABEL_W}" height="{band.h}" '
            f'fill="{LANE_LABEL_FILL}" stroke="#cbd5e1"/>'
        )
        lines = _wrap(str(Lane(band.lane).label), LANE_CHARS, 3)
        top = band.y + band.h // 2 - (len(lines) - 1) * 8
        for number, line in enumerate(lines):
            out.append(
                f'<text x="{result.lane_x + LANE_LABEL_W // 2}" y="{top + number * 16 + 4}" '
                f'text-anchor="middle" font-size="{NAME_FONT}" font-weight="bold" '
                f'fill="{INK}">{_text(line)}</text>'
            )
        out.append("</g>")

    # Start circles.
    for step_id in result.start_ids:
        box = result.boxes[step_id]
        cx, cy = result.start_point(step_id)
        out.append(
            f'<g class="start"><circle cx="{cx}" cy="{cy}" r="{START_R}" fill="#ffffff" '
            f'stroke="{INK}" stroke-width="1.5"><title>{_text(_("Start"))}</title></circle>'
            f'<polyline points="{_points([(cx + START_R, cy), (box.x, box.cy)])}" fill="none" '
            f'stroke="{INK}" stroke-width="1.2" marker-end="url(#{arrow})"/></g>'
        )

    # Transitions (under the boxes).
    for route in result.routes:
        transition = route.transition
        out.append('<g class="transition">')
        if transition.label:
            out.append(f"<title>{_text(transition.label)}</title>")
        out.append(
            f'<polyline points="{_points(route.points)}" fill="none" stroke="{INK}" '
            f'stroke-width="1.2" marker-end="url(#{arrow})"/>'
        )
        if transition.label:
            label = _text(_short(transition.label, LABEL_CHARS))
            out.append(
                f'<text x="{route.label_x}" y="{route.label_y}" '
                f'text-anchor="{route.label_anchor}" font-size="{SMALL_FONT}" '
                f'fill="{MUTED}">{label}</text>'
            )
        out.append("</g>")

    # Gateways.
    for step_id, gateway in result.gateways.items():
        box = result.boxes[step_id]
        cx, cy, r = gateway.cx, gateway.cy, gateway.r
        diamond = [(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)]
        out.append(
            f'<g class="gateway"><title>{_text(_("Branch"))}</title>'
            f'<line x1="{box.right}" y1="{box.cy}" x2="{cx - r}" y2="{cy}" stroke="{INK}" '
            f'stroke-width="1.2"/>'
            f'<polygon points="{_points(diamond)}" fill="#ffffff" stroke="{INK}" '
            f'stroke-width="1.5"/>'
            f'<path d="M{cx - 5},{cy - 5} L{cx + 5},{cy + 5} '
            f'M{cx + 5},{cy - 5} L{cx - 5},{cy + 5}" stroke="{INK}" stroke-width="1.5"/></g>'
        )

    # Steps.
    for step in result.steps:
        box = result.boxes[step.id]
        state = ""
        attributes = ""
        if instance is not None:
            if step.id == current_id:
                state = "current"
            elif step.id in done_ids:
                state = "done"
            else:
                state = "other"
                attributes = ' opacity="0.45"'
        out.append(
            f'<g class="step" data-step="{_text(step.key)}"'
            + (f' data-state="{state}"' if state else "")
            + f"{attributes}>"
        )
        out.append(f"<title>{_text(_step_tooltip(step))}</title>")
        fill, stroke, width = BOX_FILL, BOX_STROKE, "1.5"
        if step.is_end:
            width = "3"
        if step.goal_reached:
            stroke = GOAL
        if state == "current":
            fill, stroke, width = CURRENT_FILL, CURRENT_STROKE, "3.5"
        out.append(
            f'<rect x="{box.x}" y="{box.y}" width="{box.w}" height="{box.h}" rx="10" ry="10" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"/>'
        )
        if step.is_end:
            out.append(
                f'<rect x="{box.x + 4}" y="{box.y + 4}" width="{box.w - 8}" height="{box.h - 8}" '
                f'rx="7" ry="7" fill="none" stroke="{stroke}" stroke-width="1"/>'
            )
        lines = _wrap(step.name, NAME_CHARS, NAME_LINES)
        has_deadline = step.deadline_days is not None
        block = len(lines) * 15 + (14 if has_deadline else 0)
        top = box.y + (box.h - block) // 2 + 11
        for number, line in enumerate(lines):
            out.append(
                f'<text x="{box.cx}" y="{top + number * 15}" text-anchor="middle" '
                f'font-size="{NAME_FONT}" fill="{INK}">{_text(line)}</text>'
            )
        if has_deadline:
            out.append(
                f'<text x="{box.cx}" y="{top + len(lines) * 15}" text-anchor="middle" '
                f'font-size="{SMALL_FONT}" fill="{MUTED}">'
                f"{_text(deadline_text(step.deadline_days))}</text>"
            )
        if step.goal_reached:
            sx, sy = box.x + 14, box.y + 13
            out.append(
                f'<polygon class="goal" points="{_star(sx, sy)}" fill="{GOAL}">'
                f"<title>{_text(_('Goal reached'))}</title></polygon>"
            )
        if state == "done":
            cx, cy = box.right - 12, box.y + 12
            out.append(
                f'<g class="done"><title>{_text(_("Done"))}</title>'
                f'<circle cx="{cx}" cy="{cy}" r="8" fill="{DONE}"/>'
                f'<path d="M{cx - 4},{cy} L{cx - 1},{cy + 3} L{cx + 4},{cy - 3}" fill="none" '
                f'stroke="#ffffff" stroke-width="2"/></g>'
            )
        if state == "current":
            out.append(
                f'<text x="{box.right - 6}" y="{box.y - 4}" text-anchor="end" '
                f'font-size="{SMALL_FONT}" font-weight="bold" fill="{CURRENT_STROKE}">'
                f"{_text(_('Current step'))}</text>"
            )
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)


def draw(
    version: ProcessVersion,
    *,
    instance: ProcessInstance | None = None,
    language: str | None = None,
) -> str:
    """``version`` as a standalone SVG document (a string). With ``instance``: its
    current step highlighted, the finished ones checked, the others dimmed. Texts in
    ``language`` (default: the active one). Load ``version`` with its process
    (``select_related("process")``) to keep it to three queries, four with an
    instance."""
    done_ids: set[int] = set()
    if instance is not None:
        done_ids = set(
            instance.step_runs.filter(status=StepRunStatus.DONE).values_list("step_id", flat=True)
        )
    result = layout(version)
    if language:
        with translation.override(language):
            return _svg(result, instance, done_ids)
    return _svg(result, instance, done_ids)
