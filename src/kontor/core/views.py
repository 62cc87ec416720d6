import re

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt

from kontor.core.navigation import nav_modules


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")


@login_required
def module_placeholder(request: HttpRequest, key: str) -> HttpResponse:
    label = next((m.label for m in nav_modules() if m.key == key), key)
    return render(request, "core/module_placeholder.html", {"module_label": label})


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database status for load balancers and the benchmark."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        database = "ok"
    except Exception:
        database = "unavailable"
    status = 200 if database == "ok" else 503
    return JsonResponse(
        {
            "status": "ok" if status == 200 else "error",
            "database": database,
            "vendor": connection.vendor,
        },
        status=status,
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if request.path.startswith("/api/"):
        # Scripts read problems, not the page for people (the API's own views check
        # CSRF themselves, for sessions only; this is a safety net).
        from kontor.core.api.errors import problem

        return problem(
            request,
            403,
            detail=_("The CSRF check failed: send the X-CSRFToken header with the session cookie."),
        )
    return render(
        request,
        "core/error.html",
        {
            "title": _("The form has expired"),
            "detail": _(
                "Your session may have ended or the form was sent twice. "
                "Please reload the page and try again."
            ),
        },
        status=403,
    )


def _error(request, status, title, detail):
    if request.path.startswith("/api/"):
        from kontor.core.api.errors import problem

        return problem(request, status, str(title), str(detail))
    return render(request, "core/error.html", {"title": title, "detail": detail}, status=status)


def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return _error(
        request,
        404,
        gettext_lazy("Page not found"),
        gettext_lazy("This page does not exist, or you may not see it."),
    )


def forbidden(request: HttpRequest, exception=None) -> HttpResponse:
    return _error(
        request, 403, gettext_lazy("Not allowed"), gettext_lazy("Your role does not allow this.")
    )


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    return _error(
        request,
        400,
        gettext_lazy("Bad request"),
        gettext_lazy("The request could not be understood."),
    )


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(
        request,
        500,
        gettext_lazy("Something went wrong"),
        gettext_lazy("The error has been logged. Please try again later."),
    )


# A UUID as a path segment, in any case.
UUID_IN_PATH = re.compile(
    r"(?<=/)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?=/|$)", re.IGNORECASE
)


@csrf_exempt  # writes only reach the API's own views, which check CSRF for sessions
def api_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any /api/ path the API has no operation for: a 404 problem, for writes too
    (the CSRF check answered those with the HTML "form expired" page).

    UUIDs are case-insensitive (RFC 9562), but the API's paths match lower case only:
    a path with a UUID in capitals is answered as the same path in lower case."""
    canonical = UUID_IN_PATH.sub(lambda m: m.group().lower(), request.path_info)
    if canonical != request.path_info:
        try:
            match = resolve(canonical)
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            return match.func(request, *match.args, **match.kwargs)
    return not_found(request)
