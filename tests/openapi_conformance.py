"""Every answer of the API in the suite is checked against the OpenAPI document.

A pytest plugin (tests/conftest.py loads it): for the whole session, each request the
Django test client makes to /api/v1/ has its answer checked, and a mismatch fails the
test right at the request:

- the path and method are documented (else the answer is a 404 or 405 problem);
- the status code is one the operation documents, and never a 5xx;
- the content type is one the document gives for that status;
- a JSON body validates (JSON Schema 2020-12, with the document's components) against
  the schema the document gives; errors are problems (application/problem+json).

The document and the validators are built once per session, so a check costs one
schema validation. A test that means to send something undocumented (a raw call to
an unknown path, say) can opt out with ``@pytest.mark.undocumented``."""

import json
import re
from functools import cache
from typing import Any

import pytest
from django.test.client import Client

API_PREFIX = "/api/v1/"
NOT_OPERATIONS = {"/api/v1/openapi.json"}
PROBLEM_TYPE = "application/problem+json"
DOCUMENT_URI = "urn:kontor:openapi"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "undocumented: the test's API answers are not checked against the document"
    )


@cache
def _document() -> dict[str, Any]:
    from kontor.api import api

    # The document as served (the same JSON the clients read), built once.
    return json.loads(json.dumps(api.get_openapi_schema(), default=str))


@cache
def _path_patterns() -> list[tuple[re.Pattern, str]]:
    """Templates as regexes, literal paths first: /persons/import-vcard before /persons/{uuid}."""
    patterns = []
    for template in _document()["paths"]:
        regex = re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template))
        patterns.append((re.compile(f"^{regex}$"), template))
    return sorted(patterns, key=lambda p: (p[1].count("{"), p[1]))


def _template(path: str) -> str | None:
    for regex, template in _path_patterns():
        if regex.match(path):
            return template
    return None


@cache
def _validator(pointer: str):
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    document = Resource.from_contents(_document(), default_specification=DRAFT202012)
    registry = Registry().with_resource(DOCUMENT_URI, document)
    return Draft202012Validator(
        {"$ref": f"{DOCUMENT_URI}#{pointer}"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _media_type(response) -> str:
    return (response.get("Content-Type") or "").split(";")[0].strip().lower()


def _resolve(node: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """A response object, following one components/responses $ref; and its pointer."""
    ref = node.get("$ref")
    if not ref:
        return node, None
    name = ref.rsplit("/", 1)[-1]
    return _document()["components"]["responses"][name], f"/components/responses/{_escape(name)}"


def mismatches(method: str, path: str, response) -> list[str]:
    """What in this answer the document does not say; empty when it conforms."""
    status = response.status_code
    if status >= 500:
        return [f"a server error ({status})"]
    template = _template(path)
    if template is None:
        if status == 404 and _media_type(response) == PROBLEM_TYPE:
            return _body_mismatches(response, "/components/schemas/Problem")
        return [f"{path} is not documented, and the answer is {status}, not a 404 problem"]
    operation = _document()["paths"][template].get(method.lower())
    if operation is None:
        if status == 405 and _media_type(response) == PROBLEM_TYPE:
            return _body_mismatches(response, "/components/schemas/Problem")
        return [f"{method} {template} is not documented, and the answer is {status}, not 405"]
    responses = operation["responses"]
    key = str(status) if str(status) in responses else "default"
    if key not in responses:
        return [f"status {status} is not documented for {method} {template}: {sorted(responses)}"]
    documented, pointer = _resolve(responses[key])
    if pointer is None:
        pointer = f"/paths/{_escape(template)}/{method.lower()}/responses/{key}"
    content = documented.get("content") or {}
    media_type = _media_type(response)
    if not content:
        if response.streaming or response.content:
            return [f"{status} is documented without a body, but {media_type!r} came"]
        return []
    if media_type not in content and "*/*" not in content:
        return [f"{status} came as {media_type!r}, documented are {sorted(content)}"]
    if media_type not in content or "json" not in media_type:
        return []  # a file (vCard, BPMN, PDF …): its type is what the document promises
    schema_pointer = f"{pointer}/content/{_escape(media_type)}/schema"
    return _body_mismatches(response, schema_pointer)


def _body(response) -> bytes:
    return b"" if response.streaming else response.content


def _body_mismatches(response, schema_pointer: str) -> list[str]:
    try:
        body = json.loads(_body(response) or b"null")
    except ValueError:
        return ["the body is not JSON"]
    errors = sorted(_validator(schema_pointer).iter_errors(body), key=lambda e: list(e.path))
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message}"
        for error in errors[:10]
    ]


def _checked(request):
    original = Client.request

    def checking_request(self, **environ):
        response = original(self, **environ)
        path = environ.get("PATH_INFO", "")
        if path.startswith(API_PREFIX) and path not in NOT_OPERATIONS:
            method = environ.get("REQUEST_METHOD", "GET")
            problems = mismatches(method, path, response)
            if problems:
                pytest.fail(
                    f"{method} {path} answered {response.status_code} against the OpenAPI "
                    "document:\n  " + "\n  ".join(problems) + f"\nbody: {_body(response)[:500]!r}",
                    pytrace=False,
                )
        return response

    return checking_request


@pytest.fixture(autouse=True)
def _api_answers_match_the_document(request, monkeypatch):
    if request.node.get_closest_marker("undocumented"):
        return
    monkeypatch.setattr(Client, "request", _checked(request))
