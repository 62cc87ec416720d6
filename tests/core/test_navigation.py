import pytest
from django.test import RequestFactory

from kontor.core.navigation import safe_next


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/processes/instances/x/", "/processes/instances/x/"),
        ("https://evil.example/", "/fallback/"),
        ("//evil.example/", "/fallback/"),
        ("", "/fallback/"),
    ],
)
def test_next_stays_on_this_site(target, expected):
    request = RequestFactory().post("/", {"next": target})
    assert safe_next(request, "/fallback/") == expected
