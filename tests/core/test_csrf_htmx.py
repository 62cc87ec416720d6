"""The CSRF token for htmx (issue 12, item 1): no longer on <body hx-headers>, where
every element on the page — an injected one too — inherited it; a static script
(kontor/csrf.js) adds it per request, only for Kontor's own elements."""

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

SCRIPT = "kontor/csrf.js"


def meta_token(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', html)
    assert match, "no csrf-token meta tag"
    return match.group(1)


def test_the_page_hands_no_token_to_every_element(client, owner):
    client.force_login(owner)
    html = client.get("/").content.decode()
    assert "hx-headers" not in html
    assert "X-CSRFToken" not in html
    assert meta_token(html)
    # A file, not inline script (the CSP forbids that), loaded on every page.
    assert f'<script src="/static/{SCRIPT}" defer></script>' in html


def test_the_script_is_served_and_adds_the_header_only_for_trusted_elements(client):
    response = client.get(f"/static/{SCRIPT}")
    assert response.status_code == 200
    assert "javascript" in response["Content-Type"]
    source = b"".join(response.streaming_content).decode()
    assert source == Path(finders.find(SCRIPT)).read_text(encoding="utf-8")
    assert "htmx:configRequest" in source
    assert "[hx-disable]" in source
    assert "X-CSRFToken" in source


def test_an_htmx_post_with_the_pages_token_in_the_header_passes(owner):
    # What csrf.js does: the token from the meta tag in X-CSRFToken.
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    token = meta_token(client.get(reverse("mail:compose")).content.decode())
    url = reverse("mail:compose_preview")
    assert client.post(url, {}, headers={"HX-Request": "true"}).status_code == 403
    answer = client.post(url, {}, headers={"HX-Request": "true", "X-CSRFToken": token})
    assert answer.status_code == 200
