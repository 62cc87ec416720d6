"""The processes API: definitions (with BPMN in and out) and instances."""

from ninja import Router

router = Router()
router.add_router("", "kontor.processes.api.definitions.router")
router.add_router("", "kontor.processes.api.instances.router")
router.add_router("", "kontor.processes.api.bpmn.router")
router.add_router("", "kontor.processes.api.figures.router")
router.add_router("", "kontor.processes.api.documents.router")
