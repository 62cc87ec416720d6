"""Rules every write operation of the API keeps, checked over the whole API rather
than endpoint by endpoint, so that a new endpoint cannot forget them:

- the role's permission is checked before the body is read: a read-only user hears
  403 for any write, never 422 about a body they may not send anyway;
- a change (PATCH) of a record with optimistic locking must send the version read:
  without it, 422 naming the field — never a silent overwrite."""

import json
import re
import uuid

import pytest

from kontor.api import api
from kontor.core.models import AuditEntry
from kontor.customers.models import Organization, Person
from tests.core.test_api import assert_problem, bearer, reader, writer
from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by

pytestmark = pytest.mark.django_db

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# Writes any signed-in user may make, whatever the role: their own account's.
OPEN_TO_EVERY_ROLE = {"/api/v1/tokens/{prefix}/revoke"}
FORBIDDEN = ("Forbidden", "Your role does not allow this.")
READ_ONLY_TOKEN = ("Forbidden", "This token may only read.")
INVALID = ("Invalid input", "Some fields are not valid.")
# Not a body any of them accepts: an unknown field, a wrong type, no file.
INVALID_BODY = json.dumps({"no such field": ["\u202e"], "version": "new"})


def _write_operations() -> list[tuple[str, str, object]]:
    """(method, path as documented, view function) of every write operation."""
    found = []
    for bound in api._get_bound_routers():
        for path, path_view in bound.path_operations.items():
            for operation in path_view.operations:
                for method in set(operation.methods) & WRITES:
                    # "{uuid:uuid}" is held as "{uuidstr:uuid}"; written as documented.
                    documented = re.sub(r"\{\w+:uuid\}", "{uuid}", f"/api/v1{path}")
                    found.append((method, documented, operation.view_func))
    return sorted(found, key=lambda op: (op[1], op[0]))


WRITE_OPERATIONS = _write_operations()
GUARDED = [(m, p) for m, p, _view in WRITE_OPERATIONS if p not in OPEN_TO_EVERY_ROLE]


def _url(path: str) -> str:
    """A URL of the operation: any uuid, number 1 — no record needs to exist, the
    permission is refused before anything is looked up."""
    url = path.replace("{uuid}", str(uuid.uuid4())).replace("{prefix}", "ktr_abc")
    return re.sub(r"\{\w+\}", "1", url)


def _send(client, method: str, path: str, **headers):
    return client.generic(
        method, _url(path), INVALID_BODY, content_type="application/json", **headers
    )


def test_the_api_has_write_operations_to_check():
    assert len(GUARDED) > 50


@pytest.mark.parametrize(("method", "path", "view"), WRITE_OPERATIONS)
def test_every_write_declares_its_permission_before_the_body(method, path, view):
    if path in OPEN_TO_EVERY_ROLE:
        assert not getattr(view, "_kontor_requires", ())
    else:
        assert getattr(view, "_kontor_requires", ()), f"{method} {path}: no @requires(...)"


@pytest.mark.parametrize(("method", "path"), GUARDED)
def test_a_read_only_role_with_a_writing_token_hears_403_before_its_body_is_read(
    client, readonly, method, path
):
    response = _send(client, method, path, **writer(readonly))
    assert_problem(response, 403, *FORBIDDEN)
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(("method", "path"), GUARDED)
def test_a_read_only_role_in_the_browser_hears_403_before_its_body_is_read(
    client, readonly, method, path
):
    client.force_login(readonly)
    response = _send(client, method, path)
    assert_problem(response, 403, *FORBIDDEN)


@pytest.mark.parametrize(("method", "path", "_view"), WRITE_OPERATIONS)
def test_a_reading_token_hears_403_before_its_body_is_read(client, admin, method, path, _view):
    response = _send(client, method, path, **reader(admin))
    assert_problem(response, 403, *READ_ONLY_TOKEN)


def test_a_role_that_may_write_still_has_its_body_checked(client, owner):
    response = _send(client, "POST", "/api/v1/persons", **writer(owner))
    assert response.status_code == 422
    assert not Person.objects.exists()


def test_a_bad_token_is_still_401_not_403(client):
    response = _send(client, "POST", "/api/v1/persons", **bearer("ktr_nonsense"))
    assert response.status_code == 401


# --- PATCH needs the version ------------------------------------------------------------


def _patch_bodies() -> list[tuple[str, str]]:
    """(path, version field) of every PATCH whose body carries a version."""
    schema = api.get_openapi_schema()
    components = schema["components"]["schemas"]
    found = []
    for path, operations in schema["paths"].items():
        patch = operations.get("patch")
        if not patch:
            continue
        ref = patch["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        body = components[ref.rsplit("/", 1)[1]]
        for name in ("version", "lock_version"):
            if name in body["properties"]:
                found.append((path, name, body.get("required", [])))
    return found


def test_every_patch_with_optimistic_locking_requires_the_version():
    bodies = _patch_bodies()
    assert {path for path, _name, _required in bodies} >= {
        "/api/v1/persons/{uuid}",
        "/api/v1/organizations/{uuid}",
        "/api/v1/activities/{uuid}",
        "/api/v1/appointments/{uuid}",
        "/api/v1/tasks/{uuid}",
        "/api/v1/email-templates/{uuid}",
        "/api/v1/processes/{uuid}/versions/{number}",
    }
    assert [(path, name) for path, name, required in bodies if name not in required] == []


@pytest.mark.parametrize(
    ("factory", "path", "change"),
    [
        (PersonFactory, "persons", {"city": "Bonn"}),
        (OrganizationFactory, "organizations", {"city": "Bonn"}),
    ],
)
def test_a_patch_without_version_is_422_naming_it_and_changes_nothing(
    client, owner, factory, path, change
):
    record = owned_by(factory, owner, city="Köln")
    response = client.patch(
        f"/api/v1/{path}/{record.uuid}",
        json.dumps(change),
        content_type="application/json",
        **writer(owner),
    )
    assert_problem(
        response, 422, *INVALID, errors=[{"field": "version", "message": "This field is required."}]
    )
    model = Person if factory is PersonFactory else Organization
    assert model.objects.values_list("city", "version").get() == ("Köln", 1)
    assert not AuditEntry.objects.exists()
