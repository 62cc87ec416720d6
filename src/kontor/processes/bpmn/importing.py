"""BPMN 2.0 import as a new draft version (see kontor.processes.bpmn).

Import: parsed with defusedxml (no DTDs, so no entity expansion or external
entities); lanes, tasks, exclusive gateways, sequence flows, start and end events
become a new draft version. Everything else is listed in the result's
``unsupported`` report — never silently dropped. The acceptance status of
requirements belongs to one version's acceptance and is not carried over."""

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from kontor.core import audit
from kontor.core.models import AuditAction
from kontor.processes.bpmn.namespaces import BPMN, BPMNDI
from kontor.processes.bpmn.namespaces import bpmn_tag as _b
from kontor.processes.bpmn.namespaces import kontor_tag as _k
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

MAX_FILE_SIZE = 5 * 1024 * 1024
MAX_STEPS = 500

TASK_TYPES = {
    "task",
    "userTask",
    "serviceTask",
    "manualTask",
    "sendTask",
    "receiveTask",
    "scriptTask",
    "businessRuleTask",
}
# Lane names Kontor recognises besides the translated labels of ``Lane``.
LANE_SYNONYMS = {
    "kunde": Lane.CUSTOMER,
    "kunden": Lane.CUSTOMER,
    "customers": Lane.CUSTOMER,
    "vertrieb": Lane.SALES,
    "verkauf": Lane.SALES,
    "kundendienst": Lane.SERVICE,
    "kundenservice": Lane.SERVICE,
    "kontor": Lane.SYSTEM,
}


@dataclass(frozen=True)
class Unsupported:
    """One element of the file Kontor did not take over."""

    type: str
    id: str
    name: str
    note: str = ""


@dataclass
class ImportResult:
    process: Process
    version: ProcessVersion
    steps: list[Step]
    transitions_created: int
    unsupported: list[Unsupported] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def steps_created(self) -> int:
        return len(self.steps)


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _ns(tag) -> str:
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


def _error(message: str) -> ValidationError:
    return ValidationError({"file": [message]})


def _parse(data: bytes) -> ET.Element:
    if not data or not data.strip():
        raise _error(_("The file is empty."))
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise _error(
            _(
                "The file declares a document type or entities, which Kontor does not "
                "accept in BPMN files (they can read other files or expand endlessly)."
            )
        ) from exc
    except (ParseError, ValueError) as exc:
        raise _error(_("The file is not well-formed XML: %(error)s") % {"error": str(exc)}) from exc
    if root.tag != _b("definitions"):
        raise _error(
            _(
                "The file is not a BPMN 2.0 document "
                "(expected <definitions> in the namespace %(ns)s)."
            )
            % {"ns": BPMN}
        )
    return root


def _lane_code(element: ET.Element) -> str | None:
    code = element.get(_k("lane"), "")
    if code in Lane.values:
        return code
    name = " ".join((element.get("name") or "").split()).casefold()
    if not name:
        return None
    if name in Lane.values:
        return name
    for lane, label in Lane.choices:
        for language in ("de", "en"):
            with translation.override(language):
                if str(label).casefold() == name:
                    return lane
    return LANE_SYNONYMS.get(name)


def _text_of(element: ET.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _json(text: str, default):
    try:
        value = json.loads(text)
    except ValueError:
        return default
    return value if isinstance(value, type(default)) else default


_EXPRESSION = re.compile(r'^\s*\$?\{?\s*([\w.]+)\s*==\s*"(.*)"\s*\}?\s*$')


def _condition(sequence: ET.Element) -> tuple[dict, str]:
    """The condition of a sequence flow (Kontor's own, or a simple ``field == "value"``
    expression) and the expression text for the label when the flow has no name."""
    extension = sequence.find(_b("extensionElements"))
    if extension is not None:
        own = extension.find(_k("condition"))
        if own is not None:
            return _json(_text_of(own), {}), ""
    expression = _text_of(sequence.find(_b("conditionExpression")))
    if not expression:
        return {}, ""
    match = _EXPRESSION.match(expression)
    if match:
        return {"field": match.group(1), "equals": match.group(2)}, ""
    return {}, expression


@dataclass
class _Node:
    id: str
    type: str
    name: str
    element: ET.Element


def _choose_process(root: ET.Element, unsupported: list[Unsupported]) -> ET.Element:
    processes = [child for child in root if child.tag == _b("process")]
    if not processes:
        raise _error(_("The file contains no process."))
    by_id = {p.get("id", ""): p for p in processes}
    chosen = None
    for collaboration in root.findall(_b("collaboration")):
        for participant in collaboration.findall(_b("participant")):
            ref = participant.get("processRef", "")
            if chosen is None and ref in by_id:
                chosen = by_id[ref]
                if participant.get("name") and not chosen.get("name"):
                    chosen.set("name", participant.get("name"))
    if chosen is None:
        # The process with the most tasks.
        chosen = max(
            processes,
            key=lambda p: sum(1 for child in p if _local(child.tag) in TASK_TYPES),
        )
    for process in processes:
        if process is not chosen:
            unsupported.append(
                Unsupported(
                    "process",
                    process.get("id", ""),
                    process.get("name", ""),
                    _("Kontor imports one process (pool) per file."),
                )
            )
    return chosen


def _report_rest(root: ET.Element, chosen: ET.Element, unsupported: list[Unsupported]) -> None:
    """Everything at the top level and in collaborations that is not the chosen
    process, its participant or the diagram."""
    for child in root:
        local = _local(child.tag)
        if child.tag in (_b("process"), f"{{{BPMNDI}}}BPMNDiagram"):
            continue
        if child.tag == _b("collaboration"):
            for part in child:
                if part.tag == _b("participant") and part.get("processRef") == chosen.get("id"):
                    continue
                if part.tag in (_b("documentation"), _b("extensionElements")):
                    continue
                if part.tag == _b("participant"):
                    if not part.get("processRef"):
                        unsupported.append(
                            Unsupported(
                                "participant",
                                part.get("id", ""),
                                part.get("name", ""),
                                _("A pool without a process."),
                            )
                        )
                    continue  # its process is reported as such
                unsupported.append(
                    Unsupported(_local(part.tag), part.get("id", ""), part.get("name", ""))
                )
            continue
        if local in ("documentation", "extensionElements"):
            continue
        unsupported.append(Unsupported(local, child.get("id", ""), child.get("name", "")))


def _lanes(process: ET.Element, warnings: list[str]) -> dict[str, str]:
    """flow node id → lane code, from the (possibly nested) lane sets."""
    assigned: dict[str, str] = {}
    warned: set[str] = set()

    def walk(lane_set: ET.Element, inherited: str | None) -> None:
        for lane in lane_set.findall(_b("lane")):
            code = _lane_code(lane) or inherited
            name = lane.get("name") or lane.get("id", "")
            if code is None:
                if name not in warned:
                    warned.add(name)
                    warnings.append(
                        _('The lane "%(lane)s" is not one Kontor knows; its steps are in Sales.')
                        % {"lane": name}
                    )
                code_here = Lane.SALES
            else:
                code_here = code
            for ref in lane.findall(_b("flowNodeRef")):
                assigned[_text_of(ref)] = code_here
            for child in lane.findall(_b("childLaneSet")):
                walk(child, code)

    for lane_set in process.findall(_b("laneSet")):
        walk(lane_set, None)
    return assigned


def _unique_key(wanted: str, taken: set[str]) -> str:
    base = slugify(wanted)[:50].strip("-_") or "step"
    key, number = base, 2
    while key in taken:
        key = f"{base}-{number}"
        number += 1
    taken.add(key)
    return key


def _own_position(element: ET.Element) -> int:
    info = element.find(f"{_b('extensionElements')}/{_k('step')}")
    try:
        return int(info.get("position")) if info is not None else MAX_STEPS
    except (TypeError, ValueError):
        return MAX_STEPS


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "yes")


def _step_fields(node: _Node, lane: str, taken: set[str], warnings: list[str]) -> dict:
    element = node.element
    extension = element.find(_b("extensionElements"))
    info = extension.find(_k("step")) if extension is not None else None
    info = info if info is not None else ET.Element("none")
    name = " ".join((node.name or node.id).split())[:200] or node.id[:200]
    responsible = info.get("responsible", "")
    if responsible not in Responsible.values:
        if node.type == "serviceTask" or lane == Lane.SYSTEM:
            responsible = Responsible.SYSTEM
        elif lane == Lane.CUSTOMER:
            responsible = Responsible.CUSTOMER
        else:
            responsible = Responsible.RECORD_OWNER
    deadline = info.get("deadlineDays")
    deadline_days = None
    if deadline not in (None, ""):
        try:
            deadline_days = max(0, min(int(deadline), 32767))
        except ValueError:
            warnings.append(
                _('The deadline "%(value)s" of step "%(step)s" is not a number; left out.')
                % {"value": deadline, "step": name}
            )
    required_fields: list[str] = []
    activities: list[dict] = []
    if extension is not None:
        fields = extension.find(_k("requiredFields"))
        if fields is not None:
            required_fields = [
                _text_of(f)[:100] for f in fields.findall(_k("field")) if _text_of(f)
            ]
        container = extension.find(_k("activities"))
        if container is not None:
            for position, item in enumerate(container.findall(_k("activity"))):
                kind = item.get("kind", "")
                grade = item.get("grade", Grade.MUST)
                activities.append(
                    {
                        "kind": kind if kind in ActivityType.values else ActivityType.TASK,
                        "title": (item.get("title") or "").strip()[:200] or name,
                        "description": _text_of(item.find(_k("description")))[:10_000],
                        "config": _json(_text_of(item.find(_k("config"))), {}),
                        "grade": grade if grade in Grade.values else Grade.MUST,
                        "required": item.get("required", "true") != "false",
                        "position": position,
                    }
                )
    return {
        "key": _unique_key(info.get("key") or node.id, taken),
        "name": name,
        "description": _text_of(element.find(_b("documentation")))[:10_000],
        "lane": lane,
        "responsible": responsible,
        "deadline_days": deadline_days,
        "required_fields": required_fields,
        "goal_reached": _flag(info.get("goalReached")),
        "is_end": _flag(info.get("isEnd")),
        "activities": activities,
    }


TASK_CHILDREN = {"documentation", "extensionElements", "incoming", "outgoing"}
EVENT_CHILDREN = {"documentation", "extensionElements", "incoming", "outgoing"}


def _read_nodes(process: ET.Element, unsupported: list[Unsupported]):
    """The flow nodes Kontor understands, the sequence flows, and a report of the rest."""
    nodes: dict[str, _Node] = {}
    flows: list[ET.Element] = []
    for child in process:
        local = _local(child.tag)
        element_id = child.get("id", "")
        name = child.get("name", "")
        if _ns(child.tag) != BPMN:
            unsupported.append(Unsupported(local, element_id, name))
            continue
        if local in ("laneSet", "documentation", "extensionElements"):
            continue
        if local == "sequenceFlow":
            flows.append(child)
            continue
        if local in TASK_TYPES or local in ("startEvent", "endEvent", "exclusiveGateway"):
            if not element_id:
                unsupported.append(Unsupported(local, "", name, _("An element without an id.")))
                continue
            nodes[element_id] = _Node(element_id, local, name, child)
            for part in child:
                part_local = _local(part.tag)
                if part_local in TASK_CHILDREN:
                    continue
                unsupported.append(
                    Unsupported(
                        part_local,
                        part.get("id", "") or element_id,
                        name,
                        _("Inside %(type)s %(id)s; the element itself was imported.")
                        % {"type": local, "id": element_id},
                    )
                )
            continue
        unsupported.append(Unsupported(local, element_id, name))
    return nodes, flows


def import_bpmn(
    data: bytes, *, process: Process | None = None, actor, via: str = "ui"
) -> ImportResult:
    """A BPMN 2.0 file as a new draft version of ``process`` (or of a new process
    owned by ``actor``). Raises ValidationError keyed "file" for a malformed file, a
    file with a DTD or entities, no process, or no steps — and then writes nothing."""
    if len(data) > MAX_FILE_SIZE:
        raise _error(_("The file is larger than 5 MB."))
    root = _parse(data)
    unsupported: list[Unsupported] = []
    warnings: list[str] = []
    bpmn_process = _choose_process(root, unsupported)
    _report_rest(root, bpmn_process, unsupported)
    nodes, flow_elements = _read_nodes(bpmn_process, unsupported)
    lanes = _lanes(bpmn_process, warnings)

    tasks = [node for node in nodes.values() if node.type in TASK_TYPES]
    if not tasks:
        raise _error(_("The file contains no tasks, so there would be no steps to import."))
    if len(tasks) > MAX_STEPS:
        raise _error(
            _("The process has %(count)s tasks; Kontor imports at most %(max)s.")
            % {"count": len(tasks), "max": MAX_STEPS}
        )

    # Sequence flows between understood nodes; the others are reported.
    outgoing: dict[str, list[tuple[ET.Element, str]]] = {}
    for sequence in flow_elements:
        source, target = sequence.get("sourceRef", ""), sequence.get("targetRef", "")
        if source not in nodes or target not in nodes:
            unsupported.append(
                Unsupported(
                    "sequenceFlow",
                    sequence.get("id", ""),
                    sequence.get("name", ""),
                    _("Connects an element Kontor does not support."),
                )
            )
            continue
        outgoing.setdefault(source, []).append((sequence, target))

    def resolve(node_id: str, via_flow: ET.Element, seen: frozenset[str]):
        """(target task id | None for an end, label, condition) reached over gateways."""
        node = nodes[node_id]
        if node.type in TASK_TYPES:
            condition, expression = _condition(via_flow)
            label = (via_flow.get("name") or expression or "").strip()[:200]
            return [(node_id, label, condition)]
        if node.type == "endEvent":
            return [(None, "", {})]
        if node.type == "startEvent" or node_id in seen:
            return []
        results = []
        for sequence, target in outgoing.get(node_id, []):
            for target_id, label, condition in resolve(target, sequence, seen | {node_id}):
                if not label and not condition:
                    condition, expression = _condition(via_flow)
                    label = (via_flow.get("name") or expression or "").strip()[:200]
                results.append((target_id, label, condition))
        return results

    # Steps in the order of a walk from the start events; unreached tasks after.
    order: list[str] = []
    queue = [node.id for node in nodes.values() if node.type == "startEvent"]
    seen_nodes: set[str] = set(queue)
    while queue:
        current = queue.pop(0)
        if nodes[current].type in TASK_TYPES:
            order.append(current)
        for _sequence, target in outgoing.get(current, []):
            if target not in seen_nodes:
                seen_nodes.add(target)
                queue.append(target)
    order += [node.id for node in tasks if node.id not in order]
    # Kontor's own order where the file has it (a round trip keeps the positions).
    walk = {task_id: index for index, task_id in enumerate(order)}
    order.sort(key=lambda task_id: (_own_position(nodes[task_id].element), walk[task_id]))

    taken: set[str] = set()
    fields = {}
    for task_id in order:
        node = nodes[task_id]
        default_lane = Lane.SYSTEM if node.type == "serviceTask" else Lane.SALES
        fields[task_id] = _step_fields(node, lanes.get(task_id, default_lane), taken, warnings)
    edges: list[tuple[str, str, str, dict]] = []
    for task_id in order:
        for sequence, target in outgoing.get(task_id, []):
            for target_id, label, condition in resolve(target, sequence, frozenset()):
                if target_id is None:
                    fields[task_id]["is_end"] = True
                else:
                    edges.append((task_id, target_id, label, condition))

    with transaction.atomic():
        if process is None:
            process = _new_process(bpmn_process, actor=actor, via=via)
        else:
            process = Process.objects.select_for_update().get(pk=process.pk)
        version = _new_version(process, bpmn_process, actor=actor, via=via)
        steps: dict[str, Step] = {}
        activities: list[StepActivity] = []
        for position, task_id in enumerate(order):
            values = dict(fields[task_id])
            planned = values.pop("activities")
            step = Step.objects.create(version=version, position=position, **values)
            steps[task_id] = step
            activities += [StepActivity(step=step, **item) for item in planned]
        StepActivity.objects.bulk_create(activities)
        positions: dict[str, int] = {}
        transitions = []
        for source, target, label, condition in edges:
            positions[source] = positions.get(source, -1) + 1
            transitions.append(
                Transition(
                    version=version,
                    source=steps[source],
                    target=steps[target],
                    label=label,
                    condition=condition,
                    position=positions[source],
                )
            )
        Transition.objects.bulk_create(transitions)
    return ImportResult(
        process=process,
        version=version,
        steps=list(steps.values()),
        transitions_created=len(transitions),
        unsupported=unsupported,
        warnings=warnings,
    )


def _process_meta(bpmn_process: ET.Element) -> ET.Element:
    extension = bpmn_process.find(_b("extensionElements"))
    meta = extension.find(_k("process")) if extension is not None else None
    return meta if meta is not None else ET.Element("none")


def _new_process(bpmn_process: ET.Element, *, actor, via: str) -> Process:
    meta = _process_meta(bpmn_process)
    subject = meta.get("subjectKind", "")
    name = " ".join((bpmn_process.get("name") or "").split())[:200]
    process = Process.objects.create(
        name=name or _("Imported process"),
        subject_kind=subject if subject in SubjectKind.values else SubjectKind.PERSON,
        owner=actor if actor is not None and actor.is_authenticated else None,
    )
    audit.record(actor=actor, action=AuditAction.CREATE, instance=process, via=via)
    return process


def _new_version(process: Process, bpmn_process: ET.Element, *, actor, via: str):
    meta = _process_meta(bpmn_process)
    trigger = meta.get("trigger", "")
    last = process.versions.aggregate(last=Max("number"))["last"] or 0
    version = ProcessVersion.objects.create(
        process=process,
        number=last + 1,
        status=VersionStatus.DRAFT,
        goal=_text_of(meta.find(_k("goal")))[:2000],
        description=_text_of(bpmn_process.find(_b("documentation")))[:20_000],
        trigger=trigger if trigger in TriggerKind.values else TriggerKind.MANUAL,
        trigger_config=_json(_text_of(meta.find(_k("triggerConfig"))), {}),
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    audit.record(actor=actor, action=AuditAction.CREATE, instance=version, via=via)
    return version
