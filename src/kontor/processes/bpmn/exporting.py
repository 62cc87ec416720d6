"""BPMN 2.0 export of a process version (see kontor.processes.bpmn).

Export: a collaboration with one participant; the process with a lane set (one lane
per Kontor lane in use), a start event, one task per step (userTask for a person's
role, serviceTask for Kontor itself, task for the customer), an exclusive gateway
after each branching step, sequence flows, an end event after each end step; and
BPMNDI shapes and edges from Kontor's own drawing layout. What BPMN has no words for
(deadlines, responsible role, required fields, activities with their grades) travels
in ``extensionElements`` in the ``kontor:`` namespace, so a round trip keeps it."""

import json
import xml.etree.ElementTree as ET
from importlib import metadata

from django.http import HttpResponse
from django.utils.text import slugify
from django.utils.translation import gettext as _

from kontor.processes.bpmn.namespaces import BPMNDI, DC, DI, KONTOR, XSI
from kontor.processes.bpmn.namespaces import bpmn_tag as _b
from kontor.processes.bpmn.namespaces import kontor_tag as _k
from kontor.processes.drawing import Layout, layout
from kontor.processes.models import (
    Lane,
    ProcessVersion,
    Responsible,
    Step,
    Transition,
)

PERSON_ROLES = {
    Responsible.RECORD_OWNER,
    Responsible.SALES_MANAGER,
    Responsible.SALES_REP,
    Responsible.SERVICE_AGENT,
    Responsible.MARKETING,
    Responsible.ADMINISTRATOR,
}


def _kontor_version() -> str:
    try:
        return metadata.version("kontor")
    except metadata.PackageNotFoundError:
        return "dev"


def _step_id(step: Step) -> str:
    return f"Step_{step.key}"


def _task_type(step: Step) -> str:
    if step.lane == Lane.SYSTEM or step.responsible == Responsible.SYSTEM:
        return "serviceTask"
    if step.responsible in PERSON_ROLES:
        return "userTask"
    return "task"


def condition_text(condition: dict) -> str:
    """A condition as a readable expression: ``person.lifecycle == "customer"``."""
    if not condition:
        return ""
    if set(condition) == {"field", "equals"}:
        return f"{condition['field']} == {json.dumps(condition['equals'], ensure_ascii=False)}"
    return json.dumps(condition, ensure_ascii=False, sort_keys=True)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: str(v) for k, v in attributes.items()})
    if text:
        element.text = text
    return element


def _bounds(parent: ET.Element, x: int, y: int, w: int, h: int) -> None:
    _sub(parent, f"{{{DC}}}Bounds", x=x, y=y, width=w, height=h)


def _shape(plane: ET.Element, element_id: str, x, y, w, h, **extra) -> None:
    shape = _sub(
        plane, f"{{{BPMNDI}}}BPMNShape", id=f"{element_id}_di", bpmnElement=element_id, **extra
    )
    _bounds(shape, x, y, w, h)


def _edge(plane: ET.Element, element_id: str, points) -> None:
    edge = _sub(plane, f"{{{BPMNDI}}}BPMNEdge", id=f"{element_id}_di", bpmnElement=element_id)
    for x, y in points:
        _sub(edge, f"{{{DI}}}waypoint", x=x, y=y)


def _extension(parent: ET.Element) -> ET.Element:
    return _sub(parent, _b("extensionElements"))


def export_bpmn(version: ProcessVersion) -> bytes:
    """``version`` as a BPMN 2.0 XML document (UTF-8 bytes), with diagram
    interchange from Kontor's drawing layout. Deterministic."""
    geometry: Layout = layout(version)
    process = version.process
    root = ET.Element(
        _b("definitions"),
        {
            "id": f"Definitions_{process.uuid.hex}",
            "targetNamespace": KONTOR,
            "exporter": "Kontor",
            "exporterVersion": _kontor_version(),
        },
    )
    collaboration = _sub(root, _b("collaboration"), id="Collaboration_1")
    _sub(
        collaboration,
        _b("participant"),
        id="Participant_1",
        name=process.name,
        processRef="Process_1",
    )
    bpmn_process = _sub(
        root, _b("process"), id="Process_1", name=process.name, isExecutable="false"
    )
    if version.description:
        _sub(bpmn_process, _b("documentation"), version.description)
    meta = _sub(
        _extension(bpmn_process),
        _k("process"),
        subjectKind=process.subject_kind,
        trigger=version.trigger,
        version=version.number,
    )
    if process.key:
        meta.set("key", process.key)
    _sub(meta, _k("goal"), version.goal)
    if version.trigger_config:
        _sub(meta, _k("triggerConfig"), json.dumps(version.trigger_config, sort_keys=True))

    steps = geometry.steps
    by_id = {step.id: step for step in steps}
    outgoing: dict[int, list[Transition]] = {}
    for transition in geometry.transitions:
        if transition.source_id in by_id and transition.target_id in by_id:
            outgoing.setdefault(transition.source_id, []).append(transition)

    # Flow nodes and the flows between them, collected first: each node lists its
    # incoming and outgoing flows.
    flows: list[dict] = []  # id, source, target, name, condition, points

    def flow(source: str, target: str, points, transition: Transition | None = None) -> None:
        flows.append(
            {
                "id": f"Flow_{len(flows) + 1}",
                "source": source,
                "target": target,
                "transition": transition,
                "points": points,
            }
        )

    routes = {route.transition.id: route for route in geometry.routes}
    for step_id in geometry.start_ids:
        x, y = geometry.start_point(step_id)
        box = geometry.boxes[step_id]
        flow("StartEvent_1", _step_id(by_id[step_id]), [(x + 15, y), (box.x, box.cy)])
    end_events: list[tuple[str, Step]] = []
    for step in steps:
        box = geometry.boxes[step.id]
        gateway = geometry.gateways.get(step.id)
        source = _step_id(step)
        if gateway:
            gateway_id = f"Gateway_{step.key}"
            flow(source, gateway_id, [(box.right, box.cy), (gateway.cx - gateway.r, gateway.cy)])
            source = gateway_id
        for transition in outgoing.get(step.id, []):
            flow(
                source,
                _step_id(by_id[transition.target_id]),
                list(routes[transition.id].points),
                transition,
            )
        if step.is_end:
            end_id = f"EndEvent_{step.key}"
            end_events.append((end_id, step))
            ex, ey = geometry.end_point(step.id)
            if gateway:
                points = [(gateway.cx + gateway.r, gateway.cy), (ex - 15, ey)]
            else:
                points = [(box.right, box.cy), (ex - 15, ey)]
            flow(source, end_id, points)

    incoming_of: dict[str, list[str]] = {}
    outgoing_of: dict[str, list[str]] = {}
    for item in flows:
        outgoing_of.setdefault(item["source"], []).append(item["id"])
        incoming_of.setdefault(item["target"], []).append(item["id"])

    def refs(node: ET.Element, node_id: str) -> None:
        for flow_id in incoming_of.get(node_id, []):
            _sub(node, _b("incoming"), flow_id)
        for flow_id in outgoing_of.get(node_id, []):
            _sub(node, _b("outgoing"), flow_id)

    lane_set = _sub(bpmn_process, _b("laneSet"), id="LaneSet_1")
    lane_nodes: dict[str, list[str]] = {band.lane: [] for band in geometry.lanes}
    for step in steps:
        lane = step.lane if step.lane in lane_nodes else geometry.lanes[0].lane
        nodes = lane_nodes[lane]
        if geometry.start_ids and step.id == geometry.start_ids[0]:
            nodes.append("StartEvent_1")
        nodes.append(_step_id(step))
        if step.id in geometry.gateways:
            nodes.append(f"Gateway_{step.key}")
        if step.is_end:
            nodes.append(f"EndEvent_{step.key}")
    for band in geometry.lanes:
        lane = _sub(
            lane_set,
            _b("lane"),
            id=f"Lane_{band.lane}",
            name=str(Lane(band.lane).label),
        )
        lane.set(_k("lane"), band.lane)
        for node_id in lane_nodes[band.lane]:
            _sub(lane, _b("flowNodeRef"), node_id)

    if steps:
        start = _sub(bpmn_process, _b("startEvent"), id="StartEvent_1", name=_("Start"))
        refs(start, "StartEvent_1")
    for step in steps:
        task_id = _step_id(step)
        task = _sub(bpmn_process, _b(_task_type(step)), id=task_id, name=step.name)
        if step.description:
            _sub(task, _b("documentation"), step.description)
        extension = _extension(task)
        info = _sub(
            extension,
            _k("step"),
            key=step.key,
            position=step.position,
            lane=step.lane,
            responsible=step.responsible,
        )
        if step.deadline_days is not None:
            info.set("deadlineDays", str(step.deadline_days))
        if step.is_end:
            info.set("isEnd", "true")
        if step.goal_reached:
            info.set("goalReached", "true")
        if step.required_fields:
            fields = _sub(extension, _k("requiredFields"))
            for name in step.required_fields:
                _sub(fields, _k("field"), str(name))
        activities = list(step.activities.all())
        if activities:
            container = _sub(extension, _k("activities"))
            for activity in activities:
                node = _sub(
                    container,
                    _k("activity"),
                    kind=activity.kind,
                    title=activity.title,
                    grade=activity.grade,
                    required="true" if activity.required else "false",
                )
                if activity.description:
                    _sub(node, _k("description"), activity.description)
                if activity.config:
                    _sub(node, _k("config"), json.dumps(activity.config, sort_keys=True))
        refs(task, task_id)
        if step.id in geometry.gateways:
            gateway_id = f"Gateway_{step.key}"
            gateway = _sub(bpmn_process, _b("exclusiveGateway"), id=gateway_id)
            refs(gateway, gateway_id)
    for end_id, step in end_events:
        end = _sub(
            bpmn_process,
            _b("endEvent"),
            id=end_id,
            name=_("Goal reached") if step.goal_reached else _("End"),
        )
        refs(end, end_id)
    for item in flows:
        transition = item["transition"]
        attributes = {"id": item["id"], "sourceRef": item["source"], "targetRef": item["target"]}
        if transition is not None and transition.label:
            attributes["name"] = transition.label
        sequence = _sub(bpmn_process, _b("sequenceFlow"), **attributes)
        if transition is None:
            continue
        if transition.condition:
            _sub(
                _extension(sequence),
                _k("condition"),
                json.dumps(transition.condition, sort_keys=True, ensure_ascii=False),
            )
        expression = condition_text(transition.condition) or (
            transition.label if item["source"].startswith("Gateway_") else ""
        )
        if expression:
            condition = _sub(sequence, _b("conditionExpression"), expression)
            condition.set(f"{{{XSI}}}type", "bpmn:tFormalExpression")

    # Diagram interchange: the drawing's geometry.
    diagram = _sub(root, f"{{{BPMNDI}}}BPMNDiagram", id="BPMNDiagram_1")
    plane = _sub(diagram, f"{{{BPMNDI}}}BPMNPlane", id="BPMNPlane_1", bpmnElement="Collaboration_1")
    _shape(
        plane,
        "Participant_1",
        geometry.lane_x,
        geometry.lanes[0].y if geometry.lanes else 10,
        geometry.lane_w,
        sum(band.h for band in geometry.lanes) or 100,
        isHorizontal="true",
    )
    for band in geometry.lanes:
        _shape(
            plane,
            f"Lane_{band.lane}",
            geometry.lane_x + 30,
            band.y,
            geometry.lane_w - 30,
            band.h,
            isHorizontal="true",
        )
    if steps:
        x, y = geometry.start_point(geometry.start_ids[0])
        _shape(plane, "StartEvent_1", x - 15, y - 15, 30, 30)
    for step in steps:
        box = geometry.boxes[step.id]
        _shape(plane, _step_id(step), box.x, box.y, box.w, box.h)
        gateway = geometry.gateways.get(step.id)
        if gateway:
            size = 2 * gateway.r
            _shape(
                plane,
                f"Gateway_{step.key}",
                gateway.cx - gateway.r,
                gateway.cy - gateway.r,
                size,
                size,
                isMarkerVisible="true",
            )
    for end_id, step in end_events:
        ex, ey = geometry.end_point(step.id)
        _shape(plane, end_id, ex - 15, ey - 15, 30, 30)
    for item in flows:
        _edge(plane, item["id"], item["points"])

    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)


def export_filename(version: ProcessVersion) -> str:
    return f"{slugify(version.process.name) or 'process'}-v{version.number}.bpmn"


def export_response(version: ProcessVersion) -> HttpResponse:
    """The download of ``version`` as a .bpmn file, for the page and the API alike."""
    response = HttpResponse(export_bpmn(version), content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{export_filename(version)}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
