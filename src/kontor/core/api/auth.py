"""Bearer-token authentication for scripts (``Authorization: Bearer <token>``)."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone, translation
from ninja.security import HttpBearer, SessionAuth

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


class BearerToken(HttpBearer):
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
        return api_token.user


class BrowserSession(SessionAuth):
    """The signed-in browser session (for the docs page and the app's own scripts).

    ninja's SessionAuth checks CSRF before it looks for a session, so a script that
    writes with a wrong token got 403 "CSRF check failed" instead of 401. Here a
    request without a signed-in session is simply not authenticated by this scheme;
    CSRF is still checked for a session that writes."""

    def __call__(self, request: HttpRequest):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return super().__call__(request)
