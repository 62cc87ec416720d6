"""What `make fuzz` (schemathesis against a running Kontor) found, pinned here so that it
stays fixed without the slow fuzz run."""

import pytest

from tests.core.test_api import post_json, reader, writer
from tests.customers.factories import PersonFactory, owned_by

HUGE = 28651770449834680320  # beyond a 64-bit integer: SQLite refuses to bind it


@pytest.mark.parametrize("path", ["/api/v1/persons", "/api/v1/organizations"])
def test_a_number_beyond_64_bits_in_a_filter_is_a_422(client, owner, path):
    # SQLite refused to bind it (500), PostgreSQL found nothing: now the same 422 on both.
    response = client.get(f"{path}?tag={HUGE}&tag=1", **reader(owner))
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["tag.0"]


def test_a_number_beyond_64_bits_in_a_body_is_a_422(client, owner):
    data = {
        "title": "Visit",
        "starts_at": "2026-01-05T10:00:00Z",
        "ends_at": "2026-01-05T11:00:00Z",
        "reminder_minutes": HUGE,
    }
    response = post_json(client, "/api/v1/appointments", data, **writer(owner))
    assert response.status_code == 422


def test_search_and_custom_fields_document_the_values_they_take(client):
    spec = client.get("/api/v1/openapi.json").json()
    search = {p["name"]: p for p in spec["paths"]["/api/v1/search"]["get"]["parameters"]}
    assert search["kinds"]["schema"]["pattern"].startswith("^")
    fields = spec["paths"]["/api/v1/custom-fields"]["get"]["parameters"]
    assert fields[0]["schema"]["enum"] == ["customers.person", "customers.organization"]


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/activities?since=0.5",
        "/api/v1/activities?until=1700000000",
        "/api/v1/appointments?start=1e3",
        "/api/v1/appointments?end=-2",
    ],
)
def test_a_number_is_not_a_date_time(client, owner, query):
    # pydantic took a number for a Unix timestamp; the document promises ISO 8601.
    response = client.get(query, **reader(owner))
    assert response.status_code == 422
    assert response.json()["errors"][0]["message"] == "Enter a valid date/time."


def test_an_iso_date_time_is_still_a_filter(client, owner):
    response = client.get("/api/v1/activities?since=2026-01-05T10:00:00Z", **reader(owner))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("when", "status"),
    [
        ("2026-01-05T17:45:11-20:49", 201),
        ("2026-01-05T10:00:00+23:00", 201),
        ("0001-01-01T00:00:00+01:00", 422),
    ],
)
def test_an_offset_postgresql_cannot_store_is_taken_as_its_instant(client, owner, when, status):
    # "-20:49" is a valid offset for Python, not for PostgreSQL (500): the instant is
    # kept in UTC. The instant before year 1 exists on neither database: 422.
    response = client.get("/api/v1/appointments", {"start": when}, **reader(owner))
    assert response.status_code == (200 if status == 201 else 422)
    data = {"title": "Visit", "starts_at": when, "ends_at": "2026-01-07T11:00:00Z"}
    response = post_json(client, "/api/v1/appointments", data, **writer(owner))
    assert response.status_code == status


def test_a_date_time_with_an_offset_is_the_same_instant(client, owner):
    query = {"start": "2026-01-05T12:00:00+02:00", "end": "2026-01-06T00:00:00-03:00"}
    assert client.get("/api/v1/appointments", query, **reader(owner)).status_code == 200


@pytest.mark.parametrize("query", ["due_before=0", "due_after=20260105", "due_after=1.5"])
def test_a_number_is_not_a_day(client, owner, query):
    response = client.get(f"/api/v1/tasks?{query}", **reader(owner))
    assert response.status_code == 422
    assert response.json()["errors"][0]["message"] == "Enter a valid date."


def test_an_iso_day_is_still_a_filter(client, owner):
    response = client.get("/api/v1/tasks?due_before=2026-01-05", **reader(owner))
    assert response.status_code == 200


def test_the_word_document_leaves_out_what_xml_cannot_hold(db):
    # A control character in a process's texts made the .docx export a 500.
    import io

    from docx import Document as Word

    from kontor.processes.models import Process, StepActivity
    from kontor.processes.requirements_doc import render_docx
    from kontor.processes.scenes import scenes_install

    scenes_install(language="de")
    version = Process.objects.get(key="trade_fair_visitor").versions.select_related("process").get()
    version.process.name = "Messe\x01besucher\x1b"
    version.process.save()
    StepActivity.objects.filter(step__version=version).update(title="Budget\x0berfassen")
    text = "\n".join(p.text for p in Word(io.BytesIO(render_docx(version, "de"))).paragraphs)
    assert "Messebesucher" in text


def test_a_number_is_no_yes_no_answer_and_no_day(client, owner):
    # pydantic took 0 for false and 0 for 1970-01-01: the document promises a boolean
    # and an ISO 8601 day, so both are a 422 naming the field.
    person = owned_by(PersonFactory, owner, last_name="Fuzzinger")
    path = f"/api/v1/persons/{person.uuid}/equipment"
    response = post_json(
        client, path, {"product": "Presse", "service_contract_until": 0}, **writer(owner)
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["service_contract_until"]
    data = {
        "title": "Visit",
        "starts_at": "2026-01-05T10:00:00Z",
        "ends_at": "2026-01-05T11:00:00Z",
        "send_invitations": 0,
    }
    response = post_json(client, "/api/v1/appointments", data, **writer(owner))
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["send_invitations"]
    assert not person.equipment.exists()


def test_a_url_too_long_for_the_server_is_documented(client):
    # gunicorn answers 414 (problem+json, see core.web_server) before Kontor sees it.
    spec = client.get("/api/v1/openapi.json").json()
    assert "414" in spec["paths"]["/api/v1/persons"]["get"]["responses"]
    assert "414" not in spec["paths"]["/api/v1/persons/{uuid}"]["get"]["responses"]


def test_a_record_deleted_by_a_concurrent_request_is_a_404(client, owner, monkeypatch):
    # make fuzz sent two DELETEs of one note at once: the second read the note, then
    # found it gone when its service locked the row (DoesNotExist, a 500).
    from kontor.customers import notes
    from kontor.customers.models import Note

    person = owned_by(PersonFactory, owner, last_name="Fuzzinger")
    response = post_json(
        client, f"/api/v1/persons/{person.uuid}/notes", {"text": "x"}, **writer(owner)
    )
    assert response.status_code == 201
    note_get = notes.note_get

    def read_then_lose(**kwargs):
        note = note_get(**kwargs)
        Note.objects.filter(pk=note.pk).delete()  # the other request's DELETE
        return note

    monkeypatch.setattr(notes, "note_get", read_then_lose)
    response = client.delete(f"/api/v1/notes/{response.json()['id']}", **writer(owner))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
