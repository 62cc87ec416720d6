"""Saved views: a user keeps a list state under a name, for themselves or shared with
their team; the menu offers own and team-shared views; only the owner deletes."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from kontor.core.models import SavedView
from tests.customers.factories import PersonFactory, owned_by

pytestmark = pytest.mark.django_db

PERSONS = reverse("customers:person_list")
SAVE = reverse("customers:saved_view_save", args=["person"])


def save(client, user, name, query, shared=False):
    client.force_login(user)
    data = {"name": name, "query": query}
    if shared:
        data["shared"] = "1"
    return client.post(SAVE, data)


def menu(client, user) -> list[str]:
    client.force_login(user)
    return [str(view.name) for view, _url in client.get(PERSONS).context["saved_views"]]


def test_saving_keeps_filters_sort_and_columns(client, owner, team):
    response = save(client, owner, "Köln", "city=Köln&sort=-city&cols=name,city&cursor=abc")
    view = SavedView.objects.get()
    assert (view.entity, view.name, view.owner, view.shared, view.team) == (
        "customers.person",
        "Köln",
        owner,
        False,
        None,
    )
    # The state, without the page position.
    assert view.query == {"city": ["Köln"], "sort": ["-city"], "cols": ["name,city"]}
    assert response.status_code == 302
    assert parse_qs(urlsplit(response["Location"]).query) == view.query


def test_picking_a_view_reproduces_the_list(client, owner):
    owned_by(PersonFactory, owner, last_name="Abel", first_name="", city="Köln")
    owned_by(PersonFactory, owner, last_name="Bauer", first_name="", city="Bonn")
    save(client, owner, "Köln", "city=Köln")
    ((_view, url),) = client.get(PERSONS).context["saved_views"]
    response = client.get(url)
    assert [p.last_name for p, _cells in response.context["rows"]] == ["Abel"]


def test_personal_views_are_private_shared_ones_reach_the_team(client, owner, teammate, outsider):
    save(client, owner, "Mine", "city=a")
    save(client, owner, "Ours", "city=b", shared=True)
    save(client, outsider, "Theirs", "city=c", shared=True)
    assert menu(client, owner) == ["Mine", "Ours"]
    assert menu(client, teammate) == ["Ours"]
    assert menu(client, outsider) == ["Theirs"]
    ours = SavedView.objects.get(name="Ours")
    assert ours.team == owner.teams.get()


def test_a_view_without_a_name_is_not_saved(client, owner):
    save(client, owner, "  ", "city=a")
    assert not SavedView.objects.exists()


def test_owner_deletes_own_view_others_cannot(client, owner, teammate):
    save(client, owner, "Ours", "city=b", shared=True)
    view = SavedView.objects.get()
    delete = reverse("customers:saved_view_delete", args=[view.pk])
    client.force_login(teammate)
    assert client.post(delete).status_code == 404
    assert SavedView.objects.filter(pk=view.pk).exists()
    client.force_login(owner)
    assert client.get(delete).status_code == 405
    assert client.post(delete).status_code == 302
    assert not SavedView.objects.exists()


def test_views_are_per_list(client, owner):
    save(client, owner, "Persons view", "city=a")
    client.post(
        reverse("customers:saved_view_save", args=["organization"]),
        {"name": "Org view", "query": ""},
    )
    client.force_login(owner)
    orgs = client.get(reverse("customers:organization_list")).context["saved_views"]
    assert [v.name for v, _url in orgs] == ["Org view"]
    assert (
        client.post(
            reverse("customers:saved_view_save", args=["nothing"]), {"name": "x"}
        ).status_code
        == 404
    )


def test_a_read_only_user_may_not_share_a_view_with_the_team(client, readonly, teammate):
    response = save(client, readonly, "Ours", "city=b", shared=True)
    assert response.status_code == 302
    assert not SavedView.objects.exists()
    assert menu(client, teammate) == []


def test_a_read_only_user_keeps_personal_views_and_is_not_offered_sharing(client, readonly):
    save(client, readonly, "Mine", "city=a")
    assert menu(client, readonly) == ["Mine"]
    page = client.get(PERSONS)
    assert page.context["may_share_views"] is False
    assert b'name="shared"' not in page.content


def test_a_sales_rep_is_offered_sharing(client, owner):
    client.force_login(owner)
    assert b'name="shared"' in client.get(PERSONS).content
