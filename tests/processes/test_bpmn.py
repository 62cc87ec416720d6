"""BPMN 2.0 export and import: a structurally valid document with diagram
interchange, a round trip that keeps Kontor's own data, hostile and broken files
refused with nothing written, unsupported elements reported; the views and the API."""

import re

import pytest
from defusedxml.ElementTree import fromstring
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kontor.core.models import AuditAction, AuditEntry
from kontor.processes.bpmn import export_bpmn, import_bpmn
from kontor.processes.models import (
    Process,
    ProcessVersion,
    Step,
    StepActivity,
    Transition,
    VersionStatus,
)
from tests.core.test_api import reader, writer
from tests.processes.test_drawing import build_version

pytestmark = pytest.mark.django_db

B = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
DI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
K = "{https://kontor.example/bpmn/1}"
FLOW_NODES = {
    "startEvent",
    "endEvent",
    "task",
    "userTask",
    "serviceTask",
    "exclusiveGateway",
}


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def structure(version: ProcessVersion) -> dict:
    """What a round trip must keep, by step key."""
    steps = {}
    for step in version.steps.prefetch_related("activities"):
        steps[step.key] = {
            "name": step.name,
            "description": step.description,
            "position": step.position,
            "lane": step.lane,
            "responsible": step.responsible,
            "deadline_days": step.deadline_days,
            "required_fields": step.required_fields,
            "is_end": step.is_end,
            "goal_reached": step.goal_reached,
            "activities": [
                (a.kind, a.title, a.description, a.config, a.grade, a.required)
                for a in step.activities.all()
            ],
        }
    transitions = sorted(
        (t.source.key, t.target.key, t.label, t.condition, t.position)
        for t in version.transitions.select_related("source", "target")
    )
    return {
        "goal": version.goal,
        "description": version.description,
        "trigger": version.trigger,
        "trigger_config": version.trigger_config,
        "steps": steps,
        "transitions": transitions,
    }


def test_export_is_structurally_valid_bpmn():
    version = build_version()

    root = fromstring(export_bpmn(version))

    assert root.tag == f"{B}definitions"
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids))
    process = root.find(f"{B}process")
    nodes = {local(e.tag): [] for e in process}
    for element in process:
        nodes.setdefault(local(element.tag), []).append(element.get("id"))
    node_ids = {e.get("id") for e in process if local(e.tag) in FLOW_NODES}
    flows = process.findall(f"{B}sequenceFlow")
    for flow in flows:
        assert flow.get("sourceRef") in node_ids
        assert flow.get("targetRef") in node_ids
    # Every node lists exactly the flows that touch it.
    for element in process:
        if local(element.tag) in FLOW_NODES:
            assert [i.text for i in element.findall(f"{B}incoming")] == [
                f.get("id") for f in flows if f.get("targetRef") == element.get("id")
            ]
            assert [o.text for o in element.findall(f"{B}outgoing")] == [
                f.get("id") for f in flows if f.get("sourceRef") == element.get("id")
            ]
    # Every node in exactly one lane; lanes reference existing nodes only.
    refs = [r.text for r in process.iter(f"{B}flowNodeRef")]
    assert sorted(refs) == sorted(node_ids)
    assert [lane.get(f"{K}lane") for lane in process.iter(f"{B}lane")] == [
        "customer",
        "sales",
        "system",
    ]
    assert sorted(nodes["userTask"]) == ["Step_capture", "Step_offer", "Step_qualify"]
    assert nodes["serviceTask"] == ["Step_archive"]
    assert nodes["task"] == ["Step_order"]
    assert nodes["exclusiveGateway"] == ["Gateway_qualify", "Gateway_offer"]
    assert nodes["startEvent"] == ["StartEvent_1"]
    assert nodes["endEvent"] == ["EndEvent_order", "EndEvent_archive"]
    # The participant points to the process.
    participant = root.find(f"{B}collaboration/{B}participant")
    assert participant.get("processRef") == process.get("id")
    assert participant.get("name") == "Trade-fair visitor"
    # Diagram interchange: a shape per node and lane, an edge per flow.
    plane = root.find(f"{DI}BPMNDiagram/{DI}BPMNPlane")
    shapes = {s.get("bpmnElement") for s in plane.findall(f"{DI}BPMNShape")}
    edges = {e.get("bpmnElement") for e in plane.findall(f"{DI}BPMNEdge")}
    lane_ids = {lane.get("id") for lane in process.iter(f"{B}lane")}
    assert shapes == node_ids | lane_ids | {"Participant_1"}
    assert edges == {f.get("id") for f in flows}
    for edge in plane.findall(f"{DI}BPMNEdge"):
        assert len(edge.findall("{http://www.omg.org/spec/DD/20100524/DI}waypoint")) >= 2


def test_export_carries_conditions_and_kontor_data():
    version = build_version()

    root = fromstring(export_bpmn(version))

    process = root.find(f"{B}process")
    interested = next(
        f for f in process.findall(f"{B}sequenceFlow") if f.get("name") == "interested"
    )
    assert interested.get("sourceRef") == "Gateway_qualify"
    assert interested.find(f"{B}conditionExpression").text == 'person.lifecycle == "prospect"'
    not_interested = next(
        f for f in process.findall(f"{B}sequenceFlow") if f.get("name") == "not interested"
    )
    assert not_interested.find(f"{B}conditionExpression").text == "not interested"
    capture = process.find(f"{B}userTask[@id='Step_capture']")
    assert capture.find(f"{B}documentation").text == "At the stand."
    info = capture.find(f"{B}extensionElements/{K}step")
    assert info.attrib == {
        "key": "capture",
        "position": "0",
        "lane": "sales",
        "responsible": "record_owner",
        "deadlineDays": "1",
    }
    fields = capture.findall(f"{B}extensionElements/{K}requiredFields/{K}field")
    assert [f.text for f in fields] == ["person.email", "custom.budget"]
    activities = capture.findall(f"{B}extensionElements/{K}activities/{K}activity")
    assert [
        (a.get("kind"), a.get("title"), a.get("grade"), a.get("required")) for a in activities
    ] == [
        ("task", "Call back", "must", "true"),
        ("email", "Thank-you mail", "should", "false"),
    ]


def test_round_trip_keeps_the_structure(admin):
    version = build_version()
    exported = export_bpmn(version)

    result = import_bpmn(exported, process=version.process, actor=admin)

    assert result.version.number == 2
    assert result.version.status == VersionStatus.DRAFT
    assert result.steps_created == 5
    assert result.transitions_created == 5
    assert result.unsupported == []
    assert result.warnings == []
    assert structure(result.version) == structure(version)
    # And out again: the same document but for the version number.
    again = export_bpmn(result.version)
    assert again.replace(b'version="2"', b'version="1"') == exported
    # The published version is untouched.
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED


def test_import_as_a_new_process(admin):
    version = build_version()

    result = import_bpmn(export_bpmn(version), actor=admin)

    assert result.process != version.process
    assert result.process.name == "Trade-fair visitor"
    assert result.process.owner == admin
    assert result.process.key == ""
    assert result.version.number == 1
    assert result.version.created_by == admin
    assert structure(result.version) == structure(version)
    audited = AuditEntry.objects.filter(action=AuditAction.CREATE, actor=admin)
    assert sorted(e.object_repr for e in audited) == [
        "Trade-fair visitor",
        "Trade-fair visitor v1",
    ]


FOREIGN = b"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d1" targetNamespace="x">
  <message id="Msg_1" name="Order" />
  <collaboration id="c1">
    <participant id="P1" name="Complaint" processRef="proc" />
    <participant id="P2" name="Supplier" />
    <messageFlow id="mf1" name="Order sent" sourceRef="T_A" targetRef="P2" />
  </collaboration>
  <process id="proc" isExecutable="true">
    <laneSet id="ls">
      <lane id="L1" name="Vertrieb">
        <flowNodeRef>start</flowNodeRef><flowNodeRef>T_A</flowNodeRef><flowNodeRef>gw</flowNodeRef>
      </lane>
      <lane id="L2" name="Customer">
        <flowNodeRef>T_B</flowNodeRef><flowNodeRef>end</flowNodeRef>
      </lane>
      <lane id="L3" name="Einkauf"><flowNodeRef>T_C</flowNodeRef></lane>
    </laneSet>
    <startEvent id="start" />
    <userTask id="T_A" name="Record the complaint" camunda:assignee="x">
      <documentation>What went wrong?</documentation>
      <multiInstanceLoopCharacteristics id="mi" />
    </userTask>
    <exclusiveGateway id="gw" name="Justified?" />
    <task id="T_B" name="Customer confirms" />
    <serviceTask id="T_C" name="Order spare part" />
    <subProcess id="sub" name="Investigate" />
    <boundaryEvent id="timer" name="2 days" attachedToRef="T_A" />
    <parallelGateway id="par" />
    <intermediateCatchEvent id="wait" name="Wait for reply" />
    <dataObjectReference id="doc" name="Complaint form" />
    <textAnnotation id="note"><text>Check quickly</text></textAnnotation>
    <endEvent id="end" />
    <sequenceFlow id="f1" sourceRef="start" targetRef="T_A" />
    <sequenceFlow id="f2" sourceRef="T_A" targetRef="gw" />
    <sequenceFlow id="f3" name="yes" sourceRef="gw" targetRef="T_C">
      <conditionExpression>${person.lifecycle == "customer"}</conditionExpression>
    </sequenceFlow>
    <sequenceFlow id="f4" name="no" sourceRef="gw" targetRef="T_B" />
    <sequenceFlow id="f5" sourceRef="T_C" targetRef="T_B" />
    <sequenceFlow id="f6" sourceRef="T_B" targetRef="end" />
    <sequenceFlow id="f7" sourceRef="T_C" targetRef="sub" />
  </process>
  <process id="supplier" name="Supplier process" />
</definitions>
"""


def test_a_foreign_file_is_imported_and_what_is_not_understood_is_listed(admin):
    result = import_bpmn(FOREIGN, actor=admin)

    assert result.process.name == "Complaint"
    steps = list(result.version.steps.order_by("position"))
    assert [(s.key, s.name, s.lane, s.responsible, s.is_end) for s in steps] == [
        ("t_a", "Record the complaint", "sales", "record_owner", False),
        ("t_c", "Order spare part", "sales", "system", False),
        ("t_b", "Customer confirms", "customer", "customer", True),
    ]
    assert steps[0].description == "What went wrong?"
    transitions = sorted(
        (t.source.key, t.target.key, t.label, t.condition, t.position)
        for t in result.version.transitions.all()
    )
    assert transitions == [
        ("t_a", "t_b", "no", {}, 1),
        ("t_a", "t_c", "yes", {"field": "person.lifecycle", "equals": "customer"}, 0),
        ("t_c", "t_b", "", {}, 0),
    ]
    assert [(u.type, u.id, u.name) for u in result.unsupported] == [
        ("process", "supplier", "Supplier process"),
        ("message", "Msg_1", "Order"),
        ("participant", "P2", "Supplier"),
        ("messageFlow", "mf1", "Order sent"),
        ("multiInstanceLoopCharacteristics", "mi", "Record the complaint"),
        ("subProcess", "sub", "Investigate"),
        ("boundaryEvent", "timer", "2 days"),
        ("parallelGateway", "par", ""),
        ("intermediateCatchEvent", "wait", "Wait for reply"),
        ("dataObjectReference", "doc", "Complaint form"),
        ("textAnnotation", "note", ""),
        ("sequenceFlow", "f7", ""),
    ]
    assert result.warnings == [
        'The lane "Einkauf" is not one Kontor knows; its steps are in Sales.'
    ]


def counts():
    return (
        Process.objects.count(),
        ProcessVersion.objects.count(),
        Step.objects.count(),
        Transition.objects.count(),
        StepActivity.objects.count(),
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"<definitions", "The file is not well-formed XML"),
        (b"\x89PNG\r\n\x1a\n", "The file is not well-formed XML"),
        (
            b'<definitions xmlns="http://example.com/other"/>',
            "The file is not a BPMN 2.0 document",
        ),
        (
            b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"/>',
            "The file contains no process.",
        ),
        (
            b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">'
            b'<process id="p"><startEvent id="s"/><subProcess id="x"/></process></definitions>',
            "The file contains no tasks, so there would be no steps to import.",
        ),
    ],
)
def test_bad_files_are_refused_and_nothing_is_written(admin, data, message):
    version = build_version()
    before = counts()

    with pytest.raises(ValidationError) as caught:
        import_bpmn(data, process=version.process, actor=admin)

    assert caught.value.message_dict["file"][0].startswith(message)
    assert counts() == before


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE definitions [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">
  <process id="p"><task id="t" name="&xxe;"/></process>
</definitions>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">
  <process id="p"><task id="t" name="&lol4;"/></process>
</definitions>"""


@pytest.mark.parametrize("data", [XXE, LAUGHS], ids=["xxe", "billion-laughs"])
def test_documents_with_a_dtd_are_refused(admin, data):
    before = counts()

    with pytest.raises(ValidationError) as caught:
        import_bpmn(data, actor=admin)

    assert caught.value.message_dict["file"] == [
        "The file declares a document type or entities, which Kontor does not accept in "
        "BPMN files (they can read other files or expand endlessly)."
    ]
    assert counts() == before


# --- Views -------------------------------------------------------------------------------


def test_bpmn_download(client, readonly):
    version = build_version("Messe → Kunde")
    client.force_login(readonly)

    response = client.get(reverse("processes:process_bpmn_export", args=[version.process.uuid]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert response["Content-Disposition"] == 'attachment; filename="messe-kunde-v1.bpmn"'
    assert response.content == export_bpmn(version)


def upload(data: bytes, name="process.bpmn"):
    return {"file": SimpleUploadedFile(name, data, content_type="application/xml")}


def test_import_view_creates_a_draft_and_lists_what_was_not_understood(client, admin):
    version = build_version()
    client.force_login(admin)
    url = reverse("processes:process_bpmn_import", args=[version.process.uuid])
    assert client.get(url).status_code == 200

    response = client.post(url, upload(FOREIGN))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Record the complaint" in page
    assert "subProcess" in page and "Investigate" in page
    assert "messageFlow" in page
    assert "Einkauf" in page
    new = version.process.versions.get(number=2)
    assert new.status == VersionStatus.DRAFT
    assert new.steps.count() == 3


def test_import_view_answers_422_for_a_bad_file(client, admin):
    version = build_version()
    client.force_login(admin)
    url = reverse("processes:process_bpmn_import", args=[version.process.uuid])
    before = counts()

    response = client.post(url, upload(XXE))

    assert response.status_code == 422
    assert "declares a document type" in response.content.decode()
    assert counts() == before


def test_import_view_refuses_files_over_5_mb(client, admin):
    version = build_version()
    client.force_login(admin)
    url = reverse("processes:process_bpmn_import", args=[version.process.uuid])
    before = counts()

    response = client.post(url, upload(b" " * (5 * 1024 * 1024 + 1)))

    assert response.status_code == 422
    assert "larger than 5 MB" in response.content.decode()
    assert counts() == before


def test_import_needs_processes_manage(client, owner):
    version = build_version()
    client.force_login(owner)  # a sales rep
    before = counts()

    response = client.post(
        reverse("processes:process_bpmn_import", args=[version.process.uuid]),
        upload(export_bpmn(version)),
    )

    assert response.status_code == 403
    assert counts() == before
    assert (
        client.post(reverse("processes:process_bpmn_import_new"), upload(FOREIGN)).status_code
        == 403
    )
    assert counts() == before


def test_import_view_for_a_new_process(client, admin):
    client.force_login(admin)

    response = client.post(reverse("processes:process_bpmn_import_new"), upload(FOREIGN))

    assert response.status_code == 200
    assert Process.objects.get().name == "Complaint"


# --- API ---------------------------------------------------------------------------------


def test_api_export(client, readonly):
    version = build_version()

    response = client.get(f"/api/v1/processes/{version.process.uuid}/bpmn", **reader(readonly))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert response.content == export_bpmn(version)
    missing = client.get(
        f"/api/v1/processes/{version.process.uuid}/bpmn?version=9", **reader(readonly)
    )
    assert missing.status_code == 404


def test_api_import(client, admin):
    version = build_version()

    response = client.post(
        f"/api/v1/processes/{version.process.uuid}/bpmn", upload(FOREIGN), **writer(admin)
    )

    assert response.status_code == 201
    body = response.json()
    assert body["process"] == str(version.process.uuid)
    assert body["version"] == 2
    assert body["steps_created"] == 3
    assert body["transitions_created"] == 3
    assert body["steps"] == ["Record the complaint", "Order spare part", "Customer confirms"]
    assert body["unsupported"][0] == {
        "type": "process",
        "id": "supplier",
        "name": "Supplier process",
        "note": "Kontor imports one process (pool) per file.",
    }
    assert len(body["unsupported"]) == 12


def test_api_import_refuses_bad_files_and_the_wrong_role(client, admin, owner):
    version = build_version()
    url = f"/api/v1/processes/{version.process.uuid}/bpmn"
    before = counts()

    bad = client.post(url, upload(b"<definitions"), **writer(admin))
    denied = client.post(url, upload(export_bpmn(version)), **writer(owner))

    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "file"
    assert re.match("The file is not well-formed XML", bad.json()["errors"][0]["message"])
    assert denied.status_code == 403
    assert counts() == before
