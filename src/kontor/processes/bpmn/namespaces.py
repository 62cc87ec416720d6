"""The XML namespaces of BPMN 2.0 and of Kontor's extension elements, shared by the
export and the import."""

import xml.etree.ElementTree as ET

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
KONTOR = "https://kontor.example/bpmn/1"

for _prefix, _uri in (("bpmn", BPMN), ("bpmndi", BPMNDI), ("dc", DC), ("di", DI), ("xsi", XSI)):
    ET.register_namespace(_prefix, _uri)
ET.register_namespace("kontor", KONTOR)


def bpmn_tag(tag: str) -> str:
    return f"{{{BPMN}}}{tag}"


def kontor_tag(tag: str) -> str:
    return f"{{{KONTOR}}}{tag}"
