"""The customers API: one module per area, each with its own router, mounted here."""

from ninja import Router

from .duplicates import router as duplicates_router
from .records import router as records_router

router = Router(tags=["customers"])
router.add_router("", records_router)
router.add_router("", "kontor.customers.api.notes.router")
router.add_router("", duplicates_router)
