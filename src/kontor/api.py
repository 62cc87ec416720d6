"""The one NinjaAPI: mounts each app's router under /api/v1/."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import SessionAuth

from kontor.core.api.auth import BearerToken, RateLimited, ScopeDenied
from kontor.core.api.errors import problem
from kontor.core.api.router import router as core_router
from kontor.customers.api import router as customers_router

api = NinjaAPI(
    title="Kontor API",
    version="1",
    urls_namespace="api",
    auth=[BearerToken(), SessionAuth()],
    docs_url=None,  # served at /api/docs, see urls.py
    description=(
        "Scripts authenticate with `Authorization: Bearer <token>` (make one under "
        "Settings → API tokens or with `kontor token USERNAME`). Errors are "
        "`application/problem+json`; lists use cursor pagination (`cursor`, `limit`)."
    ),
)
api.add_router("/", core_router)
api.add_router("/", customers_router)


def _field_name(loc) -> str | None:
    # ninja reports ("body", "payload", "email"): clients want "email".
    parts = [str(p) for p in loc[1:]]
    if loc and loc[0] == "body" and len(parts) > 1:
        parts = parts[1:]
    return ".".join(parts) or None


@api.exception_handler(ValidationError)
def _validation(request: HttpRequest, exc: ValidationError):
    errors = [{"field": _field_name(e.get("loc", [])), "message": e.get("msg")} for e in exc.errors]
    return problem(request, 422, _("Invalid input"), _("Some fields are not valid."), errors=errors)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError):
    return problem(
        request,
        401,
        _("Not authenticated"),
        _("Send a valid token as 'Authorization: Bearer <token>'."),
        headers={"WWW-Authenticate": "Bearer"},
    )


@api.exception_handler(ScopeDenied)
def _scope(request: HttpRequest, exc: ScopeDenied):
    return problem(request, 403, _("Forbidden"), _("This token may only read."))


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied):
    return problem(request, 403, _("Forbidden"), str(exc) or _("You may not do this."))


@api.exception_handler(RateLimited)
def _rate_limited(request: HttpRequest, exc: RateLimited):
    return problem(
        request,
        429,
        _("Too many requests"),
        _("Slow down: try again in %(seconds)s seconds.") % {"seconds": exc.retry_after},
        headers={"Retry-After": str(exc.retry_after)},
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404):
    return problem(request, 404, _("Not found"), _("No such record."))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError):
    return problem(request, exc.status_code, str(exc))
