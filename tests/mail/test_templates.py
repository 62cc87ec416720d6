"""E-mail templates: who may write which, merge-field checks on save, version
conflicts, archiving; the pages under /mail/templates/."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import translation

from kontor.core.models import AuditEntry
from kontor.mail.models import EmailTemplate
from kontor.mail.services import templates


def create(actor, **kwargs):
    values = {"name": "Nachfass", "subject": "Hallo {{ person.first_name }}", "body": "Text"}
    values.update(kwargs)
    return templates.template_create(actor=actor, **values)


def test_a_personal_template_belongs_to_its_author(owner):
    template = create(owner, language="en")
    assert (template.owner, template.language, template.version, template.archived) == (
        owner,
        "en",
        1,
        False,
    )
    assert AuditEntry.objects.filter(action="create", object_id=template.pk).exists()


def test_shared_templates_need_mail_manage(owner, admin):
    with pytest.raises(PermissionDenied):
        create(owner, shared=True)
    template = create(admin, shared=True)
    assert template.owner is None
    with pytest.raises(PermissionDenied):
        templates.template_update(actor=owner, template=template, data={"name": "X"})
    assert EmailTemplate.objects.get(pk=template.pk).name == "Nachfass"


def test_readonly_may_not_create(readonly):
    with pytest.raises(PermissionDenied):
        create(readonly)
    assert EmailTemplate.objects.count() == 0


def test_an_unknown_field_or_a_tag_is_refused_on_save(owner):
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        create(owner, subject="{{ person.vorname }}", body="{% include 'x.html' %}")
    errors = caught.value.message_dict
    assert errors["subject"][0].startswith("Unknown merge field: person.vorname. Valid fields:")
    assert errors["body"] == ["Only fields in {{ … }} are allowed here, not {% include %}."]
    assert EmailTemplate.objects.count() == 0


def test_others_personal_templates_are_invisible(owner, teammate):
    template = create(teammate)
    with pytest.raises(Http404):
        templates.template_get(user=owner, uuid=template.uuid)
    assert list(templates.templates_to_use(owner)) == []


def test_an_update_with_an_old_version_conflicts(owner):
    template = create(owner)
    templates.template_update(actor=owner, template=template, data={"name": "Neu"}, version=1)
    with pytest.raises(templates.EditConflict) as caught:
        templates.template_update(actor=owner, template=template, data={"name": "Alt"}, version=1)
    assert caught.value.current.version == 2
    assert EmailTemplate.objects.get(pk=template.pk).name == "Neu"


def test_archive_and_restore(owner):
    template = create(owner)
    templates.template_archive(actor=owner, template=template)
    assert list(templates.templates_to_use(owner)) == []
    templates.template_archive(actor=owner, template=template, archived=False)
    assert list(templates.templates_to_use(owner)) == [template]


# --- Pages ------------------------------------------------------------------------------------


def test_the_list_shows_shared_and_own_templates(
    client, owner, teammate, admin, django_assert_max_num_queries
):
    create(admin, shared=True, name="Geteilt")
    create(owner, name="Meine")
    create(teammate, name="Fremde")
    client.force_login(owner)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("mail:template_list"))
    page = response.content.decode()
    assert "Geteilt" in page and "Meine" in page and "Fremde" not in page


def test_create_page_with_field_picker_and_errors(client, owner):
    client.force_login(owner)
    page = client.get(reverse("mail:template_create")).content.decode()
    assert 'data-insert="{{ person.letter_salutation }}"' in page
    assert 'name="shared"' not in page  # a sales rep may not share
    response = client.post(
        reverse("mail:template_create"),
        {"name": "X", "subject": "S", "body": "{{ person.nope }}", "language": ""},
    )
    assert response.status_code == 200
    assert "Unknown merge field: person.nope." in response.content.decode()
    assert EmailTemplate.objects.count() == 0
    response = client.post(
        reverse("mail:template_create"),
        {"name": "X", "subject": "S", "body": "{{ person.first_name }}", "language": "de"},
    )
    template = EmailTemplate.objects.get()
    assert response.status_code == 302
    assert (template.owner, template.body, template.language) == (
        owner,
        "{{ person.first_name }}",
        "de",
    )


def test_edit_page_shows_a_conflict(client, owner):
    template = create(owner)
    templates.template_update(actor=owner, template=template, data={"body": "Neuer"})
    client.force_login(owner)
    response = client.post(
        reverse("mail:template_edit", args=[template.uuid]),
        {"name": "Mein Name", "subject": "S", "body": "B", "language": "", "version": "1"},
    )
    assert response.status_code == 200
    assert 'class="notice conflict"' in response.content.decode()
    assert EmailTemplate.objects.get(pk=template.pk).body == "Neuer"


def test_only_the_author_edits_and_archives(client, owner, teammate):
    template = create(owner)
    client.force_login(teammate)
    assert client.get(reverse("mail:template_edit", args=[template.uuid])).status_code == 404
    assert client.post(reverse("mail:template_archive", args=[template.uuid])).status_code == 404
    client.force_login(owner)
    response = client.post(
        reverse("mail:template_archive", args=[template.uuid]), {"archived": "1"}
    )
    assert response.status_code == 302
    assert EmailTemplate.objects.get(pk=template.pk).archived is True


def test_readonly_cannot_open_the_template_pages(client, readonly):
    client.force_login(readonly)
    assert client.get(reverse("mail:template_list")).status_code == 403
    assert client.get(reverse("mail:template_create")).status_code == 403
