"""The API contract, pinned: /api/v1/openapi.json must equal the committed snapshot
``tests/core/openapi.snapshot.json``. Any change to a path, a parameter, a schema or
an error response fails here with a diff, so changing the contract is a decision,
reviewed with the snapshot in the same commit.

After an intended change, regenerate the snapshot, read its diff, and commit it:

    UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/core/test_openapi.py

The other tests here check properties the snapshot would pin only by accident: the
list parameters and their bounds, the page schema, and the documented problems."""

import difflib
import enum
import json
import os
import typing
from pathlib import Path

import pytest
from django.test import RequestFactory
from ninja import Schema
from pydantic import BaseModel

from kontor.core.api.errors import PROBLEM_CONTENT_TYPE
from kontor.core.api.pagination import DEFAULT_LIMIT, MAX_LIMIT

SNAPSHOT = Path(__file__).with_name("openapi.snapshot.json")
LISTS = {
    "/api/v1/persons": "PersonPage",
    "/api/v1/organizations": "OrganizationPage",
}


def _render(spec: dict) -> str:
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.fixture
def spec(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_openapi_document_matches_the_snapshot(spec):
    current = _render(spec)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(current, encoding="utf-8")
        return
    if not SNAPSHOT.exists():
        pytest.fail(f"{SNAPSHOT} is missing; make it with UPDATE_SNAPSHOTS=1 (see the docstring).")
    committed = SNAPSHOT.read_text(encoding="utf-8")
    if current != committed:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                current.splitlines(keepends=True),
                fromfile="openapi.snapshot.json (committed)",
                tofile="/api/v1/openapi.json (now)",
            )
        )
        pytest.fail(
            "The API contract changed. If that is intended, run "
            "`UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/core/test_openapi.py` "
            "and commit the snapshot.\n\n" + diff,
            pytrace=False,
        )


def test_the_document_does_not_depend_on_the_language(client):
    # The snapshot must not change with the language of whoever regenerates it.
    german = client.get("/api/v1/openapi.json", HTTP_ACCEPT_LANGUAGE="de").json()
    english = client.get("/api/v1/openapi.json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert german == english


LIST_FILTERS = {
    "/api/v1/persons": {"owner", "team", "organization", "city", "tag", "sort"},
    "/api/v1/organizations": {
        "owner",
        "team",
        "status",
        "kind",
        "city",
        "tag",
        "parent",
        "sort",
    },
}


@pytest.mark.parametrize("path", LISTS)
def test_lists_document_cursor_and_bounded_limit(spec, path):
    parameters = {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}
    # The list filters (customers.listing) come on top of q, cursor and limit.
    assert set(parameters) - {"q", "cursor", "limit"} == LIST_FILTERS[path]
    assert all(p["in"] == "query" and p["required"] is False for p in parameters.values())
    limit = parameters["limit"]["schema"]
    assert (limit["type"], limit["minimum"], limit["maximum"], limit["default"]) == (
        "integer",
        1,
        MAX_LIMIT,
        DEFAULT_LIMIT,
    )
    assert "next_cursor" in parameters["cursor"]["description"]


@pytest.mark.parametrize(("path", "page"), LISTS.items())
def test_lists_answer_with_a_page_of_items_and_the_next_cursor(spec, path, page):
    ok = spec["paths"][path]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{page}"}
    schema = spec["components"]["schemas"][page]
    assert set(schema["properties"]) == {"items", "next_cursor"}
    assert schema["required"] == ["items"]
    assert schema["properties"]["items"]["type"] == "array"
    assert schema["properties"]["next_cursor"]["anyOf"] == [{"type": "string"}, {"type": "null"}]


def test_every_error_response_is_a_documented_problem(spec):
    problem_responses = spec["components"]["responses"]
    for name, response in problem_responses.items():
        assert response["content"] == {
            PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
        }, name
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            errors = {s: r for s, r in operation["responses"].items() if int(s) >= 400}
            for status, response in errors.items():
                assert response == {"$ref": f"#/components/responses/Problem{status}"}, (
                    method,
                    path,
                )
            if operation.get("security"):
                assert {"401", "403", "429"} <= set(errors), (method, path)
            if "{" in path:
                assert "404" in errors, (method, path)
            if method == "patch":
                assert "409" in errors, (method, path)
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= set(errors), (method, path)


def test_problem_schema_names_title_status_detail_and_field_errors(spec):
    problem = spec["components"]["schemas"]["Problem"]
    assert problem["required"] == ["type", "title", "status"]
    assert {"title", "status", "detail", "instance", "errors"} <= set(problem["properties"])
    assert problem["properties"]["errors"]["items"]["required"] == ["field", "message"]


def test_request_bodies_refuse_unknown_fields(spec):
    schemas = spec["components"]["schemas"]
    for name in ("PersonIn", "PersonPatch", "OrganizationIn", "OrganizationPatch"):
        assert schemas[name]["additionalProperties"] is False, name


def _component_types(annotation):
    """The models and enums an annotation names, through list[…], X | None, Annotated …"""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel | enum.Enum):
        yield annotation
    for argument in typing.get_args(annotation):
        yield from _component_types(argument)


def _reachable_components() -> dict[str, set[type]]:
    """Every model and enum the operations' parameters, bodies and responses reach, by the
    name ninja gives its component. ninja's own wrapper models (one per operation) are
    flattened into the operation, so the walk starts at their fields."""
    from kontor.api import api

    todo = []
    for bound_router in api._get_bound_routers():
        for path_view in bound_router.path_operations.values():
            for operation in path_view.operations:
                wrappers = [*operation.models, *operation.response_models.values()]
                for wrapper in wrappers:
                    if isinstance(wrapper, type) and issubclass(wrapper, BaseModel):
                        todo += [f.annotation for f in wrapper.model_fields.values()]
    by_name: dict[str, set[type]] = {}
    seen: set[type] = set()
    while todo:
        for found in _component_types(todo.pop()):
            if found in seen:
                continue
            seen.add(found)
            by_name.setdefault(found.__name__, set()).add(found)
            if issubclass(found, BaseModel):
                todo += [f.annotation for f in found.model_fields.values()]
    return by_name


def test_every_component_name_belongs_to_one_class():
    # ninja names a component by its class name, and a second class of the same name
    # silently replaces the first in the document (activities were once documented
    # with a process step's ActivityOut).
    by_name = _reachable_components()
    collisions = {
        name: sorted(f"{c.__module__}.{c.__qualname__}" for c in classes)
        for name, classes in by_name.items()
        if len(classes) > 1
    }
    assert collisions == {}
    assert {"ActivityOut", "StepActivityOut", "AppointmentCancelIn"} <= set(by_name)


def test_every_kontor_schema_class_has_its_own_name():
    # The same rule for schemas no operation uses yet: one added later must not collide.
    import kontor.api  # noqa: F401 - imports every router and so every schema

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    by_name: dict[str, set[str]] = {}
    for cls in subclasses(Schema):
        if cls.__module__.startswith("kontor."):
            by_name.setdefault(cls.__name__, set()).add(cls.__module__)
    assert {name: mods for name, mods in by_name.items() if len(mods) > 1} == {}


def test_documented_schemas_are_the_right_ones(spec):
    paths = spec["paths"]
    listed = paths["/api/v1/activities"]["get"]["responses"]["200"]["content"]
    page = spec["components"]["schemas"][
        listed["application/json"]["schema"]["$ref"].split("/")[-1]
    ]
    assert page["properties"]["items"]["items"] == {"$ref": "#/components/schemas/ActivityOut"}
    assert "occurred_at" in spec["components"]["schemas"]["ActivityOut"]["properties"]
    cancel = paths["/api/v1/appointments/{uuid}/cancel"]["post"]["requestBody"]["content"]
    body = cancel["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/AppointmentCancelIn"}
    assert "required" not in spec["components"]["schemas"]["AppointmentCancelIn"]


def test_the_suite_checks_api_answers_against_the_document():
    # tests/openapi_conformance.py checks every answer in the suite; here, that it
    # would notice an answer the document does not describe.
    from django.http import HttpResponse, JsonResponse

    from kontor.core.api.errors import problem
    from tests.openapi_conformance import mismatches

    me = {"uuid": "not-a-uuid", "username": "x"}
    assert any("uuid" in m for m in mismatches("GET", "/api/v1/me", JsonResponse(me)))
    assert any("required" in m for m in mismatches("GET", "/api/v1/me", JsonResponse(me)))
    assert mismatches("GET", "/api/v1/me", HttpResponse("<html>", status=403))
    assert mismatches("GET", "/api/v1/me", JsonResponse({}, status=418))
    assert mismatches("GET", "/api/v1/me", JsonResponse({}, status=500))
    assert mismatches("DELETE", "/api/v1/me", HttpResponse(status=405))
    request = RequestFactory().get("/api/v1/me")
    assert mismatches("GET", "/api/v1/me", problem(request, 401)) == []
    assert mismatches("DELETE", "/api/v1/me", problem(request, 405)) == []
    assert mismatches("GET", "/api/v1/nothing", problem(request, 404)) == []
    assert mismatches("GET", "/api/v1/persons/import-vcard", problem(request, 405)) == []
