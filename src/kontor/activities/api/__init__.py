"""The activities API: activities, appointments and tasks, each its own router."""

from ninja import Router

router = Router()
router.add_router("", "kontor.activities.api.activities.router")
router.add_router("", "kontor.activities.api.appointments.router")
router.add_router("", "kontor.activities.api.tasks.router")
router.add_router("", "kontor.activities.api.capture.router")
