"""Files on activities: upload (several at once, all or none), forbidden types and
oversize files refused with a form error and nothing stored, download only as an
attachment and only for who may see the activity, delete; and the request size
limit that lets uploads through up to the attachment limit."""

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kontor.activities.models import Activity, Attachment
from kontor.activities.services.attachments import attachment_add
from kontor.core.models import AuditEntry
from tests.activities.factories import ActivityFactory
from tests.customers.factories import PersonFactory, owned_by

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(owner):
    return owned_by(PersonFactory, owner, last_name="Muster")


@pytest.fixture
def activity(owner, person):
    return ActivityFactory(person=person, author=owner, subject="Angebot")


def stored_files(settings) -> list[str]:
    root = settings.MEDIA_ROOT
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def state(settings):
    return (
        list(Attachment.objects.order_by("pk").values()),
        list(Activity.objects.order_by("pk").values()),
        AuditEntry.objects.count(),
        stored_files(settings),
    )


def upload_url(activity):
    return reverse("activities:attachment_upload", args=[activity.uuid])


def download_url(attachment):
    return reverse(
        "activities:attachment_download", args=[attachment.activity.uuid, attachment.uuid]
    )


def test_upload_several_files(client, owner, activity, settings):
    client.force_login(owner)
    response = client.post(
        upload_url(activity),
        {
            "file": [
                SimpleUploadedFile("Angebot.pdf", b"%PDF-1.7", content_type="application/pdf"),
                SimpleUploadedFile("notiz.txt", b"hallo", content_type="text/plain"),
            ]
        },
    )
    assert response.status_code == 302
    files = list(activity.attachments.order_by("filename"))
    assert [(f.filename, f.size, f.content_type) for f in files] == [
        ("Angebot.pdf", 8, "application/pdf"),
        ("notiz.txt", 5, "text/plain"),
    ]
    assert len(stored_files(settings)) == 2
    assert files[0].file.name.endswith(".bin")


@pytest.mark.parametrize(
    ("name", "size", "message"),
    [
        ("tool.exe", 10, "Files of type .exe are not allowed."),
        ("script.JS", 10, "Files of type .js are not allowed."),
        ("big.pdf", 1024 * 1024 + 1, "A file can be at most 1 MB (this one is 1.0 MB)."),
    ],
)
def test_refused_file_is_a_form_error_and_nothing_is_stored(
    client, owner, activity, settings, name, size, message
):
    settings.ATTACHMENT_MAX_MB = 1
    client.force_login(owner)
    before = state(settings)
    response = client.post(
        upload_url(activity),
        {
            "file": [
                SimpleUploadedFile("ok.txt", b"ok"),
                SimpleUploadedFile(name, b"x" * size),
            ]
        },
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert state(settings) == before


def test_log_activity_with_a_forbidden_file_saves_nothing(client, owner, person, settings):
    client.force_login(owner)
    before = state(settings)
    response = client.post(
        reverse("activities:activity_log", args=[person.uuid]),
        {
            "kind": "letter",
            "direction": "out",
            "occurred_at": "2025-03-04T10:15",
            "subject": "Brief",
            "files": [SimpleUploadedFile("brief.pdf", b"%PDF"), SimpleUploadedFile("x.bat", b"@")],
        },
    )
    assert response.status_code == 422
    assert "Files of type .bat are not allowed." in response.content.decode()
    assert state(settings) == before


def test_log_activity_with_files(client, owner, person, settings):
    client.force_login(owner)
    response = client.post(
        reverse("activities:activity_log", args=[person.uuid]),
        {
            "kind": "letter",
            "direction": "out",
            "occurred_at": "2025-03-04T10:15",
            "subject": "Brief",
            "files": [SimpleUploadedFile("brief.pdf", b"%PDF")],
        },
    )
    assert response.status_code == 302
    activity = Activity.objects.get()
    assert [a.filename for a in activity.attachments.all()] == ["brief.pdf"]
    assert len(stored_files(settings)) == 1


def test_failed_database_write_leaves_no_file(owner, activity, settings, monkeypatch):
    # The row cannot be written (a database error after the file was stored).
    def fail(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(Attachment, "save", fail)
    with pytest.raises(RuntimeError):
        attachment_add(actor=owner, activity=activity, name="a.txt", content=b"hallo")
    assert stored_files(settings) == []


def test_download_is_an_attachment_with_the_original_name(client, owner, activity):
    attachment = attachment_add(
        actor=owner, activity=activity, name="Bericht <Q1>.html", content=b"<script>x</script>"
    )
    client.force_login(owner)
    response = client.get(download_url(attachment))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"<script>x</script>"
    assert response["Content-Disposition"] == 'attachment; filename="Bericht <Q1>.html"'
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_download_is_404_for_an_outsider(client, owner, outsider, activity):
    attachment = attachment_add(actor=owner, activity=activity, name="a.txt", content=b"geheim")
    client.force_login(outsider)
    assert client.get(download_url(attachment)).status_code == 404


def test_download_of_a_private_activity_is_404_for_others(client, owner, teammate, person):
    private = ActivityFactory(person=person, author=owner, private=True)
    attachment = attachment_add(actor=owner, activity=private, name="a.txt", content=b"privat")
    client.force_login(teammate)
    assert client.get(download_url(attachment)).status_code == 404


def test_attachment_under_another_activity_is_404(client, owner, person, activity):
    other = ActivityFactory(person=person, author=owner)
    attachment = attachment_add(actor=owner, activity=other, name="a.txt", content=b"x")
    client.force_login(owner)
    url = reverse("activities:attachment_download", args=[activity.uuid, attachment.uuid])
    assert client.get(url).status_code == 404


def test_delete_removes_the_file_after_commit(
    client, owner, activity, settings, django_capture_on_commit_callbacks
):
    attachment = attachment_add(actor=owner, activity=activity, name="a.txt", content=b"x")
    client.force_login(owner)
    url = reverse("activities:attachment_delete", args=[activity.uuid, attachment.uuid])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302
    assert not Attachment.objects.exists()
    assert not default_storage.exists(attachment.file.name)


def test_teammate_may_not_delete_or_upload(client, owner, teammate, activity, settings):
    attachment = attachment_add(actor=owner, activity=activity, name="a.txt", content=b"x")
    client.force_login(teammate)
    before = state(settings)
    url = reverse("activities:attachment_delete", args=[activity.uuid, attachment.uuid])
    assert client.post(url).status_code == 403
    response = client.post(upload_url(activity), {"file": SimpleUploadedFile("b.txt", b"y")})
    assert response.status_code == 403
    assert state(settings) == before


# --- The request size limit ------------------------------------------------------------------


def test_upload_above_the_request_limit_but_within_the_attachment_limit(
    client, owner, activity, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    settings.ATTACHMENT_MAX_MB = 3
    client.force_login(owner)
    response = client.post(
        upload_url(activity), {"file": SimpleUploadedFile("gross.pdf", b"x" * 2 * 1024 * 1024)}
    )
    assert response.status_code == 302
    assert activity.attachments.get().size == 2 * 1024 * 1024


def test_multipart_above_the_attachment_bound_is_413(client, owner, activity, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    settings.ATTACHMENT_MAX_MB = 1
    client.force_login(owner)
    before = state(settings)
    response = client.post(
        upload_url(activity), {"file": SimpleUploadedFile("zu-gross.pdf", b"x" * 3 * 1024 * 1024)}
    )
    assert response.status_code == 413
    assert "The request is larger than 2 MB." in response.content.decode()
    assert state(settings) == before


def test_other_bodies_keep_the_request_limit(client, owner, person, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    settings.ATTACHMENT_MAX_MB = 20
    client.force_login(owner)
    response = client.post(
        reverse("activities:customer_log_call", args=[person.uuid]),
        data="subject=" + "x" * (2 * 1024 * 1024),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert "The request is larger than 1 MB." in response.content.decode()
    assert not Activity.objects.exists()
