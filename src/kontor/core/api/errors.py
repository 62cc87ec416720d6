"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error the API answers with goes through ``problem``: a translated ``title``
(one per status), the ``status``, a translated ``detail`` and, for invalid input,
``errors`` naming the ``field``. ``document_problems`` puts the same contract into
the OpenAPI document."""

import copy
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext_lazy as _

PROBLEM_CONTENT_TYPE = "application/problem+json"

TITLES = {
    400: _("Bad request"),
    401: _("Not authenticated"),
    403: _("Forbidden"),
    404: _("Not found"),
    405: _("Method not allowed"),
    409: _("Conflict"),
    413: _("Request too large"),
    422: _("Invalid input"),
    429: _("Too many requests"),
    500: _("Something went wrong"),
}


def title_for(status: int) -> str:
    return str(TITLES.get(status) or HTTPStatus(status).phrase)


def problem(
    request: HttpRequest,
    status: int,
    title: str | None = None,
    detail: str = "",
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JsonResponse:
    """A problem response; ``extensions`` become extra members (e.g. ``current_version``)."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": str(title or title_for(status)),
        "status": status,
    }
    if detail:
        body["detail"] = str(detail)
    if errors:
        body["errors"] = errors
    body.update(extensions)
    body["instance"] = request.path
    response = JsonResponse(
        body,
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False},
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


# --- The contract in the OpenAPI document ---------------------------------------------

PROBLEM_SCHEMA = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details; `title` and `detail` are in the user's language.",
    "properties": {
        "type": {"type": "string", "example": "about:blank"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "Only for 422: one entry per invalid field.",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": ["string", "null"]},
                    "message": {"type": "string"},
                },
                "required": ["field", "message"],
            },
        },
        "current_version": {
            "type": "integer",
            "description": "Only for 409: the version now stored; read it again and retry.",
        },
    },
    "required": ["type", "title", "status"],
}

PROBLEM_RESPONSES = {
    "400": "Malformed request (e.g. body is not JSON, invalid cursor).",
    "401": "No valid token or session.",
    "403": "The token may only read, or the role does not allow this.",
    "404": "No such record, or one you may not see (in the path, a filter or the body).",
    "409": "Optimistic locking: someone else changed the record since `version`.",
    "413": "The request body is too large.",
    "414": "The URL is too long (the server takes a request line of up to 8,190 bytes).",
    "422": "Invalid input; `errors` names the fields.",
    "429": "Rate limit exceeded; see the Retry-After header.",
}


def _names_a_record(operation: dict[str, Any], schemas: dict[str, Any]) -> bool:
    """Whether a query parameter or the body names a record by uuid: one the user may not
    see is a 404, as in a path."""
    todo = [p.get("schema", {}) for p in operation.get("parameters", [])]
    for content in operation.get("requestBody", {}).get("content", {}).values():
        todo.append(content.get("schema", {}))
    seen = set()
    while todo:
        node = todo.pop()
        if isinstance(node, list):
            todo += node
        elif isinstance(node, dict):
            if node.get("format") == "uuid":
                return True
            ref = node.get("$ref", "")
            if ref.startswith("#/components/schemas/") and ref not in seen:
                seen.add(ref)
                todo.append(schemas.get(ref.rsplit("/", 1)[-1], {}))
            todo += [v for k, v in node.items() if k != "$ref"]
    return False


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Adds the Problem schema and the error responses each operation can give."""
    schema = copy.deepcopy(schema)
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    components["responses"] = {
        f"Problem{status}": {
            "description": description,
            "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status, description in PROBLEM_RESPONSES.items()
    }
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            statuses = set()
            takes_body = "requestBody" in operation
            names = {p["name"] for p in operation.get("parameters", [])}
            if takes_body or "cursor" in names:
                statuses.add("400")
            if operation.get("security"):
                statuses |= {"401", "403", "429"}
            if "{" in path or _names_a_record(operation, components["schemas"]):
                statuses.add("404")
            if method == "patch":
                statuses.add("409")
            if takes_body:
                statuses.add("413")
            if takes_body or names:
                statuses.add("422")
            if any(p.get("in") == "query" for p in operation.get("parameters", [])):
                statuses.add("414")
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses):
                responses.setdefault(status, {"$ref": f"#/components/responses/Problem{status}"})
    return schema
