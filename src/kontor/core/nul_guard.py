"""NUL characters are refused at the edge.

PostgreSQL cannot store U+0000 in text or jsonb: a NUL that reaches a query or a write
ends in a 500 there while SQLite takes it. No input of Kontor has a use for it, so
``RefuseNulMiddleware`` answers before any view runs — 404 for a path (nothing is
named with a NUL), 400 (a page) or 422 naming the field (the API) for the query string,
a form body or a JSON body. Text decoded from uploads (vCard) and JSON typed into forms
is checked where it is decoded, with ``nul_path`` and ``refuse_nul``. The content of an
uploaded file itself may contain NUL bytes: it is stored as a file, never as text."""

import json
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

NUL = "\x00"
# Django's own message (translated in its catalogue), as its form fields say it.
NUL_MESSAGE = gettext_lazy("Null characters are not allowed.")
JSON_ESCAPED_NUL = b"\\u0000"


def nul_path(value: Any) -> tuple[str, ...] | None:
    """The keys leading to the first NUL in a JSON-like value (object keys included),
    () for a NUL in ``value`` itself, None if there is none. Iterative: a deeply nested
    body must not exhaust the stack."""
    stack: list[tuple[tuple[str, ...], Any]] = [((), value)]
    while stack:
        path, current = stack.pop()
        if isinstance(current, str):
            if NUL in current:
                return path
        elif isinstance(current, dict):
            for key, item in reversed(list(current.items())):
                key = str(key)
                if NUL in key:
                    return (*path, key)
                stack.append(((*path, key), item))
        elif isinstance(current, list | tuple):
            stack.extend(((*path, str(i)), item) for i, item in reversed(list(enumerate(current))))
    return None


def field_name(path: Iterable[str]) -> str | None:
    """``path`` as the API names fields ("trigger_config.source"); a NUL in a key is
    shown as U+FFFD so that the answer does not carry it on."""
    return ".".join(part.replace(NUL, "\ufffd") for part in path) or None


def refuse_nul(field: str, value: Any) -> None:
    """A ValidationError on ``field`` if ``value`` (text or JSON) contains a NUL."""
    if nul_path(value) is not None:
        raise ValidationError({field: [NUL_MESSAGE]})


def querydict_nul_path(data: QueryDict) -> tuple[str] | None:
    """(the parameter,) of the first key or value with a NUL, None if there is none."""
    for key, values in data.lists():
        if NUL in key or any(NUL in value for value in values):
            return (key,)
    return None


def _body_nul_path(request: HttpRequest) -> tuple[str, ...] | None:
    """Where the body holds a NUL: form fields and names of uploaded files (not their
    content), or any key or string of a JSON body."""
    content_type = request.content_type or ""
    if content_type == "application/x-www-form-urlencoded" or (
        content_type == "multipart/form-data" and request.method == "POST"
    ):
        if request.method == "POST":
            data = request.POST
        else:  # Django parses only POST; ninja reads the other methods' bodies itself
            data = QueryDict(request.body, encoding=request.encoding)
        path = querydict_nul_path(data)
        if path is None and request.method == "POST":
            path = next(((k,) for k, f in request.FILES.items() if NUL in (f.name or "")), None)
        return path
    if content_type == "application/json" or content_type.endswith("+json"):
        body = request.body
        # Most bodies have neither; only these are parsed a second time.
        if JSON_ESCAPED_NUL not in body and NUL.encode() not in body:
            return None
        try:
            return nul_path(json.loads(body))
        except (ValueError, RecursionError):
            return None  # not JSON: the API answers that itself
    return None


class DropNulCookiesMiddleware:
    """A cookie holding a NUL (an octal escape in a quoted value) is treated as not
    sent: before SessionMiddleware, which would look the session key up."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for name in [name for name, value in request.COOKIES.items() if NUL in value]:
            del request.COOKIES[name]
        return self.get_response(request)


class RefuseNulMiddleware:
    """Refuses a NUL in the path, the query string or the body before any view runs.
    It comes after UserPreferencesMiddleware so that the page speaks the user's
    language; nothing before it reads the request's input.

    For the API it only notes where the NUL is (``request.nul_path``): the API answers
    422 after the token is checked (``KontorAPI``), in the token owner's language and
    after 401 and 403 as for any other invalid input."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if NUL in request.path_info:
            from kontor.core.views import not_found

            return not_found(request)
        path = querydict_nul_path(request.GET)
        if path is None:
            path = _body_nul_path(request)
        if path is not None:
            if not request.path.startswith("/api/"):
                return nul_refused_page(request)
            request.nul_path = path
        return self.get_response(request)


def nul_refused_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "core/error.html",
        {
            "title": _("Bad request"),
            "detail": _(
                "The request contains a null character (NUL), which Kontor does not accept."
            ),
        },
        status=400,
    )
