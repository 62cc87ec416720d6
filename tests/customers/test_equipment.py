"""Equipment installed at a customer: list/add/edit/delete on the customer's page and
in the API, audited, by persona."""

import datetime
import json

import pytest
from django.urls import reverse

from kontor.core import audit
from kontor.customers import services
from kontor.customers.models import Equipment
from tests.core.test_api import post_json, reader, writer
from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by

pytestmark = pytest.mark.django_db

FORM = {
    "product": "Hydraulikpresse",
    "model": "HP 400",
    "serial_number": "SN-4711",
    "installed_on": "2024-03-01",
    "location": "Halle 2",
    "service_contract_until": "2027-02-28",
}


def rows():
    return list(Equipment.objects.values_list("product", "model", "serial_number", "installed_on"))


def test_add_edit_delete_on_the_organization_page(as_user, owner):
    org = owned_by(OrganizationFactory, owner)
    client = as_user(owner)
    create = reverse("customers:organization_equipment_create", args=[org.uuid])
    assert client.get(create).status_code == 200
    response = client.post(create, FORM)
    assert (response.status_code, response["Location"]) == (302, org.get_absolute_url())
    item = Equipment.objects.get()
    assert (item.organization, item.person, item.service_contract_until) == (
        org,
        None,
        datetime.date(2027, 2, 28),
    )
    section = client.get(reverse("customers:organization_section", args=[org.uuid, "equipment"]))
    assert "Hydraulikpresse" in section.text and "SN-4711" in section.text
    edit = reverse("customers:organization_equipment_edit", args=[org.uuid, item.pk])
    client.post(edit, {**FORM, "serial_number": "SN-4712"})
    assert rows() == [("Hydraulikpresse", "HP 400", "SN-4712", datetime.date(2024, 3, 1))]
    client.post(reverse("customers:organization_equipment_delete", args=[org.uuid, item.pk]))
    assert rows() == []
    assert [e.action for e in audit.entries_for(item).order_by("id")] == [
        "create",
        "update",
        "delete",
    ]


def test_equipment_at_a_consumer(as_user, owner):
    person = owned_by(PersonFactory, owner)
    response = as_user(owner).post(
        reverse("customers:person_equipment_create", args=[person.uuid]), FORM
    )
    assert response.status_code == 302
    assert Equipment.objects.get().person == person


def test_product_is_required(as_user, owner):
    org = owned_by(OrganizationFactory, owner)
    response = as_user(owner).post(
        reverse("customers:organization_equipment_create", args=[org.uuid]),
        {**FORM, "product": "", "installed_on": "gestern"},
    )
    assert response.status_code == 422
    assert set(response.context["form"].errors) == {"product", "installed_on"}
    assert rows() == []


def test_outsider_and_read_only_change_nothing(as_user, owner, outsider, readonly):
    org = owned_by(OrganizationFactory, owner)
    item = services.equipment_create(actor=owner, data={"product": "Presse"}, organization=org)
    edit = reverse("customers:organization_equipment_edit", args=[org.uuid, item.pk])
    delete = reverse("customers:organization_equipment_delete", args=[org.uuid, item.pk])
    create = reverse("customers:organization_equipment_create", args=[org.uuid])
    assert as_user(outsider).post(edit, FORM).status_code == 404
    assert as_user(outsider).post(delete).status_code == 404
    assert as_user(readonly).post(create, FORM).status_code == 403
    assert as_user(readonly).post(delete).status_code == 403
    assert rows() == [("Presse", "", "", None)]


def test_equipment_of_another_customer_is_404(as_user, owner):
    org, other = owned_by(OrganizationFactory, owner), owned_by(OrganizationFactory, owner)
    item = services.equipment_create(actor=owner, data={"product": "Presse"}, organization=other)
    url = reverse("customers:organization_equipment_delete", args=[org.uuid, item.pk])
    assert as_user(owner).post(url).status_code == 404
    assert rows() == [("Presse", "", "", None)]


# --- API ---------------------------------------------------------------------------------


def test_api_crud(client, owner):
    org = owned_by(OrganizationFactory, owner)
    url = f"/api/v1/organizations/{org.uuid}/equipment"
    created = post_json(
        client, url, {"product": "Presse", "installed_on": "2024-03-01"}, **writer(owner)
    )
    assert created.status_code == 201
    item_id = created.json()["id"]
    assert created.json() == {
        "id": item_id,
        "product": "Presse",
        "model": "",
        "serial_number": "",
        "installed_on": "2024-03-01",
        "location": "",
        "service_contract_until": None,
    }
    changed = client.patch(
        f"{url}/{item_id}",
        data=json.dumps({"serial_number": "SN-1"}),
        content_type="application/json",
        **writer(owner),
    )
    assert (changed.status_code, changed.json()["serial_number"]) == (200, "SN-1")
    listed = client.get(url, **reader(owner)).json()
    assert [(i["product"], i["serial_number"]) for i in listed] == [("Presse", "SN-1")]
    assert client.delete(f"{url}/{item_id}", **writer(owner)).status_code == 204
    assert rows() == []


def test_api_equipment_of_a_person(client, owner):
    person = owned_by(PersonFactory, owner)
    url = f"/api/v1/persons/{person.uuid}/equipment"
    assert post_json(client, url, {"product": "Therme"}, **writer(owner)).status_code == 201
    assert [i["product"] for i in client.get(url, **reader(owner)).json()] == ["Therme"]


def test_api_outsider_404_read_only_403_and_nothing_changes(client, owner, outsider, readonly):
    org = owned_by(OrganizationFactory, owner)
    url = f"/api/v1/organizations/{org.uuid}/equipment"
    assert post_json(client, url, {"product": "X"}, **writer(outsider)).status_code == 404
    assert client.get(url, **reader(outsider)).status_code == 404
    assert post_json(client, url, {"product": "X"}, **writer(readonly)).status_code == 403
    response = post_json(client, url, {"product": ""}, **writer(owner))
    assert response.status_code == 422
    assert rows() == []
