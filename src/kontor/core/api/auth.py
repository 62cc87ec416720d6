"""Bearer-token authentication for scripts (``Authorization: Bearer <token>``), the
browser session for the app's own scripts, and ``requires``: the role's permission
for an operation, checked with the authentication — before the body is read."""

import copy
import secrets
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import contribute_operation_callback

from kontor.core.access import user_can
from kontor.core.api.ratelimit import check_rate
from kontor.core.models import ApiToken, TokenScope

TOKEN_PREFIX = "ktr_"  # noqa: S105 - a public marker, not a secret
# last_used_at is written at most this often, to keep reads from becoming writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class ScopeDenied(Exception):
    """A read-only token tried to write."""


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


def token_create(*, user, name: str, scope: str = TokenScope.READ) -> tuple[ApiToken, str]:
    """Make a token; returns the record and the raw token, which is never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name.strip()[:100] or "API",
            prefix=raw[: len(TOKEN_PREFIX) + 6],
            digest=ApiToken.digest_of(raw),
            scope=scope,
        )
    return token, raw


def token_revoke(*, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


# A capability ("customers.edit") or a test of the user (``may_use_templates``).
Check = str | Callable[..., bool]


class _Authorizes:
    """Refuses a user whose role lacks one of ``checks`` (403), as part of the
    authentication: ninja authenticates before it validates the body, so a user who
    may not write hears 403, not 422 about a body they may not send anyway."""

    checks: tuple[Check, ...] = ()

    def with_checks(self, checks: tuple[Check, ...]):
        authorizing = copy.copy(self)
        authorizing.checks = tuple(checks)
        return authorizing

    def authorize(self, user) -> None:
        for check in self.checks:
            allowed = user_can(user, check) if isinstance(check, str) else check(user)
            if not allowed:
                raise PermissionDenied(_("Your role does not allow this."))


class BearerToken(_Authorizes, HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        try:
            api_token = (
                ApiToken.objects.active()
                .select_related("user", "user__role")
                .get(digest=ApiToken.digest_of(token))
            )
        except ApiToken.DoesNotExist:
            return None
        # The middleware chose the language before the token was known: messages
        # (problems, field errors) speak the token owner's language, as in the browser.
        if api_token.user.language in dict(settings.LANGUAGES):
            translation.activate(api_token.user.language)
            request.LANGUAGE_CODE = api_token.user.language
        retry_after = check_rate(f"token:{api_token.pk}")
        if retry_after is not None:
            raise RateLimited(retry_after)
        if api_token.scope == TokenScope.READ and request.method not in SAFE_METHODS:
            raise ScopeDenied
        now = timezone.now()
        if api_token.last_used_at is None or now - api_token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        request.user = api_token.user
        request.api_token = api_token
        self.authorize(api_token.user)
        return api_token.user


class BrowserSession(_Authorizes, SessionAuth):
    """The signed-in browser session (for the docs page and the app's own scripts).

    ninja's SessionAuth checks CSRF before it looks for a session, so a script that
    writes with a wrong token got 403 "CSRF check failed" instead of 401. Here a
    request without a signed-in session is simply not authenticated by this scheme;
    CSRF is still checked for a session that writes."""

    def __call__(self, request: HttpRequest):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        authenticated = super().__call__(request)
        if authenticated:
            self.authorize(authenticated)
        return authenticated


def api_auth(*checks: Check) -> list:
    """The API's ways to authenticate; with ``checks``, also the permissions."""
    return [BearerToken().with_checks(checks), BrowserSession().with_checks(checks)]


def requires(*checks: Check):
    """The permissions a write operation needs, checked before its body is read.
    Below the router's decorator::

        @router.post("/persons", ...)
        @requires(Capability.CUSTOMERS_EDIT)
        def person_create(request, payload: PersonIn): ...

    The view and the service still check what depends on the record (its owner,
    its team); this is the part that depends on the role alone."""

    def apply(operation) -> None:
        operation.auth_param = api_auth(*checks)
        operation._set_auth(operation.auth_param)

    def decorate(view):
        operation = getattr(view, "_ninja_operation", None)
        if operation is not None:  # written above the router's decorator
            apply(operation)
        else:
            contribute_operation_callback(view, apply)
        view._kontor_requires = checks  # for the test that every write declares it
        return view

    return decorate
