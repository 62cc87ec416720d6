"""The API base: bearer tokens, scopes, errors as problem+json, rate limit, pagination.

Every error the API can give is checked here as a whole problem body (type, title,
status, detail, instance); the customers endpoints' own errors are in
tests/customers/test_api.py."""

import base64
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kontor.core.api.auth import token_create
from kontor.core.api.pagination import MAX_LIMIT, encode_cursor
from kontor.core.models import ApiToken, TokenScope
from kontor.customers.models import Person
from tests.customers.factories import PersonFactory, owned_by

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def writer(user):
    """Headers of a read-write token of ``user``."""
    _token, raw = token_create(user=user, name="w", scope=TokenScope.READ_WRITE)
    return bearer(raw)


def reader(user):
    _token, raw = token_create(user=user, name="r", scope=TokenScope.READ)
    return bearer(raw)


def assert_problem(response, status, title, detail, **extra):
    """``response`` is exactly this problem (``extra``: errors, current_version...)."""
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    expected = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": body.get("instance"),
        **extra,
    }
    assert body == expected
    assert body["instance"].startswith("/api/")
    return body


def post_json(client, url, data, **headers):
    return client.post(url, data=json.dumps(data), content_type="application/json", **headers)


# --- Tokens ----------------------------------------------------------------------------


def test_token_is_shown_once_and_stored_hashed(owner):
    token, raw = token_create(user=owner, name="script")
    assert raw.startswith("ktr_")
    assert raw not in token.digest
    assert ApiToken.objects.get(pk=token.pk).digest == ApiToken.digest_of(raw)


def test_me_with_a_valid_token(client, owner, team):
    response = client.get("/api/v1/me", **reader(owner))
    assert response.status_code == 200
    body = response.json()
    assert (body["username"], body["role"], body["teams"]) == ("owner", "sales_rep", [team.name])
    assert "customers.edit" in body["capabilities"]
    assert "customers.delete" not in body["capabilities"]


def test_revoked_token_no_longer_works(client, owner):
    token, raw = token_create(user=owner, name="script")
    token.revoked_at = timezone.now()
    token.save()
    assert client.get("/api/v1/me", **bearer(raw)).status_code == 401


def test_token_of_deactivated_user_no_longer_works(client, owner):
    headers = reader(owner)
    owner.is_active = False
    owner.save()
    assert client.get("/api/v1/me", **headers).status_code == 401


def test_last_used_time_is_recorded(client, owner):
    token, raw = token_create(user=owner, name="script")
    client.get("/api/v1/me", **bearer(raw))
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_tokens_lists_and_revokes_only_my_own(client, owner, outsider):
    mine, raw = token_create(user=owner, name="mine", scope=TokenScope.READ_WRITE)
    theirs, _raw = token_create(user=outsider, name="theirs")
    listed = client.get("/api/v1/tokens", **bearer(raw)).json()
    assert [(t["name"], t["prefix"], t["revoked"]) for t in listed] == [
        ("mine", mine.prefix, False)
    ]
    response = client.post(f"/api/v1/tokens/{theirs.prefix}/revoke", **bearer(raw))
    assert_problem(response, 404, "Not found", "No such record, or you may not see it.")
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert client.post(f"/api/v1/tokens/{mine.prefix}/revoke", **bearer(raw)).status_code == 204
    assert client.get("/api/v1/me", **bearer(raw)).status_code == 401


def test_kontor_token_command_prints_a_working_token(client, owner, capsys):
    from django.core.management import call_command

    call_command("token", "owner")
    raw = capsys.readouterr().out.strip()
    assert client.get("/api/v1/me", **bearer(raw)).status_code == 200


# --- 401 -------------------------------------------------------------------------------


NOT_AUTHENTICATED = ("Not authenticated", "Send a valid token as 'Authorization: Bearer <token>'.")
# Without a user, the language comes from the request (the default is German).
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


def test_wrong_token_is_a_problem_401(client):
    response = client.get("/api/v1/me", **bearer("ktr_wrong"), **ENGLISH)
    assert_problem(response, 401, *NOT_AUTHENTICATED)
    assert response["WWW-Authenticate"] == "Bearer"


def test_no_credentials_at_all_is_a_problem_401(client):
    assert_problem(client.get("/api/v1/persons", **ENGLISH), 401, *NOT_AUTHENTICATED)


def test_anonymous_problems_default_to_german(client):
    response = client.get("/api/v1/persons")
    assert (response.status_code, response.json()["title"]) == (401, "Nicht angemeldet")


def test_a_write_with_a_wrong_token_is_401_not_a_csrf_403():
    # ninja's session scheme checked CSRF before looking for a session: a script with
    # a mistyped token was told "CSRF check failed".
    client = Client(enforce_csrf_checks=True)
    response = post_json(
        client, "/api/v1/persons", {"last_name": "X"}, **bearer("ktr_wrong"), **ENGLISH
    )
    assert_problem(response, 401, *NOT_AUTHENTICATED)
    assert not Person.objects.exists()


# --- Browser session -------------------------------------------------------------------


def test_session_reads_without_a_token(client, owner):
    client.force_login(owner)
    assert client.get("/api/v1/me").json()["username"] == "owner"


def test_session_write_without_csrf_token_is_a_problem_403(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = post_json(client, "/api/v1/persons", {"last_name": "X"})
    assert_problem(
        response,
        403,
        "Forbidden",
        "The CSRF check failed: send the X-CSRFToken header with the session cookie.",
    )
    assert not Person.objects.exists()


def test_session_write_with_csrf_token_works(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    client.get("/customers/persons/")  # the page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = post_json(client, "/api/v1/persons", {"last_name": "X"}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201
    assert Person.objects.get().last_name == "X"


# --- 403 -------------------------------------------------------------------------------


def test_read_token_cannot_write(client, owner):
    response = post_json(client, "/api/v1/persons", {"last_name": "X"}, **reader(owner))
    assert_problem(response, 403, "Forbidden", "This token may only read.")
    assert not Person.objects.exists()


def test_role_without_the_capability_is_a_problem_403(client, readonly):
    response = post_json(client, "/api/v1/persons", {"last_name": "X"}, **writer(readonly))
    assert_problem(response, 403, "Forbidden", "Your role does not allow this.")
    assert not Person.objects.exists()


# --- 404, 405 --------------------------------------------------------------------------


def test_unknown_api_path_is_a_problem_404(client):
    response = client.get("/api/v1/does-not-exist")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert set(response.json()) == {"type", "title", "status", "detail", "instance"}


def test_method_not_allowed_is_a_problem_405_with_allow(client, owner):
    # 405 is decided before the token is read: the language comes from the request.
    response = client.put("/api/v1/persons", HTTP_ACCEPT_LANGUAGE="en", **writer(owner))
    assert_problem(response, 405, "Method not allowed", "Allowed methods: GET, POST.")
    assert response["Allow"] == "GET, POST"


def test_method_not_allowed_on_a_record_is_a_problem_405(client, owner):
    person = owned_by(PersonFactory, owner)
    response = client.put(
        f"/api/v1/persons/{person.uuid}", HTTP_ACCEPT_LANGUAGE="en", **writer(owner)
    )
    assert_problem(response, 405, "Method not allowed", "Allowed methods: DELETE, GET, PATCH.")


# --- 400, 413, 422 ---------------------------------------------------------------------


def test_malformed_json_is_a_problem_400(client, owner):
    response = client.post(
        "/api/v1/persons", data="{not json", content_type="application/json", **writer(owner)
    )
    assert_problem(response, 400, "Bad request", "The request body is not valid JSON.")


def test_oversize_body_is_a_problem_413(client, owner, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    body = {"last_name": "X", "city": "a" * (1024 * 1024)}
    response = post_json(client, "/api/v1/persons", body, **writer(owner))
    assert_problem(response, 413, "Request too large", "The request is larger than 1 MB.")
    assert not Person.objects.exists()


def test_invalid_body_is_a_422_with_field_errors(client, owner):
    response = post_json(client, "/api/v1/persons", {"email": "x"}, **writer(owner))
    assert_problem(
        response,
        422,
        "Invalid input",
        "Some fields are not valid.",
        errors=[{"field": "last_name", "message": "This field is required."}],
    )


def test_model_validation_errors_are_field_errors(client, owner):
    body = {"last_name": "Muster", "email": "not-an-email"}
    response = post_json(client, "/api/v1/persons", body, **writer(owner))
    assert_problem(
        response,
        422,
        "Invalid input",
        "Some fields are not valid.",
        errors=[{"field": "email", "message": "Enter a valid email address."}],
    )
    assert not Person.objects.exists()


def test_problems_speak_the_token_owners_language(client, owner):
    owner.language = "de"
    owner.save()
    response = post_json(client, "/api/v1/persons", {}, **writer(owner))
    body = response.json()
    assert (body["title"], body["errors"]) == (
        "Ungültige Eingabe",
        [{"field": "last_name", "message": "Dieses Feld ist zwingend erforderlich."}],
    )


# --- 429 -------------------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after(client, owner, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    headers = reader(owner)
    statuses = [client.get("/api/v1/me", **headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/me", **headers)
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 60
    assert_problem(
        response,
        429,
        "Too many requests",
        f"Slow down: try again in {retry_after} seconds.",
    )


WRITES = ("INSERT", "UPDATE", "DELETE")


def test_reading_with_a_token_writes_nothing(client, owner):
    """A read counts against the rate limit in the cache, not in the database; the
    token's last_used_at, fresh from the first request, is not written again."""
    PersonFactory(owner=owner)
    headers = reader(owner)
    assert client.get("/api/v1/persons", **headers).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/persons", **headers).status_code == 200
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(WRITES)]
    assert writes == []


def test_rate_limit_counts_each_token_on_its_own(client, owner, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    first, second = reader(owner), reader(owner)
    assert [client.get("/api/v1/me", **first).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/api/v1/me", **second).status_code == 200


# --- Pagination ------------------------------------------------------------------------


def test_cursor_pagination_walks_all_rows_once_even_with_inserts(client, owner):
    headers = reader(owner)
    for i in range(7):
        owned_by(PersonFactory, owner, last_name=f"Name{i:02d}")
    seen, cursor = [], None
    while True:
        url = "/api/v1/persons?limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, **headers).json()
        seen += [p["last_name"] for p in body["items"]]
        if len(seen) == 3:
            # A row inserted before the cursor does not shift the pages after it.
            owned_by(PersonFactory, owner, last_name="Name00a")
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [f"Name{i:02d}" for i in range(7)]


def test_limit_up_to_the_maximum_is_served(client, owner):
    for i in range(3):
        owned_by(PersonFactory, owner, last_name=f"Name{i}")
    body = client.get(f"/api/v1/persons?limit={MAX_LIMIT}", **reader(owner)).json()
    assert (len(body["items"]), body["next_cursor"]) == (3, None)


@pytest.mark.parametrize(
    ("limit", "message"),
    [
        ("0", "Ensure this value is greater than or equal to 1."),
        ("-5", "Ensure this value is greater than or equal to 1."),
        (str(MAX_LIMIT + 1), f"Ensure this value is less than or equal to {MAX_LIMIT}."),
        ("100000", f"Ensure this value is less than or equal to {MAX_LIMIT}."),
        ("abc", "Enter a whole number."),
    ],
)
def test_limit_out_of_bounds_is_a_422(client, owner, limit, message):
    response = client.get(f"/api/v1/persons?limit={limit}", **reader(owner))
    assert_problem(
        response,
        422,
        "Invalid input",
        "Some fields are not valid.",
        errors=[{"field": "limit", "message": message}],
    )


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "!!!",
        _b64("not json"),
        _b64('{"a": 1}'),
        encode_cursor(["Muster", "Max"]),  # too few values
        encode_cursor(["Muster", "Max", "abc"]),  # id not a number
        encode_cursor(["Muster", "Max", 10**30]),  # id out of range
        encode_cursor([None, "Max", 1]),
        encode_cursor([["nested"], "Max", 1]),
        encode_cursor([{"a": 1}, "Max", 1]),
        encode_cursor(["Mus\x00ter", "Max", 1]),
    ],
)
def test_made_up_cursor_is_a_problem_400_never_a_500(client, owner, cursor):
    owned_by(PersonFactory, owner)
    response = client.get("/api/v1/persons", {"cursor": cursor}, **reader(owner))
    assert_problem(response, 400, "Bad request", "The cursor is not valid. Start again without it.")


def test_a_null_character_in_the_filter_is_refused_not_a_500(client, owner):
    # Refused at the edge like any NUL (tests/core/test_nul_guard.py).
    owned_by(PersonFactory, owner, last_name="Muster")
    response = client.get("/api/v1/persons", {"q": "Mus\x00"}, **reader(owner))
    assert_problem(
        response,
        422,
        "Invalid input",
        "Some fields are not valid.",
        errors=[{"field": "q", "message": "Null characters are not allowed."}],
    )


# --- Documentation ---------------------------------------------------------------------


def test_openapi_document_and_docs_are_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert "/api/v1/persons" in spec["paths"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert b"swagger-ui-bundle" in docs.content
    assert b"cdn" not in docs.content.lower()
