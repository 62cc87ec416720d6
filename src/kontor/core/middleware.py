import zoneinfo

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation


class ContentSecurityPolicyMiddleware:
    """Sends the strict policy from ``settings.SECURE_CSP``: no inline script or style.

    Django 6 ships the same middleware and setting name; switching is a one-line change.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = "; ".join(
            " ".join([directive, *sources]) for directive, sources in settings.SECURE_CSP.items()
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", self.header)
        return response


# Browser features Kontor never uses: a page (or injected content) may not ask for them.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)


class PrivateResponseHeadersMiddleware:
    """Every answer denies the browser features above (``Permissions-Policy``); an
    answer to a signed-in user or a token is ``Cache-Control: no-store``, so customer
    data stays out of the browser's and proxies' caches (and the back button after
    logout). A view that chose its own caching keeps it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response.setdefault("Cache-Control", "no-store")
        return response


class RequestSizeLimitMiddleware:
    """Refuses an oversize body before anything reads it, with 413 and a clear message
    (in the API's problem format for API paths)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        limit = request_size_limit(request, length)
        if length > limit:
            return too_large_response(request, limit)
        return self.get_response(request)


# The URL names ("namespace:name") of views that take attachments; apps add theirs.
UPLOAD_VIEW_NAMES: set[str] = set()


def request_size_limit(request: HttpRequest, length: int = 0) -> int:
    """DATA_UPLOAD_MAX_MEMORY_SIZE; a file upload (multipart) to a view in
    UPLOAD_VIEW_NAMES may carry one attachment of ATTACHMENT_MAX_MB plus 1 MB for the
    other fields. Django streams file parts to disk and checks the other fields itself."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if length > limit and request.content_type == "multipart/form-data":
        from django.urls import Resolver404, resolve

        try:
            view_name = resolve(request.path_info).view_name
        except Resolver404:
            return limit
        if view_name in UPLOAD_VIEW_NAMES:
            limit = max(limit, (settings.ATTACHMENT_MAX_MB + 1) * 1024 * 1024)
    return limit


def too_large_response(request: HttpRequest, limit: int | None = None) -> HttpResponse:
    from django.utils.translation import gettext as _

    limit_mb = (limit or settings.DATA_UPLOAD_MAX_MEMORY_SIZE) // (1024 * 1024)
    detail = _("The request is larger than %(limit)s MB.") % {"limit": limit_mb}
    if request.path.startswith("/api/"):
        from kontor.core.api.errors import problem

        return problem(request, 413, _("Request too large"), detail)
    return render(
        request, "core/error.html", {"title": _("Request too large"), "detail": detail}, status=413
    )


class UserPreferencesMiddleware:
    """Speaks the signed-in user's language and shows times in their time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if user.language in dict(settings.LANGUAGES):
                translation.activate(user.language)
                request.LANGUAGE_CODE = user.language
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)


# Paths a session that still owes the second factor may reach. Each two-factor view
# checks for itself what such a session may do there.
TWO_FACTOR_EXEMPT_PREFIXES = (
    "/accounts/login/",
    "/accounts/logout/",
    "/accounts/two-factor/",
    "/accounts/password/reset/",
    "/static/",
    "/healthz",
    "/i18n/",
)


class TwoFactorRequiredMiddleware:
    """Where the role demands two-factor login (or the user set up an authenticator),
    a session that has not passed the second factor reaches only the login, logout
    and two-factor pages. API calls with a bearer token are not sessions and pass;
    API calls riding on such a session are refused."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        path = request.path
        if (
            user is not None
            and user.is_authenticated
            and not path.startswith(TWO_FACTOR_EXEMPT_PREFIXES)
            and not user.is_verified()
        ):
            from kontor.core.two_factor import SETUP, VERIFY, two_factor_state

            state = two_factor_state(user)
            if state in (VERIFY, SETUP):
                if path.startswith("/api/") and "Authorization" in request.headers:
                    # A script's token decides alone: the half-finished session
                    # must not stand in if the token is wrong.
                    from django.contrib.auth.models import AnonymousUser

                    request.user = AnonymousUser()
                else:
                    return self.refuse(request, state)
        return self.get_response(request)

    @staticmethod
    def refuse(request: HttpRequest, state: str) -> HttpResponse:
        from django.utils.http import urlencode
        from django.utils.translation import gettext as _

        if request.path.startswith("/api/"):
            from kontor.core.api.errors import problem

            return problem(
                request,
                401,
                _("Two-factor login required"),
                _("Finish the login with the code from your authenticator app first."),
            )
        from kontor.core.two_factor import VERIFY

        if state == VERIFY:
            url = f"{settings.TWO_FACTOR_VERIFY_URL}?{urlencode({'next': request.get_full_path()})}"
        else:
            url = settings.TWO_FACTOR_SETUP_URL
        if request.headers.get("HX-Request") == "true":
            # htmx would swap the login step into a fragment; have it load the page.
            response = HttpResponse()
            response["HX-Redirect"] = url
            return response
        return redirect(url)
