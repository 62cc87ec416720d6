"""One's own account: login and its lock-out, two-factor login, password reset,
session expiry, profile."""

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from kontor.core import services
from kontor.core.api.auth import token_create
from kontor.core.models import AuditEntry, Role, User
from kontor.core.permissions import RoleCode
from tests.core.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Winter-Nebel-2025!"
LOGIN_URL = "/accounts/login/"
VERIFY_URL = "/accounts/two-factor/verify/"
SETUP_URL = "/accounts/two-factor/setup/"


def log_in(client, username, password=PASSWORD, **extra):
    return client.post(LOGIN_URL, {"username": username, "password": password}, **extra)


def code_for(device: TOTPDevice, steps: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps * device.step
    return f"{totp.token():06d}"


def wrong_code(device: TOTPDevice) -> str:
    """A code that no step within the device's tolerance accepts."""
    valid = {code_for(device, s) for s in range(-device.tolerance - 1, device.tolerance + 2)}
    return next(c for c in (f"{n:06d}" for n in range(1000000)) if c not in valid)


def without_csrf(response) -> str:
    # The masked CSRF token differs on every page.
    html = response.content.decode()
    html = re.sub(r'<meta name="csrf-token" content="[^"]+">', "", html)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def field_errors(response, field="code") -> list[str]:
    return list(response.context["form"].errors.get(field, []))


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5


@pytest.fixture
def locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def device(owner) -> TOTPDevice:
    return TOTPDevice.objects.create(user=owner, name="phone", confirmed=True)


# --- Password login and lock-out --------------------------------------------------------


def test_login_with_password_reaches_the_start_page(client, owner):
    response = log_in(client, "owner")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_wrong_password_shows_the_form_again(client, owner):
    response = log_in(client, "owner", "wrong")
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert client.get("/")["Location"] == "/accounts/login/?next=/"


def test_five_failed_logins_lock_the_user_name_out_with_a_friendly_page(client, owner, axes_on):
    client.cookies["kontor_language"] = "en"
    for _attempt in range(4):
        assert log_in(client, "owner", "wrong").status_code == 200
    response = log_in(client, "owner", "wrong")
    assert response.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in response.templates]
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "<h1>Login locked</h1>" in html
    assert "Too many failed attempts." in html
    # Locked means locked: the right password does not help either.
    assert log_in(client, "owner").status_code == 429
    assert client.get("/")["Location"] == "/accounts/login/?next=/"


def test_locked_out_page_speaks_the_visitors_language(client, owner, axes_on):
    for _attempt in range(5):
        response = log_in(client, "owner", "wrong")
    assert response.status_code == 429
    assert '<html lang="de">' in response.content.decode()  # the default language


def test_lockout_is_per_user_name_and_address(client, owner, teammate, axes_on):
    for _attempt in range(5):
        log_in(client, "owner", "wrong")
    assert log_in(Client(), "teammate").status_code == 302
    assert log_in(Client(REMOTE_ADDR="10.1.2.3"), "owner").status_code == 302


def test_successful_login_resets_the_failure_count(client, owner, axes_on):
    for _attempt in range(4):
        log_in(client, "owner", "wrong")
    assert log_in(client, "owner").status_code == 302
    client.post(reverse("logout"))
    for _attempt in range(4):
        assert log_in(client, "owner", "wrong").status_code == 200
    assert log_in(client, "owner").status_code == 302


def test_api_bearer_tokens_are_not_affected_by_the_lockout(client, owner, axes_on):
    _token, raw = token_create(user=owner, name="script")
    for _attempt in range(6):
        wrong = client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer ktr_wrong")
        assert wrong.status_code == 401
    assert AccessAttempt.objects.count() == 0
    for _attempt in range(5):
        log_in(client, "owner", "wrong")
    # The web login of "owner" is locked; the script's token still works.
    response = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert response.json()["username"] == "owner"


# --- Two-factor login -------------------------------------------------------------------


def test_user_with_an_authenticator_enters_a_code_before_any_page(client, owner, device):
    response = log_in(client, "owner")
    assert response["Location"] == "/"
    for path in ["/", "/customers/persons/", "/settings/", "/accounts/password/change/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(VERIFY_URL + "?next=")
    assert client.get("/customers/persons/?q=M%C3%BC")["Location"] == (
        VERIFY_URL + "?next=%2Fcustomers%2Fpersons%2F%3Fq%3DM%25C3%25BC"
    )
    page = client.get(VERIFY_URL + "?next=/customers/persons/")
    assert page.status_code == 200
    response = client.post(VERIFY_URL, {"code": code_for(device), "next": "/customers/persons/"})
    assert response.status_code == 302
    assert response["Location"] == "/customers/persons/"
    assert client.get("/").status_code == 200


def test_verify_refuses_foreign_next_urls(client, owner, device):
    log_in(client, "owner")
    response = client.post(VERIFY_URL, {"code": code_for(device), "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_wrong_code_is_a_field_error(client, owner, device):
    log_in(client, "owner")
    response = client.post(VERIFY_URL, {"code": wrong_code(device), "next": "/"})
    assert response.status_code == 422
    assert field_errors(response) == ["That code is not right. Check the time on your phone."]
    assert client.get("/")["Location"] == VERIFY_URL + "?next=%2F"


def test_code_must_be_six_digits(client, owner, device):
    log_in(client, "owner")
    response = client.post(VERIFY_URL, {"code": "12ab"})
    assert response.status_code == 422
    assert field_errors(response) == ["Enter the six digits your app shows."]


def test_wrong_codes_are_throttled(client, owner, device):
    log_in(client, "owner")
    client.post(VERIFY_URL, {"code": wrong_code(device)})
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=timezone.now())
    # Straight after a wrong code even the right one is refused, with a clear message.
    response = client.post(VERIFY_URL, {"code": code_for(device)})
    assert response.status_code == 429
    assert field_errors(response) == ["Too many wrong codes. Please wait 1 second, then try again."]
    client.post(VERIFY_URL, {"code": wrong_code(device)})
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # a refused attempt is not checked

    # The wait doubles with each wrong code.
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - timedelta(seconds=2)
    )
    client.post(VERIFY_URL, {"code": wrong_code(device)})
    response = client.post(VERIFY_URL, {"code": code_for(device)})
    assert field_errors(response) == [
        "Too many wrong codes. Please wait 2 seconds, then try again."
    ]
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - timedelta(seconds=3)
    )
    response = client.post(VERIFY_URL, {"code": code_for(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_a_code_works_only_once(client, owner, device):
    code = code_for(device)
    log_in(client, "owner")
    assert client.post(VERIFY_URL, {"code": code}).status_code == 302
    other = Client()
    log_in(other, "owner")
    response = other.post(VERIFY_URL, {"code": code})
    assert response.status_code == 422


def test_half_logged_in_session_cannot_add_a_second_authenticator(client, owner, device):
    log_in(client, "owner")
    response = client.get(SETUP_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY_URL)
    assert TOTPDevice.objects.filter(user=owner).count() == 1


def test_half_logged_in_session_cannot_turn_two_factor_off(client, owner, device):
    log_in(client, "owner")
    response = client.post(reverse("two_factor_disable"))
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY_URL)
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_half_logged_in_session_cannot_use_the_api(client, owner, device):
    _token, raw = token_create(user=owner, name="script")
    log_in(client, "owner")
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["title"] == "Two-factor login required"
    # A wrong token does not fall back to the half-finished session ...
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer ktr_wrong").status_code == 401
    # ... and a right one works as always.
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200


def test_htmx_requests_are_told_to_load_the_code_page(client, owner, device):
    log_in(client, "owner")
    response = client.get("/customers/persons/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"] == VERIFY_URL + "?next=%2Fcustomers%2Fpersons%2F"


def test_role_requiring_two_factor_forces_setup_at_the_next_request(client, owner, admin):
    client.force_login(owner)
    assert client.get("/").status_code == 200
    services.role_update(actor=admin, role=owner.role, data={"require_two_factor": True})
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == SETUP_URL
    page = client.get(SETUP_URL)
    assert page.status_code == 200
    assert "Your role requires two-factor login." in page.content.decode()
    pending = TOTPDevice.objects.get(user=owner, confirmed=False)
    # Reloading keeps the same key, so a scanned code stays valid.
    client.get(SETUP_URL)
    assert TOTPDevice.objects.get(user=owner).pk == pending.pk

    response = client.post(SETUP_URL, {"code": wrong_code(pending)})
    assert response.status_code == 422
    assert field_errors(response) == ["That code is not right. Check the time on your phone."]
    TOTPDevice.objects.filter(pk=pending.pk).update(throttling_failure_timestamp=None)

    response = client.post(SETUP_URL, {"code": code_for(pending)}, follow=True)
    assert response.redirect_chain == [(reverse("core:profile"), 302)]
    assert messages_of(response) == ["Two-factor login is now on."]
    pending.refresh_from_db()
    assert pending.confirmed is True
    assert client.get("/").status_code == 200
    entry = AuditEntry.objects.filter(object_id=owner.pk, content_type__model="user").get()
    assert entry.changes == {"two_factor": [False, True]}
    assert entry.actor == owner


def test_the_two_factor_rule_binds_only_its_role(client, readonly):
    Role.objects.filter(code=RoleCode.SALES_REP).update(require_two_factor=True)
    client.force_login(readonly)
    assert client.get("/").status_code == 200


def test_disabling_is_refused_when_the_role_requires_two_factor(client, owner, device):
    Role.objects.filter(pk=owner.role_id).update(require_two_factor=True)
    log_in(client, "owner")
    client.post(VERIFY_URL, {"code": code_for(device)})
    page = client.get(reverse("core:profile"))
    assert (
        "Your role requires two-factor login, so it cannot be turned off." in page.content.decode()
    )
    response = client.post(reverse("two_factor_disable"), follow=True)
    assert messages_of(response) == ["Your role requires two-factor login."]
    assert TOTPDevice.objects.filter(pk=device.pk, confirmed=True).exists()
    assert not AuditEntry.objects.exists()


def test_user_turns_two_factor_off_after_entering_a_code(client, owner, device):
    log_in(client, "owner")
    client.post(VERIFY_URL, {"code": code_for(device)})
    response = client.post(reverse("two_factor_disable"), follow=True)
    assert messages_of(response) == ["Two-factor login is off."]
    assert not TOTPDevice.objects.filter(user=owner).exists()
    assert AuditEntry.objects.get().changes == {"two_factor": [True, False]}
    assert client.get("/").status_code == 200


def test_setup_when_two_factor_is_already_on_goes_back_to_the_profile(client, owner, device):
    log_in(client, "owner")
    client.post(VERIFY_URL, {"code": code_for(device)})
    response = client.get(SETUP_URL, follow=True)
    assert response.redirect_chain == [(reverse("core:profile"), 302)]
    assert messages_of(response) == ["Two-factor login is already on."]
    assert TOTPDevice.objects.filter(user=owner).count() == 1


def test_verify_page_without_an_authenticator_moves_on(client, owner):
    client.force_login(owner)
    response = client.get(VERIFY_URL + "?next=/settings/")
    assert response["Location"] == "/settings/"


# --- Password reset by e-mail -----------------------------------------------------------


def test_password_reset_by_e_mail(client, owner, locmem_mail):
    response = client.post(reverse("password_reset"), {"email": "owner@example.com"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    [message] = mail.outbox
    assert message.to == ["owner@example.com"]
    link = re.search(r"http://testserver(/accounts/password/reset/\S+)", message.body).group(1)

    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    assert form_page.context["validlink"] is True
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_complete")

    assert log_in(Client(), "owner", PASSWORD).status_code == 200  # the old one is gone
    response = log_in(client, "owner", NEW_PASSWORD)
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_password_reset_gives_the_same_answer_for_unknown_addresses(client, owner, locmem_mail):
    known = client.post(reverse("password_reset"), {"email": "owner@example.com"}, follow=True)
    unknown = client.post(reverse("password_reset"), {"email": "nobody@example.com"}, follow=True)
    assert known.redirect_chain == unknown.redirect_chain == [(reverse("password_reset_done"), 302)]
    assert without_csrf(known) == without_csrf(unknown)
    assert [m.to for m in mail.outbox] == [["owner@example.com"]]


def test_password_reset_reaches_invited_users_but_not_deactivated_ones(
    client, admin, owner, teammate, locmem_mail
):
    User.objects.filter(pk=owner.pk).update(password="!unusable")  # never set a password
    services.user_deactivate(actor=admin, user=teammate)
    client.post(reverse("password_reset"), {"email": "owner@example.com"})
    client.post(reverse("password_reset"), {"email": "teammate@example.com"})
    assert [m.to for m in mail.outbox] == [["owner@example.com"]]


# --- Session expiry ---------------------------------------------------------------------


def test_session_lasts_the_configured_age(client, owner, settings):
    before = timezone.now()
    log_in(client, "owner")
    session = Session.objects.get(session_key=client.session.session_key)
    expected = before + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert expected <= session.expire_date <= expected + timedelta(seconds=5)


def test_expired_session_redirects_to_login(client, owner):
    log_in(client, "owner")
    assert client.get("/customers/persons/").status_code == 200
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/customers/persons/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/customers/persons/"


# --- Profile ----------------------------------------------------------------------------


def _profile_data(user, **overrides):
    data = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "language": user.language,
        "time_zone": user.time_zone,
    }
    data.update(overrides)
    return data


def test_profile_language_and_time_zone_apply_to_the_next_page(client, admin, owner):
    User.objects.filter(pk=owner.pk).update(last_login=datetime(2024, 7, 1, 10, 30, tzinfo=UTC))
    client.force_login(admin)
    response = client.post(
        reverse("core:profile"),
        _profile_data(admin, language="en", time_zone="Asia/Tokyo"),
        follow=True,
    )
    assert messages_of(response) == ["Your settings are saved."]
    html = client.get(reverse("core:user_list")).content.decode()
    assert '<html lang="en">' in html
    assert '<time datetime="2024-07-01T19:30:00+09:00">07/01/2024 7:30 p.m.</time>' in html

    client.post(reverse("core:profile"), _profile_data(admin, language="de", time_zone="UTC"))
    html = client.get(reverse("core:user_list")).content.decode()
    assert '<html lang="de">' in html
    assert '<time datetime="2024-07-01T10:30:00+00:00">01.07.2024 10:30</time>' in html
    admin.refresh_from_db()
    assert (admin.language, admin.time_zone) == ("de", "UTC")
    entries = AuditEntry.objects.filter(object_id=admin.pk).order_by("id")
    assert [e.changes for e in entries] == [
        {"time_zone": ["Europe/Berlin", "Asia/Tokyo"]},
        {"language": ["en", "de"], "time_zone": ["Asia/Tokyo", "UTC"]},
    ]


def test_profile_refuses_an_unknown_time_zone(client, owner):
    client.force_login(owner)
    response = client.post(reverse("core:profile"), _profile_data(owner, time_zone="Mars/Base"))
    assert response.status_code == 422
    assert response.context["form"].errors["time_zone"] == [
        "Select a valid choice. Mars/Base is not one of the available choices."
    ]
    owner.refresh_from_db()
    assert owner.time_zone == "Europe/Berlin"
    assert not AuditEntry.objects.exists()


def test_profile_refuses_an_address_another_user_has(client, owner, teammate):
    client.force_login(owner)
    response = client.post(
        reverse("core:profile"), _profile_data(owner, email="teammate@example.com")
    )
    assert response.status_code == 422
    assert response.context["form"].errors["email"] == [
        "Another user already uses this e-mail address."
    ]
    owner.refresh_from_db()
    assert owner.email == "owner@example.com"


def test_profile_names_are_stored_in_nfc_without_invisible_characters(client, owner):
    client.force_login(owner)
    response = client.post(
        reverse("core:profile"),
        _profile_data(owner, first_name="\u202eJo\u0308rg\u200b", last_name="\ufeffMu\u0308ller"),
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    assert (owner.first_name, owner.last_name) == ("Jörg", "Müller")
