"""Activities in the API: list and filter (a customer's timeline), log, read, change
with optimistic locking, delete, and files; errors as problem+json."""

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from kontor.activities.models import Activity, Attachment
from kontor.activities.services.attachments import attachment_add
from kontor.core.models import AuditEntry
from kontor.customers.models import ContactRole
from tests.activities.factories import ActivityFactory
from tests.core.test_api import assert_problem, post_json, reader, writer
from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


@pytest.fixture
def organization(owner):
    return owned_by(OrganizationFactory, owner, name="Muster GmbH")


@pytest.fixture
def person(owner, organization):
    return owned_by(PersonFactory, owner, last_name="Muster", organization=organization)


def patch_json(client, url, data, **headers):
    return client.patch(url, data=json.dumps(data), content_type="application/json", **headers)


def state():
    return (
        list(Activity.objects.order_by("pk").values()),
        list(Attachment.objects.order_by("pk").values()),
        AuditEntry.objects.count(),
    )


def test_create_and_read(client, owner, teammate, person, organization):
    colleague = owned_by(PersonFactory, owner, organization=organization)
    response = post_json(
        client,
        "/api/v1/activities",
        {
            "kind": "meeting",
            "subject": "Jahresgespräch",
            "person": str(person.uuid),
            "occurred_at": "2025-05-06T14:00:00+02:00",
            "duration_minutes": 60,
            "internal_participants": ["teammate"],
            "external_participants": [str(colleague.uuid)],
        },
        **writer(owner),
    )
    assert response.status_code == 201
    body = response.json()
    activity = Activity.objects.get()
    assert body["uuid"] == str(activity.uuid)
    assert (body["person"], body["organization"], body["author"]) == (
        str(person.uuid),
        str(organization.uuid),
        "owner",
    )
    assert body["internal_participants"] == ["teammate"]
    assert body["external_participants"] == [str(colleague.uuid)]
    assert (body["version"], body["attachments"]) == (1, [])
    assert activity.occurred_at == dt.datetime(2025, 5, 6, 12, 0, tzinfo=dt.UTC)

    got = client.get(f"/api/v1/activities/{activity.uuid}", **reader(owner))
    assert got.status_code == 200
    assert got.json() == body


def test_create_with_bad_input_is_a_problem(client, owner, person):
    before = state()
    response = post_json(
        client,
        "/api/v1/activities",
        {"kind": "fax", "subject": "x", "person": str(person.uuid)},
        **writer(owner),
    )
    assert_problem(
        response,
        422,
        "Invalid input",
        "Some fields are not valid.",
        errors=[{"field": "kind", "message": "Choose a valid type."}],
    )
    response = post_json(
        client,
        "/api/v1/activities",
        {"kind": "call", "subject": "x", "person": str(person.uuid), "surprise": 1},
        **writer(owner),
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "surprise", "message": "Unknown field."}]
    assert state() == before


def test_create_on_a_customer_one_cannot_see_is_404(client, outsider, person):
    before = state()
    response = post_json(
        client,
        "/api/v1/activities",
        {"kind": "call", "subject": "x", "person": str(person.uuid)},
        **writer(outsider),
    )
    assert_problem(response, 404, "Not found", "No such record, or you may not see it.")
    assert state() == before


def test_readonly_cannot_create(client, readonly, person):
    response = post_json(
        client,
        "/api/v1/activities",
        {"kind": "call", "subject": "x", "person": str(person.uuid)},
        **writer(readonly),
    )
    assert response.status_code == 403
    assert not Activity.objects.exists()


def test_list_a_persons_timeline_with_filters_and_pages(client, owner, teammate, person):
    for i in range(5):
        ActivityFactory(
            person=person,
            author=owner if i % 2 else teammate,
            kind="call" if i < 3 else "visit",
            subject=f"Nr {i}",
            occurred_at=NOW - dt.timedelta(days=i),
        )
    ActivityFactory(person=owned_by(PersonFactory, owner), subject="fremd")
    url = "/api/v1/activities"
    body = client.get(url, {"person": person.uuid, "limit": 2}, **reader(owner)).json()
    assert [a["subject"] for a in body["items"]] == ["Nr 0", "Nr 1"]
    body = client.get(
        url, {"person": person.uuid, "limit": 2, "cursor": body["next_cursor"]}, **reader(owner)
    ).json()
    assert [a["subject"] for a in body["items"]] == ["Nr 2", "Nr 3"]
    body = client.get(url, {"person": person.uuid, "kind": "visit"}, **reader(owner)).json()
    assert [a["subject"] for a in body["items"]] == ["Nr 3", "Nr 4"]
    body = client.get(url, {"author": "owner"}, **reader(owner)).json()
    assert [a["subject"] for a in body["items"]] == ["Nr 1", "Nr 3"]
    since = (NOW - dt.timedelta(days=1, hours=1)).isoformat()
    body = client.get(url, {"person": person.uuid, "since": since}, **reader(owner)).json()
    assert [a["subject"] for a in body["items"]] == ["Nr 0", "Nr 1"]
    body = client.get(url, **reader(owner)).json()
    assert len(body["items"]) == 6


def test_list_an_organizations_timeline(client, owner, organization):
    linked = owned_by(PersonFactory, owner)
    ContactRole.objects.create(person=linked, organization=organization)
    ActivityFactory(person=linked, subject="Kontakt", occurred_at=NOW)
    ActivityFactory(organization=organization, subject="Firma", occurred_at=NOW - dt.timedelta(1))
    body = client.get(
        "/api/v1/activities", {"organization": organization.uuid}, **reader(owner)
    ).json()
    assert [a["subject"] for a in body["items"]] == ["Kontakt", "Firma"]


def test_list_errors_are_problems(client, owner, outsider, person):
    response = client.get("/api/v1/activities", {"person": person.uuid}, **reader(outsider))
    assert response.status_code == 404
    response = client.get("/api/v1/activities", {"cursor": "nonsense"}, **reader(owner))
    assert_problem(response, 400, "Bad request", "The cursor is not valid. Start again without it.")
    response = client.get("/api/v1/activities", {"kind": "fax"}, **reader(owner))
    assert response.status_code == 422
    response = client.get("/api/v1/activities", {"author": "nobody"}, **reader(owner))
    assert response.json()["errors"] == [{"field": "author", "message": "Unknown user: nobody."}]


def test_list_query_count(client, owner, person, django_assert_max_num_queries):
    for _ in range(20):
        activity = ActivityFactory(person=person, author=owner)
        attachment_add(actor=owner, activity=activity, name="a.txt", content=b"x")
    headers = reader(owner)
    client.get("/api/v1/activities", {"person": person.uuid}, **headers)
    with django_assert_max_num_queries(10):
        response = client.get("/api/v1/activities", {"person": person.uuid}, **headers)
    assert len(response.json()["items"]) == 20


def test_patch_with_version_and_conflict(client, owner, person):
    activity = ActivityFactory(person=person, author=owner, subject="Alt")
    url = f"/api/v1/activities/{activity.uuid}"
    response = patch_json(client, url, {"subject": "Neu", "version": 1}, **writer(owner))
    assert response.status_code == 200
    assert (response.json()["subject"], response.json()["version"]) == ("Neu", 2)
    before = state()
    response = patch_json(client, url, {"subject": "Zu spät", "version": 1}, **writer(owner))
    assert_problem(
        response,
        409,
        "Conflict",
        "Someone else changed this activity in the meantime. Read it again (now version 2) "
        "and repeat your change.",
        current_version=2,
    )
    assert state() == before


def test_patch_by_a_teammate_is_403_and_null_subject_is_422(client, owner, teammate, person):
    activity = ActivityFactory(person=person, author=owner, subject="Alt")
    url = f"/api/v1/activities/{activity.uuid}"
    before = state()
    assert (
        patch_json(client, url, {"subject": "x", "version": 1}, **writer(teammate)).status_code
        == 403
    )
    response = patch_json(client, url, {"subject": None, "version": 1}, **writer(owner))
    assert response.status_code == 422
    assert state() == before


def test_delete(client, owner, teammate, person):
    activity = ActivityFactory(person=person, author=owner)
    url = f"/api/v1/activities/{activity.uuid}"
    assert client.delete(url, **writer(teammate)).status_code == 403
    assert client.delete(url, **writer(owner)).status_code == 204
    assert not Activity.objects.exists()
    assert client.delete(url, **writer(owner)).status_code == 404


def test_attachments_upload_and_download(client, owner, outsider, person):
    activity = ActivityFactory(person=person, author=owner)
    url = f"/api/v1/activities/{activity.uuid}/attachments"
    response = client.post(
        url, {"file": SimpleUploadedFile("Angebot.pdf", b"%PDF-1.7")}, **writer(owner)
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["filename"], body["size"], body["content_type"]) == (
        "Angebot.pdf",
        8,
        "application/pdf",
    )
    download = client.get(f"{url}/{body['uuid']}", **reader(owner))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.7"
    assert download["Content-Disposition"] == 'attachment; filename="Angebot.pdf"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"{url}/{body['uuid']}", **reader(outsider)).status_code == 404


def test_forbidden_attachment_is_a_problem(client, owner, person):
    activity = ActivityFactory(person=person, author=owner)
    before = state()
    response = client.post(
        f"/api/v1/activities/{activity.uuid}/attachments",
        {"file": SimpleUploadedFile("setup.exe", b"MZ")},
        **writer(owner),
    )
    assert_problem(
        response,
        422,
        "Invalid input",
        "Some fields are not valid.",
        errors=[{"field": "file", "message": "Files of type .exe are not allowed."}],
    )
    assert state() == before
