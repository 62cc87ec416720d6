"""Merging duplicates: the survivor keeps every relation, custom value and audit entry of
the other; the merge is audited and inspectable; a refused or stale merge changes
nothing — in the service, the UI and the API."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse

from kontor.core import audit
from kontor.core.models import AuditEntry, User
from kontor.core.permissions import RoleCode
from kontor.customers import merge, services
from kontor.customers.models import (
    ContactRole,
    DuplicatePair,
    Equipment,
    MergeRecord,
    Note,
    Organization,
    Person,
    Tag,
)
from tests.conftest import role
from tests.core.factories import UserFactory
from tests.core.test_api import post_json, writer

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(team):
    """A sales manager: sees everything and may delete, so may merge."""
    return UserFactory(username="manager", role=role(RoleCode.SALES_MANAGER), teams=[team])


def person(actor, **data):
    data.setdefault("last_name", "Muster")
    return services.person_create(actor=actor, data=data)


def organization(actor, **data):
    return services.organization_create(actor=actor, data=data)


def entries(record):
    return list(audit.entries_for(record).order_by("id").values_list("id", "object_repr"))


def counts():
    return {
        "persons": Person.objects.count(),
        "organizations": Organization.objects.count(),
        "contact_roles": ContactRole.objects.count(),
        "equipment": Equipment.objects.count(),
        "notes": Note.objects.count(),
        "audit": AuditEntry.objects.count(),
        "merges": MergeRecord.objects.count(),
    }


@pytest.fixture
def two_persons(owner):
    """Hans Müller twice, each with relations of their own."""
    acme = organization(owner, name="Acme GmbH")
    beta = organization(owner, name="Beta AG")
    survivor = person(owner, first_name="Hans", last_name="Müller", city="Köln", email="")
    victim = person(
        owner,
        first_name="Hans",
        last_name="Mueller",
        city="Köln",
        email="hans@example.de",
        phone="0221 1234567",
    )
    services.person_update(person=victim, actor=owner, data={"job_title": "Einkauf"})
    services.contact_role_set(
        person=survivor, organization=acme, actor=owner, buying_roles=["decider"]
    )
    services.contact_role_set(
        person=victim, organization=acme, actor=owner, job_title="Leiter", buying_roles=["buyer"]
    )
    services.contact_role_set(person=victim, organization=beta, actor=owner, buying_roles=["user"])
    Equipment.objects.create(person=survivor, product="Kessel A")
    Equipment.objects.create(person=victim, product="Kessel B")
    Equipment.objects.create(person=victim, product="Kessel C")
    Note.objects.create(person=victim, text="Mag Kaffee")
    red, blue = Tag.objects.create(name="rot"), Tag.objects.create(name="blau")
    survivor.tags.add(red)
    victim.tags.add(red, blue)
    Person.objects.filter(pk=survivor.pk).update(custom={"shoe": "42", "color": "grün"})
    Person.objects.filter(pk=victim.pk).update(custom={"shoe": "43", "pet": "Katze"})
    a, b = sorted((survivor.pk, victim.pk))
    DuplicatePair.objects.create(kind="person", a_id=a, b_id=b, score=65, reasons=["name_city"])
    survivor.refresh_from_db()
    victim.refresh_from_db()
    return survivor, victim, acme, beta


def test_person_merge_moves_every_relation_and_keeps_every_audit_entry(two_persons, manager):
    # given
    survivor, victim, acme, beta = two_persons
    before = counts()
    survivor_entries, victim_entries = entries(survivor), entries(victim)
    assert (len(survivor_entries), len(victim_entries)) == (1, 2)
    # when
    record = merge.person_merge(
        survivor=survivor, victim=victim, actor=manager, field_choices={"last_name": "survivor"}
    )
    # then
    assert counts() == {
        **before,
        "persons": before["persons"] - 1,
        "contact_roles": before["contact_roles"] - 1,  # the two Acme links became one
        "audit": before["audit"] + 1,  # the merge itself
        "merges": 1,
    }
    assert not Person.objects.filter(pk=victim.pk).exists()
    links = {r.organization: r for r in ContactRole.objects.filter(person=survivor)}
    assert set(links) == {acme, beta}
    assert (links[acme].buying_roles, links[acme].job_title) == (["decider", "buyer"], "Leiter")
    assert links[beta].buying_roles == ["user"]
    assert sorted(survivor.equipment.values_list("product", flat=True)) == [
        "Kessel A",
        "Kessel B",
        "Kessel C",
    ]
    assert list(survivor.notes.values_list("text", flat=True)) == ["Mag Kaffee"]
    assert sorted(survivor.tags.values_list("name", flat=True)) == ["blau", "rot"]
    survivor.refresh_from_db()
    # The survivor's values win unless chosen; empty ones take the victim's.
    assert (survivor.last_name, survivor.email, survivor.phone, survivor.job_title) == (
        "Müller",
        "hans@example.de",
        "+492211234567",
        "Einkauf",
    )
    assert survivor.custom == {"shoe": "42", "color": "grün", "pet": "Katze"}
    assert (survivor.email_key, survivor.version) == ("hans@example.de", 2)
    # Every entry of both is now the survivor's, with its text; plus the merge.
    after = entries(survivor)
    assert after[:-1] == sorted(survivor_entries + victim_entries)
    assert record.person == survivor
    assert DuplicatePair.objects.get().status == "merged"


def test_the_merge_is_audited_and_inspectable(two_persons, manager, client):
    survivor, victim, _acme, _beta = two_persons
    victim_uuid = str(victim.uuid)
    merge.person_merge(
        survivor=survivor, victim=victim, actor=manager, field_choices={"last_name": "victim"}
    )
    entry = audit.entries_for(survivor).first()
    assert (entry.action, entry.actor, entry.changes["last_name"]) == (
        "update",
        manager,
        ["Müller", "Mueller"],
    )
    assert entry.changes["merged"][1]["uuid"] == victim_uuid
    assert entry.changes["merged"][1]["chosen"]["last_name"] == "Mueller"
    record = MergeRecord.objects.get()
    assert (str(record.victim_uuid), record.victim_repr, record.actor_name) == (
        victim_uuid,
        "Hans Mueller",
        "manager",
    )
    assert record.victim_snapshot["fields"]["email"] == "hans@example.de"
    assert record.victim_snapshot["tags"] == ["blau", "rot"]
    assert record.choices["last_name"] == "Mueller"
    # Shown on the survivor's page, as a section of its own.
    client.force_login(manager)
    page = client.get(survivor.get_absolute_url()).content.decode()
    history_url = reverse("customers:merge_history", args=["person", survivor.uuid])
    assert history_url in page
    section = client.get(history_url).content.decode()
    assert victim_uuid in section and "Hans Mueller" in section


def test_organization_merge_moves_persons_links_subsidiaries_and_more(owner, manager):
    holding = organization(owner, name="Holding AG")
    survivor = organization(owner, name="Alpha GmbH", city="Köln")
    victim = organization(
        owner, name="Alpha GmbH & Co. KG", city="Köln", website="https://alpha.de"
    )
    services.organization_update(organization=victim, actor=owner, data={"parent": holding})
    daughter = organization(owner, name="Alpha Tochter GmbH")
    services.organization_update(organization=daughter, actor=owner, data={"parent": victim})
    worker = person(owner, last_name="Arbeiter", organization=victim)
    both = person(owner, last_name="Beide")
    services.contact_role_set(
        person=both, organization=survivor, actor=owner, buying_roles=["user"]
    )
    services.contact_role_set(
        person=both, organization=victim, actor=owner, buying_roles=["gatekeeper"]
    )
    Equipment.objects.create(organization=victim, product="Presse")
    Note.objects.create(organization=victim, text="Zahlt pünktlich")
    before = counts()
    victim_entry_count = len(entries(victim))
    survivor_entry_count = len(entries(survivor))

    merge.organization_merge(survivor=survivor, victim=victim, actor=manager)

    assert counts() == {
        **before,
        "organizations": before["organizations"] - 1,
        "contact_roles": before["contact_roles"] - 1,
        "audit": before["audit"] + 1,
        "merges": 1,
    }
    survivor.refresh_from_db()
    worker.refresh_from_db()
    daughter.refresh_from_db()
    assert worker.organization == survivor
    assert ContactRole.objects.get(person=worker).organization == survivor
    assert ContactRole.objects.get(person=both).buying_roles == ["user", "gatekeeper"]
    assert daughter.parent == survivor
    assert (survivor.parent, survivor.website) == (holding, "https://alpha.de")
    assert list(survivor.equipment.values_list("product", flat=True)) == ["Presse"]
    assert list(survivor.notes.values_list("text", flat=True)) == ["Zahlt pünktlich"]
    assert len(entries(survivor)) == survivor_entry_count + victim_entry_count + 1


def test_merging_a_parent_into_its_subsidiary_leaves_no_cycle(owner, manager):
    parent = organization(owner, name="Mutter AG")
    child = organization(owner, name="Tochter GmbH")
    services.organization_update(organization=child, actor=owner, data={"parent": parent})
    merge.organization_merge(survivor=child, victim=parent, actor=manager)
    child.refresh_from_db()
    assert child.parent is None


def test_a_second_merge_keeps_the_first_merge_record(owner, manager):
    a, b, c = (person(owner, last_name=name) for name in ("Eins", "Zwei", "Drei"))
    merge.person_merge(survivor=b, victim=c, actor=manager)
    merge.person_merge(survivor=a, victim=b, actor=manager)
    assert sorted(MergeRecord.objects.filter(person=a).values_list("victim_repr", flat=True)) == [
        "Drei",
        "Zwei",
    ]


def test_merge_is_refused_without_customers_delete_and_changes_nothing(two_persons, owner):
    survivor, victim, _acme, _beta = two_persons
    before = counts()
    with pytest.raises(PermissionDenied):
        merge.person_merge(survivor=survivor, victim=victim, actor=owner)
    assert counts() == before
    assert Person.objects.get(pk=survivor.pk).version == survivor.version


def test_merge_of_a_record_one_may_not_see_is_404_and_changes_nothing(owner, outsider):
    # given: reps may delete (an administrator allowed it), but see only their team's
    rep = role(RoleCode.SALES_REP)
    rep.capabilities = [*rep.capabilities, "customers.delete"]
    rep.save()
    outsider = User.objects.get(pk=outsider.pk)  # with the changed role
    mine = person(owner, last_name="Mein")
    theirs = person(outsider, last_name="Fremd")
    before = counts()
    with pytest.raises(Http404):
        merge.person_merge(survivor=theirs, victim=mine, actor=outsider)
    assert counts() == before


def test_merge_with_a_stale_version_is_refused_and_changes_nothing(two_persons, manager, owner):
    survivor, victim, _acme, _beta = two_persons
    loaded = (survivor.version, victim.version)
    services.person_update(person=victim, actor=owner, data={"city": "Bonn"})
    before = counts()
    with pytest.raises(services.EditConflict):
        merge.person_merge(survivor=survivor, victim=victim, actor=manager, versions=loaded)
    assert counts() == before


def test_merge_with_itself_or_unknown_choices_is_invalid(owner, manager):
    a, b = person(owner, last_name="A"), person(owner, last_name="B")
    with pytest.raises(ValidationError):
        merge.person_merge(survivor=a, victim=a, actor=manager)
    with pytest.raises(ValidationError):
        merge.person_merge(survivor=a, victim=b, actor=manager, field_choices={"uuid": "victim"})
    with pytest.raises(ValidationError):
        merge.person_merge(survivor=a, victim=b, actor=manager, field_choices={"city": "both"})
    assert Person.objects.count() == 2


def test_psychographic_values_are_merged_but_only_chosen_by_who_may_see_them(owner, team):
    # given: a role that may merge but not see psychographic data
    manager_role = role(RoleCode.SALES_MANAGER)
    manager_role.capabilities = [
        c for c in manager_role.capabilities if c != "customers.psychographic"
    ]
    manager_role.save()
    blind = UserFactory(username="blind", role=manager_role, teams=[team])
    survivor = person(owner, last_name="A", interests="Segeln")
    victim = person(owner, last_name="B", interests="Golf", values="Nachhaltigkeit")
    # when / then: choosing is refused, nothing changes
    with pytest.raises(PermissionDenied):
        merge.person_merge(
            survivor=survivor, victim=victim, actor=blind, field_choices={"interests": "victim"}
        )
    assert Person.objects.count() == 2
    # a merge without choosing keeps the survivor's and fills what it lacked
    merge.person_merge(survivor=survivor, victim=victim, actor=blind)
    survivor.refresh_from_db()
    assert (survivor.interests, survivor.values) == ("Segeln", "Nachhaltigkeit")


# --- UI --------------------------------------------------------------------------------------


def test_merge_form_shows_the_differing_fields_side_by_side(two_persons, manager, client):
    survivor, victim, _acme, _beta = two_persons
    client.force_login(manager)
    url = reverse("customers:person_merge", args=[survivor.uuid, victim.uuid])
    response = client.get(url)
    assert response.status_code == 200
    rows = {row["name"]: row for row in response.context["rows"]}
    assert (rows["last_name"]["survivor"], rows["last_name"]["victim"]) == ("Müller", "Mueller")
    assert rows["email"]["choice"] == "victim"  # the survivor has none
    assert "first_name" not in rows  # the same on both sides
    assert rows["custom.shoe"]["victim"] == "43"


def test_merge_form_merges_with_the_chosen_values(two_persons, manager, client):
    survivor, victim, _acme, _beta = two_persons
    client.force_login(manager)
    url = reverse("customers:person_merge", args=[survivor.uuid, victim.uuid])
    response = client.post(
        url,
        {
            "choice:last_name": "victim",
            "choice:custom.shoe": "victim",
            "survivor_version": survivor.version,
            "victim_version": victim.version,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == survivor.get_absolute_url()
    survivor.refresh_from_db()
    assert (survivor.last_name, survivor.custom["shoe"]) == ("Mueller", "43")
    assert not Person.objects.filter(pk=victim.pk).exists()


def test_merge_form_with_a_stale_version_says_so_and_changes_nothing(
    two_persons, manager, owner, client
):
    survivor, victim, _acme, _beta = two_persons
    client.force_login(manager)
    url = reverse("customers:person_merge", args=[survivor.uuid, victim.uuid])
    data = {"survivor_version": survivor.version, "victim_version": victim.version}
    services.person_update(person=survivor, actor=owner, data={"city": "Bonn"})
    before = counts()
    response = client.post(url, data)
    assert response.status_code == 409
    assert "changed while you were choosing" in response.content.decode()
    assert counts() == before


def test_merge_pages_are_refused_to_reps_and_hidden_from_outsiders(
    two_persons, owner, outsider, client
):
    survivor, victim, _acme, _beta = two_persons
    url = reverse("customers:person_merge", args=[survivor.uuid, victim.uuid])
    before = counts()
    client.force_login(owner)
    assert client.post(url).status_code == 403
    client.force_login(outsider)
    assert client.post(url).status_code == 404
    assert client.get(url).status_code == 404
    assert counts() == before


# --- API -------------------------------------------------------------------------------------


def test_api_merge(two_persons, manager, client):
    survivor, victim, _acme, _beta = two_persons
    body = {
        "victim": str(victim.uuid),
        "survivor_version": survivor.version,
        "victim_version": victim.version,
        "field_choices": {"last_name": "victim"},
    }
    response = post_json(client, f"/api/v1/persons/{survivor.uuid}/merge", body, **writer(manager))
    assert response.status_code == 200
    result = response.json()
    assert (result["survivor"], result["victim"], result["version"], result["choices"]) == (
        str(survivor.uuid),
        str(victim.uuid),
        2,
        # The chosen value, and those the survivor lacked.
        {
            "last_name": "Mueller",
            "job_title": "Einkauf",
            "email": "hans@example.de",
            "phone": "+492211234567",
            "custom.pet": "Katze",
        },
    )
    assert Person.objects.get(pk=survivor.pk).last_name == "Mueller"


def test_api_merge_stale_denied_and_invisible_change_nothing(
    two_persons, manager, owner, outsider, client
):
    survivor, victim, _acme, _beta = two_persons
    url = f"/api/v1/persons/{survivor.uuid}/merge"
    body = {"victim": str(victim.uuid), "survivor_version": 0, "victim_version": victim.version}
    before = counts()
    stale = post_json(client, url, body, **writer(manager))
    assert (stale.status_code, stale.json()["current_version"]) == (409, survivor.version)
    body["survivor_version"] = survivor.version
    assert post_json(client, url, body, **writer(owner)).status_code == 403
    # A role that may not merge hears 403 before anything is looked up, whether it
    # may see the records or not: the answer tells nothing about them.
    assert post_json(client, url, body, **writer(outsider)).status_code == 403
    assert counts() == before


def test_api_merge_organizations(owner, manager, client):
    survivor = organization(owner, name="Alpha GmbH")
    victim = organization(owner, name="Alpha KG")
    response = post_json(
        client,
        f"/api/v1/organizations/{survivor.uuid}/merge",
        {"victim": str(victim.uuid)},
        **writer(manager),
    )
    assert response.status_code == 200
    assert list(Organization.objects.values_list("name", flat=True)) == ["Alpha GmbH"]
