"""The one NinjaAPI: mounts each app's router under /api/v1/.

Every error it answers with is ``application/problem+json`` (core.api.errors): the
handlers below turn exceptions from anywhere (auth, validation, services, pagination)
into problems, and ``KontorAPI.urls`` does the same for 405, which ninja answers
outside of its exception handling."""

import functools

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest
from django.urls import URLPattern
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from kontor.core.access import EditConflict
from kontor.core.api.auth import RateLimited, ScopeDenied, api_auth
from kontor.core.api.errors import PROBLEM_CONTENT_TYPE, document_problems, problem
from kontor.core.api.pagination import InvalidCursor
from kontor.core.api.router import router as core_router
from kontor.core.nul_guard import NUL_MESSAGE, field_name
from kontor.customers.api import router as customers_router


class KontorAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return document_problems(schema)

    def create_temporal_response(self, request: HttpRequest):
        # ninja calls this after authentication and before it reads the input: the
        # place to refuse the NUL that RefuseNulMiddleware found (a 422 like any
        # invalid field, after 401, 403 and 429).
        path = getattr(request, "nul_path", None)
        if path is not None:
            field = field_name(path)
            loc = ("input", field) if field else ("input",)
            raise ValidationError([{"loc": loc, "msg": str(NUL_MESSAGE), "type": "string_nul"}])
        return super().create_temporal_response(request)

    @property
    def urls(self):
        patterns, app_name, namespace = super().urls
        return [_problem_405(p) for p in patterns], app_name, namespace


def _problem_405(pattern):
    """ninja answers a method no operation has with a plain-text 405; make it a problem."""
    if not isinstance(pattern, URLPattern):
        return pattern
    view = pattern.callback

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and response.get("Content-Type") != PROBLEM_CONTENT_TYPE:
            allowed = ", ".join(sorted(m.strip() for m in response.get("Allow", "").split(",")))
            return problem(
                request,
                405,
                detail=_("Allowed methods: %(methods)s.") % {"methods": allowed},
                headers={"Allow": allowed},
            )
        return response

    return URLPattern(pattern.pattern, wrapper, pattern.default_args, pattern.name)


api = KontorAPI(
    title="Kontor API",
    version="1",
    urls_namespace="api",
    auth=api_auth(),
    docs_url=None,  # served at /api/docs, see urls.py
    description=(
        "Scripts authenticate with `Authorization: Bearer <token>` (make one under "
        "Settings → API tokens or with `kontor token USERNAME`). Errors are "
        "`application/problem+json` (RFC 9457) with `title`, `status` and `detail`; "
        "invalid input (422) lists the fields in `errors`. Lists use cursor pagination: "
        "pass the `next_cursor` of a page as `cursor` to get the next one (`limit` 1–200). "
        "`PATCH` requires the `version` you read (`lock_version` for a process version) "
        "and answers 409 if the record changed since; without it, 422 naming the field."
    ),
)
api.add_router("/", core_router)
api.add_router("/", "kontor.core.api.search.router")
api.add_router("/", "kontor.core.api.customfields.router")
api.add_router("/", customers_router)
api.add_router("/", "kontor.activities.api.router")
api.add_router("/", "kontor.mail.api.router")
api.add_router("/", "kontor.processes.api.router")


# pydantic's messages are English; the common ones in the user's language. Where
# Django has the same sentence, its msgid is used (translated already).
_MESSAGES = {
    "missing": gettext_lazy("This field is required."),
    "string_type": gettext_lazy("Enter text."),
    "string_too_short": ngettext_lazy(
        "Enter at least %(count)s character.", "Enter at least %(count)s characters.", "count"
    ),
    "string_too_long": ngettext_lazy(
        "Enter at most %(count)s character.", "Enter at most %(count)s characters.", "count"
    ),
    "int_type": gettext_lazy("Enter a whole number."),
    "int_parsing": gettext_lazy("Enter a whole number."),
    "int_from_float": gettext_lazy("Enter a whole number."),
    "greater_than_equal": gettext_lazy(
        "Ensure this value is greater than or equal to %(limit_value)s."
    ),
    "less_than_equal": gettext_lazy("Ensure this value is less than or equal to %(limit_value)s."),
    "uuid_type": gettext_lazy("Enter a valid UUID."),
    "uuid_parsing": gettext_lazy("Enter a valid UUID."),
    "date_type": gettext_lazy("Enter a valid date."),
    "date_parsing": gettext_lazy("Enter a valid date."),
    "date_from_datetime_parsing": gettext_lazy("Enter a valid date."),
    "model_attributes_type": gettext_lazy("Send a JSON object."),
    "dict_type": gettext_lazy("Send a JSON object."),
    "extra_forbidden": gettext_lazy("Unknown field."),
}


def _field_name(loc) -> str | None:
    # ninja reports ("body", "payload", "email"): clients want "email".
    parts = [str(p) for p in loc[1:]]
    if loc and loc[0] == "body" and len(parts) > 1:
        parts = parts[1:]
    elif loc and loc[0] == "query" and len(parts) > 2 and not parts[1].isdigit():
        # A list parameter comes as ("query", "params", "tag", 0): clients want "tag.0".
        parts = parts[1:]
    return ".".join(parts) or None


def _message(error: dict) -> str:
    ctx = error.get("ctx") or {}
    if error.get("type") == "value_error" and "error" in ctx:
        return str(ctx["error"])  # our own validators raise translated messages
    template = _MESSAGES.get(error.get("type", ""))
    if template is None:
        return str(error.get("msg", ""))
    limits = {
        "limit_value": ctx.get("ge", ctx.get("le", "")),
        "count": ctx.get("min_length", ctx.get("max_length", 0)),
    }
    return str(template % limits)


@api.exception_handler(ValidationError)
def _validation(request: HttpRequest, exc: ValidationError):
    errors = [{"field": _field_name(e.get("loc", [])), "message": _message(e)} for e in exc.errors]
    return problem(request, 422, detail=_("Some fields are not valid."), errors=errors)


@api.exception_handler(DjangoValidationError)
def _model_validation(request: HttpRequest, exc: DjangoValidationError):
    """A service's full_clean() failed: the same 422 as invalid JSON fields."""
    if hasattr(exc, "error_dict"):
        errors = [
            {"field": None if field == "__all__" else field, "message": str(message)}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    else:
        errors = [{"field": None, "message": str(message)} for message in exc.messages]
    return problem(request, 422, detail=_("Some fields are not valid."), errors=errors)


@api.exception_handler(ObjectDoesNotExist)
def _gone(request: HttpRequest, exc: ObjectDoesNotExist):
    # A record read, then deleted by a concurrent request before the service locked it
    # (two DELETEs of one note under make fuzz): it is gone, a 404 as for any other.
    return problem(request, 404, detail=_("No such record, or you may not see it."))


@api.exception_handler(OverflowError)
def _out_of_range(request: HttpRequest, exc: OverflowError):
    """A date or time at the ends of the calendar (0001-01-01T00:00+01:00 is still in
    year 0 in UTC; a day after 9999-12-31 does not exist) overflows where it is
    converted or moved: the input is out of range, not a server error."""
    message = _("A date or time is out of range: use years 1 to 9999, not their first or last day.")
    return problem(
        request,
        422,
        detail=_("Some fields are not valid."),
        errors=[{"field": None, "message": message}],
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError):
    return problem(
        request,
        401,
        detail=_("Send a valid token as 'Authorization: Bearer <token>'."),
        headers={"WWW-Authenticate": "Bearer"},
    )


@api.exception_handler(ScopeDenied)
def _scope(request: HttpRequest, exc: ScopeDenied):
    return problem(request, 403, detail=_("This token may only read."))


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied):
    return problem(request, 403, detail=str(exc) or _("Your role does not allow this."))


@api.exception_handler(EditConflict)
def _edit_conflict(request: HttpRequest, exc: EditConflict):
    """Optimistic locking: the one 409 of every PATCH whose ``version`` is stale."""
    version = exc.current_version
    return problem(
        request,
        409,
        detail=_(
            "Someone else changed this record in the meantime. Read it again "
            "(now version %(version)s) and repeat your change."
        )
        % {"version": version},
        current_version=version,
    )


@api.exception_handler(RateLimited)
def _rate_limited(request: HttpRequest, exc: RateLimited):
    return problem(
        request,
        429,
        detail=_("Slow down: try again in %(seconds)s seconds.") % {"seconds": exc.retry_after},
        headers={"Retry-After": str(exc.retry_after)},
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404):
    return problem(request, 404, detail=_("No such record, or you may not see it."))


@api.exception_handler(OverflowError)
def _out_of_range(request: HttpRequest, exc: OverflowError):
    # SQLite cannot bind an integer beyond 64 bits (a filter or a field far out of range).
    return problem(request, 422, detail=_("A number is out of range."))


@api.exception_handler(InvalidCursor)
def _invalid_cursor(request: HttpRequest, exc: InvalidCursor):
    return problem(request, 400, detail=str(exc))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError):
    # ninja's own messages are English; say the known ones in the user's language.
    message = str(exc)
    if message.startswith("Cannot parse request body"):
        detail = _("The request body is not valid JSON.")
    elif message.startswith("CSRF check"):
        detail = _("The CSRF check failed: send the X-CSRFToken header with the session cookie.")
    else:
        detail = message
    return problem(request, exc.status_code, detail=detail)
