"""The API base: bearer tokens, scopes, errors as problem+json, rate limit, pagination."""

import json

import pytest
from django.utils import timezone

from kontor.core.api.auth import token_create
from kontor.core.models import ApiToken, TokenScope
from kontor.customers.models import Person
from tests.customers.factories import PersonFactory, owned_by

pytestmark = pytest.mark.django_db


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_token_is_shown_once_and_stored_hashed(owner):
    token, raw = token_create(user=owner, name="script")
    assert raw.startswith("ktr_")
    assert raw not in token.digest
    assert ApiToken.objects.get(pk=token.pk).digest == ApiToken.digest_of(raw)


def test_me_with_a_valid_token(client, owner):
    _token, raw = token_create(user=owner, name="script")
    response = client.get("/api/v1/me", **bearer(raw))
    assert response.status_code == 200
    assert response.json()["username"] == "owner"
    assert response.json()["role"] == "sales_rep"


def test_wrong_token_is_a_problem_401(client):
    response = client.get("/api/v1/me", **bearer("ktr_wrong"))
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 401
    assert body["title"]
    assert response["WWW-Authenticate"] == "Bearer"


def test_revoked_token_no_longer_works(client, owner):
    token, raw = token_create(user=owner, name="script")
    token.revoked_at = timezone.now()
    token.save()
    assert client.get("/api/v1/me", **bearer(raw)).status_code == 401


def test_token_of_deactivated_user_no_longer_works(client, owner):
    _token, raw = token_create(user=owner, name="script")
    owner.is_active = False
    owner.save()
    assert client.get("/api/v1/me", **bearer(raw)).status_code == 401


def test_read_token_cannot_write(client, owner):
    _token, raw = token_create(user=owner, name="reader", scope=TokenScope.READ)
    response = client.post(
        "/api/v1/persons", data={"last_name": "X"}, content_type="application/json", **bearer(raw)
    )
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert not Person.objects.exists()


def test_last_used_time_is_recorded(client, owner):
    token, raw = token_create(user=owner, name="script")
    client.get("/api/v1/me", **bearer(raw))
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_rate_limit_answers_429_with_retry_after(client, owner, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    _token, raw = token_create(user=owner, name="script")
    statuses = [client.get("/api/v1/me", **bearer(raw)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/me", **bearer(raw))
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["Content-Type"] == "application/problem+json"


def test_invalid_body_is_a_422_with_field_errors(client, owner):
    _token, raw = token_create(user=owner, name="w", scope=TokenScope.READ_WRITE)
    response = client.post(
        "/api/v1/persons", data={"email": "x"}, content_type="application/json", **bearer(raw)
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert "last_name" in fields


def test_model_validation_errors_are_field_errors(client, owner):
    _token, raw = token_create(user=owner, name="w", scope=TokenScope.READ_WRITE)
    response = client.post(
        "/api/v1/persons",
        data={"last_name": "Muster", "email": "not-an-email"},
        content_type="application/json",
        **bearer(raw),
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["email"]
    assert not Person.objects.exists()


def test_malformed_json_is_a_clear_4xx(client, owner):
    _token, raw = token_create(user=owner, name="w", scope=TokenScope.READ_WRITE)
    response = client.post(
        "/api/v1/persons", data="{not json", content_type="application/json", **bearer(raw)
    )
    assert 400 <= response.status_code < 500
    assert response["Content-Type"] == "application/problem+json"


def test_unknown_api_path_is_a_problem_404(client):
    response = client.get("/api/v1/does-not-exist")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_cursor_pagination_walks_all_rows_once_even_with_inserts(client, owner):
    _token, raw = token_create(user=owner, name="script")
    for i in range(7):
        owned_by(PersonFactory, owner, last_name=f"Name{i:02d}")
    seen, cursor = [], None
    while True:
        url = "/api/v1/persons?limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, **bearer(raw)).json()
        seen += [p["last_name"] for p in body["items"]]
        if len(seen) == 3:
            # A row inserted before the cursor does not shift the pages after it.
            owned_by(PersonFactory, owner, last_name="Name00a")
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [f"Name{i:02d}" for i in range(7)]


def test_bad_cursor_is_a_400(client, owner):
    _token, raw = token_create(user=owner, name="script")
    response = client.get("/api/v1/persons?cursor=!!!", **bearer(raw))
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_api_list_respects_visibility(client, owner, outsider):
    owned_by(PersonFactory, owner, last_name="Owned")
    _token, raw = token_create(user=outsider, name="script")
    body = client.get("/api/v1/persons", **bearer(raw)).json()
    assert body["items"] == []


def test_api_detail_of_invisible_record_is_404_and_update_changes_nothing(client, owner, outsider):
    person = owned_by(PersonFactory, owner, last_name="Owned")
    _token, raw = token_create(user=outsider, name="w", scope=TokenScope.READ_WRITE)
    assert client.get(f"/api/v1/persons/{person.uuid}", **bearer(raw)).status_code == 404
    response = client.patch(
        f"/api/v1/persons/{person.uuid}",
        data=json.dumps({"last_name": "Hacked"}),
        content_type="application/json",
        **bearer(raw),
    )
    assert response.status_code == 404
    person.refresh_from_db()
    assert person.last_name == "Owned"


def test_openapi_document_and_docs_are_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert "/api/v1/persons" in spec["paths"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert b"swagger-ui-bundle" in docs.content
    assert b"cdn" not in docs.content.lower()


def test_kontor_token_command_prints_a_working_token(client, owner, capsys):
    from django.core.management import call_command

    call_command("token", "owner")
    raw = capsys.readouterr().out.strip()
    assert client.get("/api/v1/me", **bearer(raw)).status_code == 200
