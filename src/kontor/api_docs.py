"""Interactive API documentation at /api/docs. Beside api.py, not in core: it shows the
whole API, which mounts every app's router, and core imports no domain app."""

from django.http import HttpRequest, HttpResponse
from ninja.openapi.docs import Swagger

from kontor.api import api


def api_docs(request: HttpRequest) -> HttpResponse:
    """Swagger UI, served from the ninja package."""
    return Swagger().render_page(request, api)
