"""The buttons the activities and mail apps add to the head of the 360° page."""

from django.urls import reverse

from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by


def test_person_page_offers_logging_scheduling_and_writing(client, owner):
    person = owned_by(PersonFactory, owner)
    client.force_login(owner)
    page = client.get(person.get_absolute_url()).text
    assert reverse("activities:activity_log", args=[person.uuid]) in page
    assert f"{reverse('activities:appointment_create')}?person={person.uuid}" in page
    assert f"{reverse('activities:task_create')}?person={person.uuid}" in page
    assert f"{reverse('mail:compose')}?person={person.uuid}" in page


def test_organization_page_links_with_the_organization(client, owner):
    org = owned_by(OrganizationFactory, owner)
    client.force_login(owner)
    page = client.get(org.get_absolute_url()).text
    assert f"{reverse('activities:task_create')}?organization={org.uuid}" in page
    assert reverse("mail:compose") not in page


def test_no_write_e_mail_without_an_address(client, owner):
    person = owned_by(PersonFactory, owner, email="")
    client.force_login(owner)
    assert reverse("mail:compose") not in client.get(person.get_absolute_url()).text


def test_read_only_role_sees_no_action_buttons(client, owner, readonly):
    person = owned_by(PersonFactory, owner)
    client.force_login(readonly)
    page = client.get(person.get_absolute_url()).text
    assert reverse("activities:activity_log", args=[person.uuid]) not in page
    assert reverse("mail:compose") not in page
