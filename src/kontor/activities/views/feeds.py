"""The personal calendar feed: the page where a user makes and revokes subscription
addresses (/calendar/feed/), and the address itself (/calendar/feed/<token>.ics),
which calendar programs fetch without a login."""

import hashlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, re_path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kontor.activities.services import feeds

CONTENT_TYPE = "text/calendar; charset=utf-8"
# Private: the body is one person's calendar, no shared cache may keep it.
CACHE_CONTROL = "private, max-age=0, must-revalidate"


def _page(request: HttpRequest, *, new_url: str = "", status: int = 200) -> HttpResponse:
    context = {
        "feeds": feeds.feeds_of(user=request.user),
        "new_url": new_url,
        "new_webcal_url": _webcal(new_url),
    }
    return render(request, "activities/feed_settings.html", context, status=status)


def _webcal(url: str) -> str:
    # webcal:// makes Apple Calendar and Outlook offer to subscribe on a click.
    for scheme in ("https://", "http://"):
        if url.startswith(scheme):
            return "webcal://" + url[len(scheme) :]
    return ""


@login_required
@require_http_methods(["GET", "POST"])
def feed_settings(request: HttpRequest) -> HttpResponse:
    """List the user's feeds; POST makes a new one and shows its address once (in
    this answer only: it is not stored, a reload does not show it again)."""
    if request.method == "GET":
        return _page(request)
    try:
        _feed, url = feeds.feed_create(actor=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("activities:feed_settings")
    response = _page(request, new_url=url)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def feed_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    feed = get_object_or_404(feeds.feeds_of(user=request.user), pk=pk)
    feeds.feed_revoke(actor=request.user, feed=feed)
    messages.success(request, _("The subscription is revoked. Its address no longer works."))
    return redirect("activities:feed_settings")


def _etag_matches(request: HttpRequest, etag: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    if not header:
        return False
    candidates = {value.strip().removeprefix("W/") for value in header.split(",")}
    return "*" in candidates or etag in candidates


@require_http_methods(["GET", "HEAD"])
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The iCalendar feed. No login: the token is the key. An unknown or revoked
    token and a deactivated user get the same 404."""
    subscription = feeds.feed_for_token(token)
    if subscription is None:
        raise Http404
    feeds.feed_touch(feed=subscription)
    body = feeds.feed_body(feed=subscription)
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    if _etag_matches(request, etag):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type=CONTENT_TYPE)
        response["Content-Disposition"] = 'inline; filename="kontor.ics"'
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    response["X-Robots-Tag"] = "noindex"
    return response


urlpatterns: list = [
    path("calendar/feed/", feed_settings, name="feed_settings"),
    path("calendar/feed/<int:pk>/revoke/", feed_revoke, name="feed_revoke"),
    re_path(r"^calendar/feed/(?P<token>[A-Za-z0-9_-]{16,100})\.ics$", feed, name="feed"),
]
