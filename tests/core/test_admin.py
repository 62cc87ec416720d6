"""Administration: users, teams, roles. Only holders of admin.users may do anything
here; every refused action changes nothing."""

import re
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from kontor.core import services
from kontor.core.models import AuditAction, AuditEntry, Role, Team, User
from kontor.core.permissions import Capability, RoleCode
from tests.conftest import role
from tests.core.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Sommer-Regen-2024!"


def db_state():
    """Everything an administration action could change."""
    return (
        list(User.objects.order_by("pk").values()),
        list(User.teams.through.objects.order_by("pk").values("user_id", "team_id")),
        list(Team.objects.order_by("pk").values()),
        list(Role.objects.order_by("pk").values()),
        list(TOTPDevice.objects.order_by("pk").values("pk", "user_id", "confirmed")),
        AuditEntry.objects.count(),
        len(mail.outbox),
    )


def entries_for(instance):
    return list(AuditEntry.objects.filter(object_id=instance.pk).order_by("id"))


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


# --- Who may ---------------------------------------------------------------------------


@pytest.fixture
def target(team):
    """A user the refused requests aim at, with an authenticator to reset."""
    user = UserFactory(username="target", role=role(RoleCode.SALES_REP), teams=[team])
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user


def _denied_requests(target, team):
    sales_rep = role(RoleCode.SALES_REP)
    return [
        ("get", reverse("core:admin_home"), {}),
        ("get", reverse("core:user_list"), {}),
        ("get", reverse("core:user_create"), {}),
        (
            "post",
            reverse("core:user_create"),
            {
                "username": "sneaky",
                "role": role(RoleCode.ADMINISTRATOR).pk,
                "language": "de",
                "time_zone": "Europe/Berlin",
                "password_mode": "set",
                "password": NEW_PASSWORD,
            },
        ),
        ("get", reverse("core:user_edit", args=[target.uuid]), {}),
        (
            "post",
            reverse("core:user_edit", args=[target.uuid]),
            {
                "username": "target",
                "role": role(RoleCode.ADMINISTRATOR).pk,
                "language": "de",
                "time_zone": "Europe/Berlin",
            },
        ),
        ("post", reverse("core:user_deactivate", args=[target.uuid]), {}),
        ("post", reverse("core:user_reactivate", args=[target.uuid]), {}),
        ("post", reverse("core:user_reset_two_factor", args=[target.uuid]), {}),
        ("post", reverse("core:user_send_password_link", args=[target.uuid]), {}),
        ("get", reverse("core:team_list"), {}),
        ("post", reverse("core:team_list"), {"name": "Neues Team"}),
        ("get", reverse("core:team_edit", args=[team.uuid]), {}),
        ("post", reverse("core:team_edit", args=[team.uuid]), {"name": "Umbenannt"}),
        ("get", reverse("core:role_matrix"), {}),
        (
            "post",
            reverse("core:role_matrix"),
            {
                f"visibility-{sales_rep.pk}": "all",
                f"cap-{sales_rep.pk}-{Capability.ADMIN_USERS}": "on",
            },
        ),
        ("get", reverse("core:audit_list"), {}),
    ]


@pytest.mark.parametrize("persona", ["owner", "teammate", "outsider"])
def test_users_without_admin_capability_are_refused_and_nothing_changes(
    client, request, persona, target, team, locmem_mail
):
    client.force_login(request.getfixturevalue(persona))
    for method, url, data in _denied_requests(target, team):
        before = db_state()
        response = getattr(client, method)(url, data)
        assert response.status_code == 403, (method, url)
        assert db_state() == before, (method, url)


def test_anonymous_visitors_are_sent_to_login(client, target, team):
    for method, url, data in _denied_requests(target, team):
        before = db_state()
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith("/accounts/login/?next=")
        assert db_state() == before


def test_services_refuse_actors_without_the_capability(owner, teammate, team):
    from django.core.exceptions import PermissionDenied

    before = db_state()
    calls = [
        lambda: services.user_create(actor=owner, data={"username": "x"}),
        lambda: services.user_update(actor=owner, user=teammate, data={"first_name": "X"}),
        lambda: services.user_deactivate(actor=owner, user=teammate),
        lambda: services.user_reset_two_factor(actor=owner, user=teammate),
        lambda: services.team_create(actor=owner, data={"name": "X"}),
        lambda: services.team_update(actor=owner, team=team, data={"name": "X"}),
        lambda: services.role_update(
            actor=owner, role=owner.role, data={"capabilities": list(Capability.values)}
        ),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert db_state() == before


# --- Users list ------------------------------------------------------------------------


def test_users_list_shows_everyone_with_role_teams_and_status(client, admin, owner, outsider):
    services.user_deactivate(actor=admin, user=outsider)
    TOTPDevice.objects.create(user=owner, name="phone", confirmed=True)
    client.force_login(admin)
    response = client.get(reverse("core:user_list"))
    assert response.status_code == 200
    rows = {u.username: u for u in response.context["users"]}
    assert list(rows) == ["admin", "owner", "outsider"]  # active first, then by name
    assert rows["owner"].has_two_factor is True
    assert rows["admin"].has_two_factor is False
    html = response.content.decode()
    owner_row = re.search(r'<tr data-user="owner">(.*?)</tr>', html, re.S).group(1)
    assert "Sales rep" in owner_row
    assert "Vertrieb Nord" in owner_row
    assert "owner@example.com" in owner_row
    outsider_row = re.search(r'<tr data-user="outsider">(.*?)</tr>', html, re.S).group(1)
    assert "deactivated" in outsider_row


def test_users_list_needs_the_same_queries_for_3_and_30_users(
    client, admin, team, other_team, django_assert_max_num_queries
):
    client.force_login(admin)
    for n in range(2):
        UserFactory(username=f"u{n}", role=role(RoleCode.SALES_REP), teams=[team, other_team])
    # session, user, role, two-factor check, users, teams of the users
    with django_assert_max_num_queries(6):
        assert client.get(reverse("core:user_list")).status_code == 200
    for n in range(2, 29):
        UserFactory(username=f"u{n}", role=role(RoleCode.SALES_REP), teams=[team, other_team])
    with django_assert_max_num_queries(6):
        response = client.get(reverse("core:user_list"))
    assert len(response.context["users"]) == 30


def test_times_on_the_users_list_are_in_the_viewers_time_zone(client, admin, owner):
    User.objects.filter(pk=owner.pk).update(last_login=datetime(2024, 1, 15, 12, 0, tzinfo=UTC))
    User.objects.filter(pk=admin.pk).update(time_zone="America/New_York", language="en")
    client.force_login(admin)
    html = client.get(reverse("core:user_list")).content.decode()
    assert '<time datetime="2024-01-15T07:00:00-05:00">01/15/2024 7 a.m.</time>' in html
    User.objects.filter(pk=admin.pk).update(time_zone="Europe/Berlin", language="de")
    html = client.get(reverse("core:user_list")).content.decode()
    assert '<time datetime="2024-01-15T13:00:00+01:00">15.01.2024 13:00</time>' in html


# --- Creating users ---------------------------------------------------------------------


def _new_user_data(**overrides):
    data = {
        "username": "nina",
        "first_name": "Nina",
        "last_name": "Neumann",
        "email": "nina@example.com",
        "role": role(RoleCode.SERVICE_AGENT).pk,
        "language": "en",
        "time_zone": "Europe/Vienna",
        "password_mode": "set",
        "password": NEW_PASSWORD,
    }
    data.update(overrides)
    return data


def test_admin_creates_a_user_with_an_initial_password(client, admin, team, locmem_mail):
    client.force_login(admin)
    response = client.post(reverse("core:user_create"), _new_user_data(teams=[team.pk]))
    nina = User.objects.get(username="nina")
    assert response.status_code == 302
    assert response["Location"] == reverse("core:user_edit", args=[nina.uuid])
    assert (nina.first_name, nina.last_name, nina.email) == ("Nina", "Neumann", "nina@example.com")
    assert nina.role.code == RoleCode.SERVICE_AGENT
    assert list(nina.teams.all()) == [team]
    assert (nina.language, nina.time_zone, nina.is_active) == ("en", "Europe/Vienna", True)
    assert nina.check_password(NEW_PASSWORD)
    assert mail.outbox == []
    [entry] = entries_for(nina)
    assert entry.action == AuditAction.CREATE
    assert entry.actor == admin
    assert entry.changes["username"] == [None, "nina"]
    assert entry.changes["teams"] == [None, ["Vertrieb Nord"]]
    assert "password" not in entry.changes
    assert NEW_PASSWORD not in str(entry.changes)
    assert nina.password not in str(entry.changes)


def test_admin_creates_a_user_who_sets_the_password_from_a_mail(client, admin, locmem_mail):
    client.force_login(admin)
    response = client.post(
        reverse("core:user_create"), _new_user_data(password_mode="link", password="")
    )
    assert response.status_code == 302
    nina = User.objects.get(username="nina")
    assert nina.has_usable_password() is False
    [message] = mail.outbox
    assert message.to == ["nina@example.com"]
    assert message.subject == "Kontor: your new account"  # in Nina's language
    assert "Your user name is: nina" in message.body
    link = re.search(r"http://testserver(/accounts/password/reset/\S+)", message.body).group(1)

    client.logout()
    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"] is True
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.status_code == 302
    assert done["Location"] == reverse("password_reset_complete")
    login = client.post(reverse("login"), {"username": "nina", "password": NEW_PASSWORD})
    assert login.status_code == 302
    assert login["Location"] == "/"
    # The link works once.
    assert client.get(link, follow=True).context["validlink"] is False


def test_sending_the_link_needs_an_e_mail_address(client, admin, locmem_mail):
    client.force_login(admin)
    before = db_state()
    response = client.post(
        reverse("core:user_create"), _new_user_data(password_mode="link", password="", email="")
    )
    assert response.status_code == 422
    assert response.context["form"].errors["email"] == [
        "The link is sent to this address: enter one."
    ]
    assert db_state() == before


@pytest.mark.parametrize(
    ("overrides", "field", "error"),
    [
        ({"password": ""}, "password", "Enter the initial password."),
        (
            {"password": "kurz"},
            "password",
            "This password is too short. It must contain at least 10 characters.",
        ),
        (
            {"password_mode": "link"},
            "password",
            "Leave this empty when the link is sent by e-mail.",
        ),
        ({"username": "owner"}, "username", "A user with that username already exists."),
        ({"email": "OWNER@example.com"}, "email", "Another user already uses this e-mail address."),
        ({"role": ""}, "role", "This field is required."),
        (
            {"time_zone": "Mars/Olympus"},
            "time_zone",
            "Select a valid choice. Mars/Olympus is not one of the available choices.",
        ),
    ],
)
def test_invalid_new_user_is_refused_with_a_field_error(
    client, admin, owner, overrides, field, error
):
    client.force_login(admin)
    before = db_state()
    response = client.post(reverse("core:user_create"), _new_user_data(**overrides))
    assert response.status_code == 422
    assert response.context["form"].errors[field] == [error]
    assert db_state() == before


# --- Editing users ----------------------------------------------------------------------


def test_admin_edits_a_user_and_the_change_is_audited(client, admin, owner, team, other_team):
    client.force_login(admin)
    response = client.post(
        reverse("core:user_edit", args=[owner.uuid]),
        {
            "username": "owner",
            "first_name": "Olga",
            "last_name": owner.last_name,
            "email": "olga@example.com",
            "role": role(RoleCode.SALES_MANAGER).pk,
            "teams": [other_team.pk],
            "language": "de",
            "time_zone": "Europe/Zurich",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("core:user_edit", args=[owner.uuid])
    owner.refresh_from_db()
    assert owner.first_name == "Olga"
    assert owner.role.code == RoleCode.SALES_MANAGER
    assert list(owner.teams.all()) == [other_team]
    assert (owner.language, owner.time_zone) == ("de", "Europe/Zurich")
    [entry] = entries_for(owner)
    assert entry.action == AuditAction.UPDATE
    assert entry.changes["role"] == [role(RoleCode.SALES_REP).pk, role(RoleCode.SALES_MANAGER).pk]
    assert entry.changes["teams"] == [["Vertrieb Nord"], ["Vertrieb Süd"]]
    assert entry.changes["time_zone"] == ["Europe/Berlin", "Europe/Zurich"]
    assert set(entry.changes) == {
        "first_name",
        "email",
        "role",
        "teams",
        "language",
        "time_zone",
    }


def test_edit_page_shows_the_user_and_their_audit_trail(client, admin, owner):
    # A name the factory never draws, so the update always changes something.
    services.user_update(actor=admin, user=owner, data={"first_name": "Ottokar-Test"})
    client.force_login(admin)
    response = client.get(reverse("core:user_edit", args=[owner.uuid]))
    assert response.status_code == 200
    assert response.context["subject"] == owner
    assert response.context["form"].initial["time_zone"] == "Europe/Berlin"
    assert [e.changes for e in response.context["audit_entries"]] == [
        {"first_name": [owner.first_name, "Ottokar-Test"]}
    ]


def test_unknown_user_is_404_for_admins(client, admin):
    client.force_login(admin)
    url = reverse("core:user_edit", args=["00000000-0000-0000-0000-000000000000"])
    assert client.get(url).status_code == 404


# --- Deactivating -----------------------------------------------------------------------


def test_deactivated_user_is_logged_out_and_keeps_their_records(client, admin, owner):
    from django.test import Client

    from kontor.customers import services as customer_services

    person = customer_services.person_create(actor=owner, data={"last_name": "Kunde"})
    owner_client = Client()
    owner_client.force_login(owner)
    assert owner_client.get("/").status_code == 200

    client.force_login(admin)
    response = client.post(reverse("core:user_deactivate", args=[owner.uuid]), follow=True)
    assert messages_of(response) == [
        "owner is deactivated and can no longer log in. Their records keep them as owner."
    ]
    owner.refresh_from_db()
    assert owner.is_active is False
    person.refresh_from_db()
    assert person.owner == owner
    assert owner_client.get("/")["Location"] == "/accounts/login/?next=/"
    login = Client().post(reverse("login"), {"username": "owner", "password": PASSWORD})
    assert login.status_code == 200  # the form again: inactive accounts cannot log in
    [entry] = entries_for(owner)
    assert entry.changes == {"is_active": [True, False]}

    response = client.post(reverse("core:user_reactivate", args=[owner.uuid]), follow=True)
    assert messages_of(response) == ["owner can log in again."]
    owner.refresh_from_db()
    assert owner.is_active is True


def test_admin_cannot_deactivate_themselves(client, admin):
    client.force_login(admin)
    before = db_state()
    response = client.post(reverse("core:user_deactivate", args=[admin.uuid]), follow=True)
    assert response.status_code == 200
    assert messages_of(response) == ["You cannot deactivate your own account."]
    assert db_state() == before


def test_last_administrator_cannot_lose_the_admin_role(client, admin):
    client.force_login(admin)
    before = db_state()
    response = client.post(
        reverse("core:user_edit", args=[admin.uuid]),
        {
            "username": "admin",
            "role": role(RoleCode.SALES_REP).pk,
            "language": "en",
            "time_zone": "Europe/Berlin",
        },
    )
    assert response.status_code == 422
    assert response.context["form"].non_field_errors() == [
        "At least one active administrator must remain. "
        "Give another active user the administrator role first."
    ]
    assert db_state() == before


def test_an_administrator_may_step_down_when_another_remains(client, admin):
    UserFactory(username="admin2", role=role(RoleCode.ADMINISTRATOR))
    client.force_login(admin)
    response = client.post(
        reverse("core:user_edit", args=[admin.uuid]),
        {
            "username": "admin",
            "role": role(RoleCode.SALES_REP).pk,
            "language": "en",
            "time_zone": "Europe/Berlin",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")
    admin.refresh_from_db()
    assert admin.role.code == RoleCode.SALES_REP


def test_service_refuses_to_deactivate_the_last_administrator(admin):
    from django.core.exceptions import ValidationError

    root = UserFactory(username="root", is_superuser=True)
    # root is a superuser, so an administrator remains after admin is gone ...
    services.user_deactivate(actor=root, user=admin)
    services.user_reactivate(actor=root, user=admin)
    # ... but once root is deactivated, admin is the last one.
    services.user_deactivate(actor=admin, user=root)
    before = db_state()
    with pytest.raises(ValidationError) as exc:
        services.user_deactivate(actor=root, user=admin)
    assert exc.value.code == "last_administrator"
    assert db_state() == before


# --- Password link and two-factor reset -------------------------------------------------


def test_admin_sends_an_existing_user_a_password_link(client, admin, owner, locmem_mail):
    client.force_login(admin)
    response = client.post(reverse("core:user_send_password_link", args=[owner.uuid]), follow=True)
    assert messages_of(response) == ["A link to set the password was sent to owner@example.com."]
    [message] = mail.outbox
    assert message.to == ["owner@example.com"]


def test_no_link_for_a_user_without_address(client, admin, owner, locmem_mail):
    User.objects.filter(pk=owner.pk).update(email="")
    client.force_login(admin)
    response = client.post(reverse("core:user_send_password_link", args=[owner.uuid]), follow=True)
    assert messages_of(response) == ["This user has no e-mail address to send the link to."]
    assert mail.outbox == []


def test_admin_resets_a_lost_authenticator(client, admin, owner):
    TOTPDevice.objects.create(user=owner, name="phone", confirmed=True)
    client.force_login(admin)
    response = client.post(reverse("core:user_reset_two_factor", args=[owner.uuid]), follow=True)
    assert messages_of(response) == [
        "The authenticator of owner is removed. They set up a new one if their role asks."
    ]
    assert not TOTPDevice.objects.filter(user=owner).exists()
    [entry] = entries_for(owner)
    assert entry.changes == {"two_factor": [True, False]}
    assert entry.actor == admin
    # The owner logs in with the password alone again.
    client.logout()
    client.post(reverse("login"), {"username": "owner", "password": PASSWORD})
    assert client.get("/").status_code == 200


# --- Teams ------------------------------------------------------------------------------


def test_admin_creates_a_team_whose_lead_is_a_member(client, admin, owner, teammate):
    client.force_login(admin)
    response = client.post(
        reverse("core:team_list"), {"name": "Service", "lead": owner.pk, "members": [teammate.pk]}
    )
    assert response.status_code == 302
    service = Team.objects.get(name="Service")
    assert service.lead == owner
    assert sorted(u.username for u in service.members.all()) == ["owner", "teammate"]
    [entry] = entries_for(service)
    assert entry.action == AuditAction.CREATE
    assert entry.changes["name"] == [None, "Service"]
    assert entry.changes["members"] == [None, sorted([str(owner), str(teammate)])]


def test_admin_renames_a_team_changes_the_lead_and_members(client, admin, team, owner, teammate):
    client.force_login(admin)
    assert client.get(reverse("core:team_edit", args=[team.uuid])).status_code == 200
    response = client.post(
        reverse("core:team_edit", args=[team.uuid]),
        {"name": "Vertrieb Nordost", "lead": teammate.pk, "members": [teammate.pk]},
    )
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.name == "Vertrieb Nordost"
    assert team.lead == teammate
    assert list(team.members.all()) == [teammate]
    [entry] = entries_for(team)
    assert entry.changes == {
        "name": ["Vertrieb Nord", "Vertrieb Nordost"],
        "lead": [None, teammate.pk],
        "members": [sorted([str(owner), str(teammate)]), [str(teammate)]],
    }


def test_team_names_are_unique(client, admin, team):
    client.force_login(admin)
    before = db_state()
    response = client.post(reverse("core:team_list"), {"name": "Vertrieb Nord"})
    assert response.status_code == 422
    assert response.context["form"].errors["name"] == ["Team with this Name already exists."]
    assert db_state() == before


def test_team_list_shows_lead_and_members(client, admin, team, owner, teammate):
    services.team_update(actor=admin, team=team, data={"lead": owner})
    client.force_login(admin)
    html = client.get(reverse("core:team_list")).content.decode()
    row = re.search(r'<tr data-team="Vertrieb Nord">(.*?)</tr>', html, re.S).group(1)
    assert str(owner) in row
    assert str(teammate) in row


# --- Roles ------------------------------------------------------------------------------


def _matrix_post(roles, **changes):
    """The matrix form as the browser sends it, with ``changes`` per role code."""
    data = {}
    for r in roles:
        wanted = changes.get(r.code, {})
        data[f"visibility-{r.pk}"] = wanted.get("visibility", r.visibility)
        for capability in wanted.get("capabilities", r.capabilities):
            data[f"cap-{r.pk}-{capability}"] = "on"
        if wanted.get("require_two_factor", r.require_two_factor):
            data[f"2fa-{r.pk}"] = "on"
    return data


def test_role_matrix_saves_through_the_service_and_is_audited(client, admin):
    roles = list(Role.objects.order_by("id"))
    client.force_login(admin)
    data = _matrix_post(
        roles,
        read_only={
            "visibility": "all",
            "capabilities": [Capability.CUSTOMERS_VIEW, Capability.ANALYTICS_VIEW],
            "require_two_factor": True,
        },
    )
    response = client.post(reverse("core:role_matrix"), data, follow=True)
    assert messages_of(response) == ["The roles are saved."]
    read_only = role(RoleCode.READ_ONLY)
    assert read_only.visibility == "all"
    assert read_only.capabilities == ["customers.view", "analytics.view"]
    assert read_only.require_two_factor is True
    entries = AuditEntry.objects.filter(content_type__model="role")
    assert [(e.object_id, e.changes) for e in entries] == [
        (
            read_only.pk,
            {
                "visibility": ["team", "all"],
                "capabilities": [["customers.view"], ["customers.view", "analytics.view"]],
                "require_two_factor": [False, True],
            },
        )
    ]


def test_role_matrix_refuses_to_leave_no_administrator(client, admin):
    roles = list(Role.objects.order_by("id"))
    caps = [c for c in Capability.values if c != Capability.ADMIN_USERS]
    client.force_login(admin)
    before = db_state()
    response = client.post(
        reverse("core:role_matrix"),
        _matrix_post(roles, administrator={"capabilities": caps}),
        follow=True,
    )
    assert messages_of(response) == [
        "At least one active administrator must remain. "
        "Give another active user the administrator role first."
    ]
    assert db_state() == before


def test_role_update_rejects_unknown_values(admin):
    from django.core.exceptions import ValidationError

    before = db_state()
    with pytest.raises(ValidationError):
        services.role_update(actor=admin, role=admin.role, data={"visibility": "world"})
    with pytest.raises(ValidationError):
        services.role_update(actor=admin, role=admin.role, data={"capabilities": ["root"]})
    assert db_state() == before


def test_new_user_form_offers_the_link_by_default(client, admin):
    client.force_login(admin)
    response = client.get(reverse("core:user_create"))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["password_mode"].value() == "link"
    assert form["time_zone"].value() == "Europe/Berlin"
    assert 'name="password" autocomplete="new-password"' in response.content.decode()


def test_own_page_has_no_deactivate_button(client, admin, owner):
    client.force_login(admin)
    own = client.get(reverse("core:user_edit", args=[admin.uuid])).content.decode()
    other = client.get(reverse("core:user_edit", args=[owner.uuid])).content.decode()
    assert reverse("core:user_deactivate", args=[admin.uuid]) not in own
    assert reverse("core:user_deactivate", args=[owner.uuid]) in other


def test_failing_mail_server_leaves_the_user_created_with_a_clear_message(
    client, admin, monkeypatch
):
    def broken(*args, **kwargs):
        raise ConnectionRefusedError

    monkeypatch.setattr("django.core.mail.EmailMessage.send", broken)
    client.force_login(admin)
    response = client.post(
        reverse("core:user_create"), _new_user_data(password_mode="link", password=""), follow=True
    )
    nina = User.objects.get(username="nina")
    assert response.redirect_chain == [(reverse("core:user_edit", args=[nina.uuid]), 302)]
    assert messages_of(response) == [
        "User nina created.",
        "The e-mail could not be sent. Check the mail settings, then send the "
        "link again from this page.",
    ]
