"""BPMN 2.0 XML out and in, so a process can be opened and edited in standard
modelling tools (Camunda Modeler, bpmn.io …) and brought back.

Export: a collaboration with one participant; the process with a lane set (one lane
per Kontor lane in use), a start event, one task per step (userTask for a person's
role, serviceTask for Kontor itself, task for the customer), an exclusive gateway
after each branching step, sequence flows, an end event after each end step; and
BPMNDI shapes and edges from Kontor's own drawing layout. What BPMN has no words for
(deadlines, responsible role, required fields, activities with their grades) travels
in ``extensionElements`` in the ``kontor:`` namespace, so a round trip keeps it.

Import: parsed with defusedxml (no DTDs, so no entity expansion or external
entities); lanes, tasks, exclusive gateways, sequence flows, start and end events
become a new draft version. Everything else is listed in the result's
``unsupported`` report — never silently dropped. The acceptance status of
requirements belongs to one version's acceptance and is not carried over."""

from kontor.processes.bpmn.exporting import (
    condition_text,
    export_bpmn,
    export_filename,
    export_response,
)
from kontor.processes.bpmn.importing import (
    MAX_FILE_SIZE,
    ImportResult,
    Unsupported,
    import_bpmn,
)

__all__ = [
    "MAX_FILE_SIZE",
    "ImportResult",
    "Unsupported",
    "condition_text",
    "export_bpmn",
    "export_filename",
    "export_response",
    "import_bpmn",
]
