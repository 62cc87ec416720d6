"""The buying center: person–organization links with job, department and roles,
edited from either side, audited; the primary organization always has a link; the
drawing on the organization's page; the contact-roles API."""

import importlib
import json
import re

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from kontor.core import audit
from kontor.core.models import AuditEntry
from kontor.customers import buying_center, services
from kontor.customers.models import BuyingRole, ContactRole, Person
from tests.core.test_api import reader, writer
from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by

pytestmark = pytest.mark.django_db


def links(person):
    return [
        (r.organization.name, r.job_title, r.department, r.buying_roles)
        for r in ContactRole.objects.filter(person=person).order_by("organization__name")
    ]


# --- Services ----------------------------------------------------------------------------


def test_contact_role_set_creates_then_changes_the_link_and_audits_both(owner):
    org = owned_by(OrganizationFactory, owner, name="Muster GmbH")
    person = owned_by(PersonFactory, owner)
    role = services.contact_role_set(
        person=person,
        organization=org,
        actor=owner,
        job_title=" Einkaufsleiterin ",
        buying_roles=["buyer", "decider", "buyer"],
    )
    assert (role.job_title, role.buying_roles) == ("Einkaufsleiterin", ["decider", "buyer"])
    services.contact_role_set(
        person=person, organization=org, actor=owner, department="Einkauf", buying_roles=["user"]
    )
    assert links(person) == [("Muster GmbH", "", "Einkauf", ["user"])]
    entries = list(audit.entries_for(role).order_by("id"))
    assert [e.action for e in entries] == ["create", "update"]
    assert entries[1].changes == {
        "job_title": ["Einkaufsleiterin", ""],
        "department": ["", "Einkauf"],
        "buying_roles": [["decider", "buyer"], ["user"]],
    }


def test_unknown_buying_role_is_refused_and_nothing_saved(owner):
    org = owned_by(OrganizationFactory, owner)
    person = owned_by(PersonFactory, owner)
    with pytest.raises(ValidationError) as exc:
        services.contact_role_set(
            person=person, organization=org, actor=owner, buying_roles=["decider", "boss"]
        )
    assert exc.value.message_dict == {"buying_roles": ["Unknown buying-center role: boss."]}
    assert not ContactRole.objects.exists()


def test_read_only_role_cannot_set_or_remove_links(owner, readonly):
    org = owned_by(OrganizationFactory, owner)
    person = owned_by(PersonFactory, owner)
    role = services.contact_role_set(person=person, organization=org, actor=owner)
    with pytest.raises(PermissionDenied):
        services.contact_role_set(
            person=person, organization=org, actor=readonly, buying_roles=["decider"]
        )
    with pytest.raises(PermissionDenied):
        services.contact_role_remove(contact_role=role, actor=readonly)
    assert links(person) == [(org.name, "", "", [])]


def test_primary_organization_always_has_a_link(owner):
    first = owned_by(OrganizationFactory, owner, name="Erste GmbH")
    second = owned_by(OrganizationFactory, owner, name="Zweite GmbH")
    person = services.person_create(
        actor=owner, data={"last_name": "Muster", "organization": first, "job_title": "CEO"}
    )
    assert links(person) == [("Erste GmbH", "CEO", "", [])]
    services.person_update(person=person, actor=owner, data={"organization": second})
    assert links(person) == [("Erste GmbH", "CEO", "", []), ("Zweite GmbH", "CEO", "", [])]


def test_removing_the_primary_link_makes_the_person_a_consumer(owner):
    org = owned_by(OrganizationFactory, owner)
    person = services.person_create(actor=owner, data={"last_name": "M", "organization": org})
    role = ContactRole.objects.get(person=person)
    role_pk = role.pk
    services.contact_role_remove(contact_role=role, actor=owner)
    person.refresh_from_db()
    assert (person.organization, person.is_consumer, links(person)) == (None, True, [])
    assert AuditEntry.objects.filter(action="delete", object_id=role_pk).count() == 1
    assert audit.entries_for(person).latest("id").changes["organization"] == [org.pk, None]


# --- UI ----------------------------------------------------------------------------------


def test_add_edit_and_remove_a_link_from_the_person_page(as_user, owner):
    org = owned_by(OrganizationFactory, owner, name="Muster GmbH")
    person = owned_by(PersonFactory, owner)
    client = as_user(owner)
    create = reverse("customers:person_contact_role_create", args=[person.uuid])
    assert client.get(create).status_code == 200
    response = client.post(
        create,
        {"organization": org.pk, "job_title": "CTO", "buying_roles": ["influencer", "user"]},
    )
    assert (response.status_code, response["Location"]) == (302, person.get_absolute_url())
    assert links(person) == [("Muster GmbH", "CTO", "", ["influencer", "user"])]
    role = ContactRole.objects.get()
    edit = reverse("customers:person_contact_role_edit", args=[person.uuid, role.pk])
    client.post(edit, {"job_title": "CEO", "department": "GF", "buying_roles": ["decider"]})
    assert links(person) == [("Muster GmbH", "CEO", "GF", ["decider"])]
    client.post(reverse("customers:person_contact_role_delete", args=[person.uuid, role.pk]))
    assert links(person) == []


def test_add_a_contact_person_from_the_organization_page(as_user, owner):
    org = owned_by(OrganizationFactory, owner, name="Muster GmbH")
    person = owned_by(PersonFactory, owner)
    client = as_user(owner)
    response = client.post(
        reverse("customers:organization_contact_role_create", args=[org.uuid]),
        {"person": person.pk, "buying_roles": ["gatekeeper"]},
    )
    assert (response.status_code, response["Location"]) == (302, org.get_absolute_url())
    assert links(person) == [("Muster GmbH", "", "", ["gatekeeper"])]


def test_an_invisible_organization_cannot_be_linked(as_user, owner, outsider):
    foreign = owned_by(OrganizationFactory, outsider)
    person = owned_by(PersonFactory, owner)
    response = as_user(owner).post(
        reverse("customers:person_contact_role_create", args=[person.uuid]),
        {"organization": foreign.pk, "buying_roles": ["decider"]},
    )
    assert response.status_code == 422
    assert list(response.context["form"].errors) == ["organization"]
    assert not ContactRole.objects.exists()


def test_outsider_and_read_only_change_nothing(as_user, owner, outsider, readonly):
    org = owned_by(OrganizationFactory, owner)
    person = owned_by(PersonFactory, owner)
    role = services.contact_role_set(person=person, organization=org, actor=owner)
    edit = reverse("customers:person_contact_role_edit", args=[person.uuid, role.pk])
    delete = reverse("customers:organization_contact_role_delete", args=[org.uuid, role.pk])
    body = {"job_title": "X", "buying_roles": ["decider"]}
    assert as_user(outsider).post(edit, body).status_code == 404
    assert as_user(outsider).post(delete).status_code == 404
    assert as_user(readonly).post(edit, body).status_code == 403
    assert as_user(readonly).post(delete).status_code == 403
    assert links(person) == [(org.name, "", "", [])]


def test_a_link_of_another_record_is_404(as_user, owner):
    org = owned_by(OrganizationFactory, owner)
    person, other = owned_by(PersonFactory, owner), owned_by(PersonFactory, owner)
    role = services.contact_role_set(person=other, organization=org, actor=owner)
    url = reverse("customers:person_contact_role_delete", args=[person.uuid, role.pk])
    assert as_user(owner).post(url).status_code == 404
    assert ContactRole.objects.count() == 1


# --- The drawing -------------------------------------------------------------------------


def test_drawing_groups_persons_by_role_in_role_order(owner):
    org = owned_by(OrganizationFactory, owner)
    anna = owned_by(PersonFactory, owner, first_name="Anna", last_name="Albers", title="")
    ben = owned_by(PersonFactory, owner, first_name="Ben", last_name="Bauer", title="")
    roles = [
        services.contact_role_set(
            person=anna, organization=org, actor=owner, buying_roles=["decider", "user"]
        ),
        services.contact_role_set(person=ben, organization=org, actor=owner, buying_roles=["user"]),
    ]
    drawing = buying_center.drawing(roles)
    assert [(c.role, [b.name for b in c.boxes]) for c in drawing.columns] == [
        ("decider", ["Anna Albers"]),
        ("influencer", []),
        ("user", ["Anna Albers", "Ben Bauer"]),
        ("buyer", []),
        ("gatekeeper", []),
        ("initiator", []),
    ]
    assert [b.y for b in drawing.columns[2].boxes] == [34, 70]
    assert (drawing.width, drawing.height, drawing.empty) == (950, 106, False)


def test_organization_page_draws_the_buying_center_as_svg_without_style_attributes(as_user, owner):
    org = owned_by(OrganizationFactory, owner)
    person = owned_by(PersonFactory, owner, first_name="Anna", last_name="Albers", title="")
    services.contact_role_set(
        person=person, organization=org, actor=owner, buying_roles=[BuyingRole.DECIDER]
    )
    text = (
        as_user(owner)
        .get(reverse("customers:organization_section", args=[org.uuid, "buying_center"]))
        .text
    )
    svg = re.search(r"<svg.*?</svg>", text, re.S).group(0)
    assert "style=" not in svg
    assert re.findall(r'class="bc-person-text"[^>]*>([^<]+)</text>', svg) == ["Anna Albers"]
    assert re.findall(r'class="bc-head-text"[^>]*>([^<]+)</text>', svg) == [
        "Decider",
        "Influencer",
        "User",
        "Buyer",
        "Gatekeeper",
        "Initiator",
    ]


def test_no_drawing_without_roles(as_user, owner):
    org = owned_by(OrganizationFactory, owner)
    text = (
        as_user(owner)
        .get(reverse("customers:organization_section", args=[org.uuid, "buying_center"]))
        .text
    )
    assert "<svg" not in text
    assert "No contact persons yet." in text


# --- API ---------------------------------------------------------------------------------


def put_json(client, url, data, **headers):
    return client.put(url, data=json.dumps(data), content_type="application/json", **headers)


def test_api_reads_the_links_the_caller_may_see(client, owner, outsider):
    mine = owned_by(OrganizationFactory, owner, name="Muster GmbH")
    foreign = owned_by(OrganizationFactory, outsider, name="Fremd KG")
    person = owned_by(PersonFactory, owner)
    services.contact_role_set(
        person=person, organization=mine, actor=owner, job_title="CEO", buying_roles=["decider"]
    )
    services.contact_role_set(person=person, organization=foreign, actor=outsider)
    body = client.get(f"/api/v1/persons/{person.uuid}/contact-roles", **reader(owner)).json()
    assert body == [
        {
            "organization": str(mine.uuid),
            "organization_name": "Muster GmbH",
            "job_title": "CEO",
            "department": "",
            "buying_roles": ["decider"],
        }
    ]


def test_api_put_replaces_the_visible_links_and_keeps_the_others(client, owner, outsider):
    a = owned_by(OrganizationFactory, owner, name="A GmbH")
    b = owned_by(OrganizationFactory, owner, name="B GmbH")
    foreign = owned_by(OrganizationFactory, outsider, name="Fremd KG")
    person = owned_by(PersonFactory, owner)
    services.contact_role_set(person=person, organization=a, actor=owner)
    services.contact_role_set(person=person, organization=foreign, actor=outsider)
    response = put_json(
        client,
        f"/api/v1/persons/{person.uuid}/contact-roles",
        [{"organization": str(b.uuid), "job_title": "CFO", "buying_roles": ["buyer"]}],
        **writer(owner),
    )
    assert response.status_code == 200
    assert [r["organization_name"] for r in response.json()] == ["B GmbH"]
    assert links(person) == [("B GmbH", "CFO", "", ["buyer"]), ("Fremd KG", "", "", [])]


def test_api_put_with_an_invisible_organization_is_404_and_changes_nothing(client, owner, outsider):
    a = owned_by(OrganizationFactory, owner, name="A GmbH")
    foreign = owned_by(OrganizationFactory, outsider)
    person = owned_by(PersonFactory, owner)
    services.contact_role_set(person=person, organization=a, actor=owner)
    response = put_json(
        client,
        f"/api/v1/persons/{person.uuid}/contact-roles",
        [{"organization": str(foreign.uuid)}],
        **writer(owner),
    )
    assert response.status_code == 404
    assert links(person) == [("A GmbH", "", "", [])]


def test_api_put_with_an_unknown_role_is_422_and_changes_nothing(client, owner):
    a = owned_by(OrganizationFactory, owner, name="A GmbH")
    person = owned_by(PersonFactory, owner)
    response = put_json(
        client,
        f"/api/v1/persons/{person.uuid}/contact-roles",
        [{"organization": str(a.uuid), "buying_roles": ["boss"]}],
        **writer(owner),
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "buying_roles", "message": "Unknown buying-center role: boss."}
    ]
    assert links(person) == []


def test_api_put_by_read_only_role_is_403(client, owner, readonly):
    a = owned_by(OrganizationFactory, owner)
    person = owned_by(PersonFactory, owner)
    response = put_json(
        client,
        f"/api/v1/persons/{person.uuid}/contact-roles",
        [{"organization": str(a.uuid)}],
        **writer(readonly),
    )
    assert response.status_code == 403
    assert links(person) == []
    assert Person.objects.get().version == 1


def test_migration_links_existing_persons_to_their_primary_organization(owner):
    org = owned_by(OrganizationFactory, owner, name="Muster GmbH")
    old = owned_by(PersonFactory, owner, organization=org, job_title="CEO")
    linked = services.person_create(actor=owner, data={"last_name": "L", "organization": org})
    owned_by(PersonFactory, owner)  # a consumer: no link
    migration = importlib.import_module("kontor.customers.migrations.0004_customer_numbers")
    migration.link_primary_organizations(apps, None)
    assert links(old) == [("Muster GmbH", "CEO", "", [])]
    assert links(linked) == [("Muster GmbH", "", "", [])]
    assert ContactRole.objects.count() == 2
