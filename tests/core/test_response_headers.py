"""Headers on every answer: pages and API answers for a signed-in user or a token are
not cached (customer data must not stay in a browser or proxy cache), and the browser
features Kontor does not use are denied."""

import pytest
from django.urls import reverse

from kontor.core.api.auth import token_create
from kontor.core.models import TokenScope

pytestmark = pytest.mark.django_db


def test_an_authenticated_page_is_not_stored(client, owner):
    client.force_login(owner)
    response = client.get(reverse("customers:person_list"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_an_api_answer_to_a_token_is_not_stored(client, owner):
    _token, raw = token_create(user=owner, name="t", scope=TokenScope.READ)
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_an_anonymous_answer_is_left_to_the_view(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert "Cache-Control" not in response


@pytest.mark.parametrize("url", ["/healthz", "/accounts/login/"])
def test_unused_browser_features_are_denied_everywhere(client, url):
    policy = client.get(url)["Permissions-Policy"]
    features = dict(item.split("=") for item in policy.split(", "))
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert features[feature] == "()"


def test_unused_browser_features_are_denied_on_authenticated_pages(client, owner):
    client.force_login(owner)
    assert "camera=()" in client.get(reverse("customers:person_list"))["Permissions-Policy"]
