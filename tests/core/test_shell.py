"""The UI shell: login, navigation, language, CSP, error pages."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_anonymous_user_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_login_page_has_a_strict_csp_and_no_inline_script(client):
    response = client.get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "unsafe-inline" not in csp
    html = response.content.decode()
    assert "<script>" not in html
    assert " style=" not in html
    assert " onclick=" not in html


def test_navigation_shows_the_modules_the_role_may_use(client, owner, admin):
    client.force_login(owner)
    html = client.get("/").content.decode()
    assert 'data-module="customers"' in html
    assert 'data-module="sales"' in html
    assert 'data-module="admin"' not in html
    client.force_login(admin)
    assert 'data-module="admin"' in client.get("/").content.decode()


def test_language_switch_is_remembered_on_the_user(client, owner):
    client.force_login(owner)
    client.post(reverse("core:language_switch"), {"language": "de", "next": "/"})
    owner.refresh_from_db()
    assert owner.language == "de"
    assert "Kunden" in client.get("/").content.decode()
    client.post(reverse("core:language_switch"), {"language": "en", "next": "/"})
    assert "Customers" in client.get("/").content.decode()


def test_language_switch_refuses_foreign_redirects(client, owner):
    client.force_login(owner)
    response = client.post(
        reverse("core:language_switch"), {"language": "en", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


@pytest.mark.parametrize(
    ("referer", "location"),
    [
        ("https://evil.example/phish", "/"),
        ("//evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        (
            "http://testserver/customers/persons/?city=K%C3%B6ln",
            "http://testserver/customers/persons/?city=K%C3%B6ln",
        ),
        ("/calendar/", "/calendar/"),
    ],
)
def test_language_switch_goes_back_only_to_a_page_of_this_site(client, owner, referer, location):
    client.force_login(owner)
    response = client.post(
        reverse("core:language_switch"), {"language": "de"}, HTTP_REFERER=referer
    )
    assert (response.status_code, response["Location"]) == (302, location)
    # An off-site next does not let the Referer through either, and vice versa.
    response = client.post(
        reverse("core:language_switch"),
        {"language": "en", "next": "https://evil.example/"},
        HTTP_REFERER=referer,
    )
    assert response["Location"] == location


def test_unknown_url_is_a_friendly_404(client, owner):
    client.force_login(owner)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_oversize_request_is_refused_with_413(client, owner, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client.force_login(owner)
    response = client.post("/customers/persons/new/", data={"last_name": "x" * 5000})
    assert response.status_code == 413


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_form_without_csrf_token_gets_a_clear_message(owner):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(owner)
    response = csrf_client.post("/customers/persons/new/", {"last_name": "X"})
    assert response.status_code == 403
    assert "reload" in response.content.decode().lower()
