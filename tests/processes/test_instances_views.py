"""The instance page and the processes section of the 360° page."""

import pytest
from django.urls import reverse
from django.utils import translation

from kontor.processes.models import InstanceStatus, ProcessInstance, StepRunItem, Transition
from kontor.processes.services import instances as engine
from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by
from tests.processes.test_instances import build

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def test_person_page_has_section_and_section_lists_and_starts(client, owner):
    version = build(branch=True)
    build(name="For organizations", kind="organization")
    person = owned_by(PersonFactory, owner)
    client.force_login(owner)
    page = client.get(person.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="processes-heading"' in html
    assert reverse("processes:customer_processes", args=[person.uuid]) in html

    url = reverse("processes:customer_processes", args=[person.uuid])
    section = client.get(url)
    assert section.status_code == 200
    body = section.content.decode()
    assert "Not in any process." in body
    assert "Start process" in body
    assert "Onboarding" in body
    assert "For organizations" not in body

    response = client.post(url, {"version": version.pk})
    instance = ProcessInstance.objects.get()
    assert response.status_code == 302
    assert response["Location"] == instance.get_absolute_url()
    body = client.get(url).content.decode()
    assert f'data-instance="{instance.uuid}"' in body
    assert "Call" in body


def test_organization_section(client, owner):
    build(name="For organizations", kind="organization")
    organization = owned_by(OrganizationFactory, owner)
    client.force_login(owner)
    body = client.get(reverse("processes:customer_processes", args=[organization.uuid])).content
    assert b"For organizations" in body


def test_section_and_start_hidden_from_others(client, owner, outsider, readonly):
    version = build()
    person = owned_by(PersonFactory, owner)
    url = reverse("processes:customer_processes", args=[person.uuid])
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert client.post(url, {"version": version.pk}).status_code == 404
    client.force_login(readonly)
    assert "Start process" not in client.get(url).content.decode()
    assert client.post(url, {"version": version.pk}).status_code == 403
    assert ProcessInstance.objects.count() == 0


def test_instance_page_done_toggle_choice_and_cancel(client, owner, outsider):
    version = build(branch=True)
    person = owned_by(PersonFactory, owner)
    instance = engine.instance_start(actor=owner, version_or_process=version, person=person)
    client.force_login(owner)
    url = instance.get_absolute_url()
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-current-step="first"' in html
    assert reverse("processes:instance_drawing", args=[instance.uuid]) in html
    assert "style=" not in html.split("<main", 1)[-1]

    item = StepRunItem.objects.get(step_run__instance=instance, activity__kind="task")
    instance.refresh_from_db()
    response = client.post(
        reverse("processes:instance_item", args=[instance.uuid, item.pk]),
        {"done": "1", "lock_version": instance.lock_version},
    )
    assert response.status_code == 302
    html = client.get(url).content.decode()
    assert "Which way on?" in html
    lost = Transition.objects.get(version=version, label="lost")
    client.post(reverse("processes:instance_choose", args=[instance.uuid]), {"transition": lost.pk})
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.current_step.key == "lost"

    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_cancel_from_page_requires_reason(client, owner):
    version = build()
    person = owned_by(PersonFactory, owner)
    instance = engine.instance_start(actor=owner, version_or_process=version, person=person)
    client.force_login(owner)
    cancel = reverse("processes:instance_cancel", args=[instance.uuid])
    client.post(cancel, {"reason": ""})
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RUNNING
    client.post(cancel, {"reason": "Moved away"})
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.CANCELLED
    assert "Moved away" in client.get(instance.get_absolute_url()).content.decode()
