"""Bulk actions on the lists: change owner or team, add or remove a tag — on selected
rows or on all rows matching the filter; only records the user may see, only with
customers.edit, each change audited; large selections as a background task."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from kontor.core.models import AuditEntry, BulkJob, JobStatus
from kontor.customers import bulk, list_tasks
from kontor.customers.models import Organization, Person, Tag
from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by

pytestmark = pytest.mark.django_db

BULK = reverse("customers:bulk_action", args=["person"])


def post(client, user, data):
    client.force_login(user)
    return client.post(BULK, data)


def state(model=Person):
    return sorted(model.objects.values_list("last_name", "owner__username", "version"))


def test_change_owner_of_selected_rows_is_audited_per_record(client, owner, teammate):
    a = owned_by(PersonFactory, owner, last_name="Abel")
    b = owned_by(PersonFactory, owner, last_name="Bauer")
    owned_by(PersonFactory, owner, last_name="Cramer")
    response = post(
        client,
        owner,
        {
            "action": "set_owner",
            "owner": teammate.uuid,
            "ids": [a.uuid, b.uuid],
            "query": "city=&sort=-name",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:person_list") + "?sort=-name"
    assert state() == [("Abel", "teammate", 2), ("Bauer", "teammate", 2), ("Cramer", "owner", 1)]
    entries = AuditEntry.objects.order_by("object_id")
    assert [(e.object_id, e.actor, e.via, e.changes) for e in entries] == [
        (a.pk, owner, "ui", {"owner": [owner.pk, teammate.pk]}),
        (b.pk, owner, "ui", {"owner": [owner.pk, teammate.pk]}),
    ]


def test_records_the_user_may_not_see_are_left_alone(client, owner, outsider):
    mine = owned_by(PersonFactory, owner, last_name="Abel")
    theirs = owned_by(PersonFactory, outsider, last_name="Fremd")
    post(
        client, owner, {"action": "set_owner", "owner": owner.uuid, "ids": [mine.uuid, theirs.uuid]}
    )
    post(client, owner, {"action": "set_owner", "owner": outsider.uuid, "all": "1", "query": ""})
    assert state() == [("Abel", "outsider", 2), ("Fremd", "outsider", 1)]
    assert list(AuditEntry.objects.values_list("object_id", flat=True)) == [mine.pk]


def test_all_rows_matching_the_filter(client, owner, other_team):
    owned_by(PersonFactory, owner, last_name="Abel", city="Köln")
    owned_by(PersonFactory, owner, last_name="Bauer", city="Köln")
    owned_by(PersonFactory, owner, last_name="Cramer", city="Bonn")
    post(
        client,
        owner,
        {"action": "set_team", "team": other_team.uuid, "all": "1", "query": "city=Köln"},
    )
    teams = dict(Person.objects.values_list("last_name", "team__name"))
    assert teams == {"Abel": "Vertrieb Süd", "Bauer": "Vertrieb Süd", "Cramer": "Vertrieb Nord"}
    assert AuditEntry.objects.count() == 2


def test_add_and_remove_tag_audited_only_when_it_changes(client, owner):
    vip = Tag.objects.create(name="VIP")
    a = owned_by(PersonFactory, owner, last_name="Abel")
    b = owned_by(PersonFactory, owner, last_name="Bauer")
    b.tags.add(vip)
    post(client, owner, {"action": "add_tag", "tag": vip.pk, "ids": [a.uuid, b.uuid]})
    assert set(Person.objects.filter(tags=vip).values_list("last_name", flat=True)) == {
        "Abel",
        "Bauer",
    }
    entry = AuditEntry.objects.get()
    assert (entry.object_id, entry.changes) == (a.pk, {"tags": [[], ["VIP"]]})
    post(client, owner, {"action": "remove_tag", "tag": vip.pk, "all": "1", "query": ""})
    assert not Person.objects.filter(tags=vip).exists()
    assert AuditEntry.objects.count() == 3


def test_organizations_too(client, owner, teammate):
    org = owned_by(OrganizationFactory, owner, name="Muster GmbH")
    client.force_login(owner)
    client.post(
        reverse("customers:bulk_action", args=["organization"]),
        {"action": "set_owner", "owner": teammate.uuid, "ids": [org.uuid]},
    )
    org.refresh_from_db()
    assert (org.owner, org.version) == (teammate, 2)
    assert AuditEntry.objects.get().content_type == ContentType.objects.get_for_model(Organization)


@pytest.mark.parametrize("persona", ["readonly", "marketing"])
def test_roles_without_edit_change_nothing(client, owner, teammate, persona, request):
    from kontor.core.models import Role
    from tests.core.factories import UserFactory

    if persona == "readonly":
        user = request.getfixturevalue("readonly")
    else:
        user = UserFactory(username="marketing", role=Role.objects.get(code="marketing"))
    person = owned_by(PersonFactory, owner, last_name="Abel")
    response = post(
        client,
        user,
        {
            "action": "set_owner",
            "owner": teammate.uuid,
            "ids": [person.uuid],
            "all": "1",
            "query": "",
        },
    )
    assert response.status_code == 403
    assert state() == [("Abel", "owner", 1)]
    assert not AuditEntry.objects.exists()


def test_an_unknown_value_changes_nothing(client, owner):
    owned_by(PersonFactory, owner, last_name="Abel")
    response = post(client, owner, {"action": "set_owner", "owner": "not-a-uuid", "all": "1"})
    assert response.status_code == 302
    post(client, owner, {"action": "drop_table", "all": "1"})
    assert state() == [("Abel", "owner", 1)]
    assert not AuditEntry.objects.exists()


def test_service_refuses_without_edit_capability(owner, readonly):
    owned_by(PersonFactory, owner, last_name="Abel")
    with pytest.raises(PermissionDenied):
        bulk.records_bulk_change(
            records=Person.objects.all(), actor=readonly, action=bulk.SET_OWNER, target=readonly
        )
    assert state() == [("Abel", "owner", 1)]


def test_large_selection_runs_in_the_background_with_progress(
    client, owner, teammate, outsider, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(bulk, "SYNC_LIMIT", 3)
    monkeypatch.setattr(bulk, "CHUNK", 2)
    for i in range(5):
        owned_by(PersonFactory, owner, last_name=f"Name{i}")
    owned_by(PersonFactory, outsider, last_name="Fremd")
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            client,
            owner,
            {"action": "set_owner", "owner": teammate.uuid, "all": "1", "query": "sort=-name"},
        )
    job = BulkJob.objects.get()
    assert response["Location"] == reverse("customers:bulk_job", args=[job.pk])
    assert (job.status, job.total, job.done, job.actor) == (JobStatus.QUEUED, 5, 0, owner)
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "kontor.customers.list_tasks.bulk_change"
    # The progress page polls every 2 s while the job runs.
    page = client.get(response["Location"])
    assert 'hx-trigger="every 2s"' in page.text
    assert "0 of 5 records processed" in page.text

    list_tasks.bulk_change.func(job_id=job.pk)  # what the worker does
    job.refresh_from_db()
    assert (job.status, job.done, job.changed) == (JobStatus.DONE, 5, 5)
    assert Person.objects.filter(owner=teammate).count() == 5
    assert AuditEntry.objects.filter(via="bulk").count() == 5
    fragment = client.get(response["Location"], HTTP_HX_REQUEST="true")
    assert "every 2s" not in fragment.text
    assert "5 of 5 records processed, 5 changed." in fragment.text
    # Run again (a retried task): nothing is done twice.
    list_tasks.bulk_change.func(job_id=job.pk)
    assert AuditEntry.objects.count() == 5


def test_a_job_page_is_only_for_its_actor(client, owner, teammate):
    job = BulkJob.objects.create(entity="customers.person", action="set_owner", actor=owner)
    client.force_login(teammate)
    assert client.get(reverse("customers:bulk_job", args=[job.pk])).status_code == 404


def test_search_follows_a_bulk_owner_change(client, owner, outsider):
    from kontor.core import search
    from kontor.customers import services

    person = services.person_create(actor=owner, data={"last_name": "Zwackelmann"})
    assert search.search(user=outsider, q="Zwackelmann").groups == []
    post(client, owner, {"action": "set_owner", "owner": outsider.uuid, "ids": [person.uuid]})
    (group,) = search.search(user=outsider, q="Zwackelmann").groups
    assert [hit.uuid for hit in group.hits] == [person.uuid]
