import pytest

from kontor.core.models import AuditAction, AuditEntry
from kontor.customers import services
from kontor.customers.models import Person

pytestmark = pytest.mark.django_db


def test_create_update_delete_are_recorded_with_old_and_new_values(admin):
    # when
    person = services.person_create(actor=admin, data={"last_name": "Müller", "city": "Köln"})
    services.person_update(person=person, actor=admin, data={"city": "Bonn"})
    person_id = person.pk
    services.person_delete(person=Person.objects.get(pk=person_id), actor=admin)
    # then
    entries = list(AuditEntry.objects.filter(object_id=person_id).order_by("id"))
    assert [e.action for e in entries] == [
        AuditAction.CREATE,
        AuditAction.UPDATE,
        AuditAction.DELETE,
    ]
    assert entries[0].changes["last_name"] == [None, "Müller"]
    assert entries[1].changes == {"city": ["Köln", "Bonn"]}
    assert entries[2].changes["city"] == ["Bonn", None]
    assert all(e.actor == admin and e.actor_name == "admin" for e in entries)


def test_audit_entries_outlive_the_record(admin):
    person = services.person_create(actor=admin, data={"last_name": "Weg"})
    person_id = person.pk
    services.person_delete(person=person, actor=admin)
    assert not Person.objects.filter(pk=person_id).exists()
    assert AuditEntry.objects.filter(object_id=person_id).count() == 2


def test_update_that_changes_nothing_writes_no_entry(owner):
    person = services.person_create(actor=owner, data={"last_name": "Gleich"})
    services.person_update(person=person, actor=owner, data={"last_name": "Gleich"})
    assert AuditEntry.objects.filter(object_id=person.pk).count() == 1


def test_audit_trail_on_the_record_page_only_for_those_allowed(client, owner, readonly):
    person = services.person_create(actor=owner, data={"last_name": "Sichtbar"})
    client.force_login(owner)
    assert "audit-heading" not in client.get(person.get_absolute_url()).text
    from kontor.core.models import Role
    from kontor.core.permissions import Capability, RoleCode

    role = Role.objects.get(code=RoleCode.SALES_REP)
    role.capabilities = [*role.capabilities, Capability.AUDIT_VIEW.value]
    role.save()
    response = client.get(person.get_absolute_url())
    assert "audit-heading" in response.text
    assert "Sichtbar" in response.text
