"""A NUL character in any input is refused at the edge: PostgreSQL cannot store it and
answered 500 where it reached a query or a write. Pages answer 400, the API a 422
problem naming the field, a path with a NUL is not found; the same on both databases."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kontor.activities.models import Task
from kontor.core.models import SavedView
from kontor.core.nul_guard import field_name, nul_path
from tests.activities.factories import ActivityFactory
from tests.core.test_api import PROBLEM, reader, writer
from tests.customers.factories import PersonFactory, owned_by

pytestmark = pytest.mark.django_db

NUL_ERROR = {"field": None, "message": "Null characters are not allowed."}


def assert_nul_problem(response, field):
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert (body["title"], body["detail"], body["errors"]) == (
        "Invalid input",
        "Some fields are not valid.",
        [{**NUL_ERROR, "field": field}],
    )


def assert_bad_request_page(response):
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "The request contains a null character (NUL)" in response.content.decode()


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/tasks?assignee=a%00b", "assignee"),
        ("/api/v1/activities?author=a%00b", "author"),
        ("/api/v1/appointments?owner=a%00b", "owner"),
        ("/api/v1/appointments?attendee=a%00b", "attendee"),
        ("/api/v1/persons?owner=a%00b", "owner"),
        ("/api/v1/persons?city=K%C3%B6ln&tag=1%00", "tag"),
        ("/api/v1/search?q=M%00ller", "q"),
        ("/api/v1/tasks?a%00b=1", "a\ufffdb"),
    ],
)
def test_api_query_with_nul_is_422_naming_the_parameter(client, owner, url, field):
    assert_nul_problem(client.get(url, **reader(owner)), field)


def test_api_json_body_with_nul_is_422_naming_the_field(client, owner):
    def post(body):
        return client.post("/api/v1/tasks", data=body, content_type="application/json", **headers)

    headers = writer(owner)
    task = {"title": "Anrufen", "due_date": "2027-05-03"}
    assert_nul_problem(post(json.dumps({**task, "title": "An\u0000rufen"})), "title")
    assert_nul_problem(post(json.dumps({**task, "x\u0000": 1})), "x\ufffd")
    assert not Task.objects.exists()
    # An escaped backslash before "u0000" is text, not a NUL.
    response = post(json.dumps({**task, "title": "C:\\u0000"}))
    assert response.status_code == 201
    assert response.json()["title"] == "C:\\u0000"


def test_api_nested_json_and_patch_with_nul(client, owner):
    headers = writer(owner)
    response = client.post(
        "/api/v1/persons",
        data=json.dumps({"last_name": "Abel", "tags": ["Messe", "A\u0000"]}),
        content_type="application/json",
        **headers,
    )
    assert_nul_problem(response, "tags.1")
    task = client.post(
        "/api/v1/tasks",
        data=json.dumps({"title": "Anrufen", "due_date": "2027-05-03"}),
        content_type="application/json",
        **headers,
    ).json()
    response = client.patch(
        f"/api/v1/tasks/{task['uuid']}",
        data=json.dumps({"description": "\u0000"}),
        content_type="application/json",
        **headers,
    )
    assert_nul_problem(response, "description")


def test_api_multipart_text_field_with_nul_is_422(client, owner):
    upload = SimpleUploadedFile("contacts.vcf", b"BEGIN:VCARD\r\nEND:VCARD\r\n", "text/vcard")
    response = client.post(
        "/api/v1/persons/import-vcard", {"file": upload, "note": "a\x00b"}, **writer(owner)
    )
    assert_nul_problem(response, "note")


def test_api_path_with_nul_is_404_problem(client, owner):
    response = client.post("/api/v1/tokens/ktr_a%00b/revoke", **writer(owner))
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM


@pytest.mark.parametrize(
    "url",
    [
        "/calendar/?user=a%00b",
        "/customers/organizations/suggest/?term=M%00ller",
        "/customers/persons/?tags=a%00b",
        "/activities/tasks/?assignee=a%00b",
        "/search/?q=%00",
    ],
)
def test_page_with_nul_in_the_query_is_400(client, owner, url):
    client.force_login(owner)
    assert_bad_request_page(client.get(url))


def test_form_post_with_nul_is_400_and_saves_nothing(client, owner):
    client.force_login(owner)
    response = client.post(
        "/customers/lists/person/views/", {"name": "Kö\x00ln", "query": "city=Köln"}
    )
    assert_bad_request_page(response)
    assert not SavedView.objects.exists()


def test_a_nul_hidden_in_a_saved_query_is_dropped(client, owner):
    client.force_login(owner)
    response = client.post("/customers/lists/person/views/", {"name": "K", "query": "q=a%00b"})
    assert response.status_code == 302
    assert SavedView.objects.get().query == {"q": ["ab"]}


def test_path_with_nul_is_not_found(client, owner):
    client.force_login(owner)
    response = client.get("/customers/lists/a%00b/views/")
    assert response.status_code == 404


def test_a_session_cookie_with_nul_is_no_session(client, owner):
    # An octal escape in a quoted cookie value decodes to NUL.
    response = client.get("/", HTTP_COOKIE='sessionid="abcdefgh\\000"')
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_nul_path_names_the_way_to_the_first_nul():
    assert nul_path({"a": [1, "x", {"b": "y\x00"}]}) == ("a", "2", "b")
    assert nul_path({"a": "b"}) is None
    assert nul_path("\x00") == ()
    assert field_name(("trigger_config", "so\x00urce")) == "trigger_config.so\ufffdurce"
    # A deeply nested value does not exhaust the stack.
    deep: list = ["\x00"]
    for _ in range(5000):
        deep = [deep]
    assert len(nul_path(deep)) == 5001


def test_the_refusal_speaks_the_users_language(client, owner):
    owner.language = "de"
    owner.save(update_fields=["language"])
    client.force_login(owner)
    response = client.get("/calendar/", {"user": "a\x00b"})
    assert "Die Anfrage enthält ein Nullzeichen (NUL)" in response.content.decode()
    response = client.get("/api/v1/tasks", {"assignee": "a\x00b"}, **reader(owner))
    assert response.json()["errors"] == [
        {"field": "assignee", "message": "Null-Zeichen sind nicht erlaubt."}
    ]


def test_an_uploaded_files_content_may_hold_nul_its_text_fields_may_not(client, owner):
    # Binary content is stored as a file, never as text: NUL bytes in it pass the edge.
    activity = ActivityFactory(
        person=owned_by(PersonFactory, owner), author=owner, subject="Angebot"
    )
    url = reverse("activities:attachment_upload", args=[activity.uuid])
    client.force_login(owner)
    pdf = SimpleUploadedFile("a.pdf", b"%PDF-1.7\x00\x01", content_type="application/pdf")
    assert client.post(url, {"file": pdf}).status_code == 302
    assert activity.attachments.get().size == 10
    pdf = SimpleUploadedFile("b.pdf", b"%PDF-1.7", content_type="application/pdf")
    assert_bad_request_page(client.post(url, {"file": pdf, "note": "a\x00"}))
    assert activity.attachments.count() == 1
