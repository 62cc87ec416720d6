"""vCard export (4.0 and 3.0) and import of .vcf files with several cards: escaping,
folding, what is created or skipped, and all or nothing per file."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kontor.customers import queries, services, vcard
from kontor.customers.models import Person
from tests.core.test_api import reader, writer
from tests.customers.factories import OrganizationFactory, owned_by

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna(owner):
    org = owned_by(OrganizationFactory, owner, name="Muster; Söhne, GmbH")
    person = services.person_create(
        actor=owner,
        data={
            "salutation": "ms",
            "title": "Dr.",
            "first_name": "Anna",
            "last_name": "Müller",
            "organization": org,
            "job_title": "Leiterin Einkauf",
            "email": "anna.mueller@example.de",
            "phone": "0221 1234567",
            "mobile": "0171 1234567",
            "street": "Hauptstraße 5",
            "postal_code": "50667",
            "city": "Köln",
            "birth_date": datetime.date(1980, 1, 31),
            "gender": "female",
        },
    )
    # As the export reads it: with what the owner may see of the organization.
    return queries.person_get(user=owner, uuid=person.uuid)


def unfolded(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def test_vcard_4(anna):
    lines = unfolded(vcard.person_to_vcard(anna))
    assert lines[:-3] == [
        "BEGIN:VCARD",
        "VERSION:4.0",
        "FN:Dr. Anna Müller",
        "N:Müller;Anna;;Frau Dr.;",
        "ORG:Muster\\; Söhne\\, GmbH",
        "TITLE:Leiterin Einkauf",
        "EMAIL;TYPE=work;PREF=1:anna.mueller@example.de",
        "TEL;VALUE=uri;TYPE=voice:tel:+492211234567",
        "TEL;VALUE=uri;TYPE=cell:tel:+491711234567",
        "ADR;TYPE=work:;;Hauptstraße 5;Köln;;50667;DE",
        "BDAY:19800131",
        "GENDER:F",
        "LANG:de",
        f"UID:urn:uuid:{anna.uuid}",
    ]
    rev = anna.updated_at.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    assert lines[-3:] == [f"REV:{rev}", "END:VCARD", ""]


def test_vcard_3(anna):
    lines = unfolded(vcard.person_to_vcard(anna, version="3.0"))
    assert "VERSION:3.0" in lines
    assert "TEL;TYPE=VOICE:+492211234567" in lines
    assert "EMAIL;TYPE=INTERNET,WORK,PREF:anna.mueller@example.de" in lines
    assert "BDAY:1980-01-31" in lines
    assert not [line for line in lines if line.startswith(("GENDER", "LANG"))]


def test_long_lines_are_folded_at_75_octets_without_splitting_characters():
    line = "NOTE:" + "ä" * 100
    folded = vcard.fold(line)
    parts = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in parts)
    assert all(p.startswith(" ") for p in parts[1:])
    assert folded.replace("\r\n ", "") == line


def test_escaping_round_trips():
    text = "a,b;c\\d\nzweite Zeile"
    assert vcard.escape(text) == "a\\,b\\;c\\\\d\\nzweite Zeile"
    assert vcard.unescape(vcard.escape(text)) == text


def test_export_view_and_api(client, owner, anna, outsider):
    client.force_login(owner)
    response = client.get(reverse("customers:person_vcard", args=[anna.uuid]))
    assert response["Content-Type"] == "text/vcard; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="dr-anna-muller.vcf"'
    assert "VERSION:4.0" in response.content.decode()
    v3 = client.get(reverse("customers:person_vcard", args=[anna.uuid]), {"version": "3"})
    assert "VERSION:3.0" in v3.content.decode()
    api = client.get(f"/api/v1/persons/{anna.uuid}/vcard?version=3", **reader(owner))
    assert (api.status_code, "VERSION:3.0" in api.content.decode()) == (200, True)
    assert client.get(f"/api/v1/persons/{anna.uuid}/vcard", **reader(outsider)).status_code == 404


def test_export_then_import_gives_the_same_person(owner, anna, admin):
    text = vcard.person_to_vcard(anna).encode()
    # the same person again: a duplicate, imported anyway
    assert vcard.person_import_vcards(actor=owner, content=text).created == []
    result = vcard.person_import_vcards(actor=owner, content=text, allow_duplicates=True)
    copy = result.created[0]
    fields = (
        "salutation",
        "title",
        "first_name",
        "last_name",
        "organization_id",
        "job_title",
        "email",
        "phone",
        "mobile",
        "street",
        "postal_code",
        "city",
        "country",
        "birth_date",
        "gender",
    )
    assert [getattr(copy, f) for f in fields] == [
        "ms",
        "Dr.",
        "Anna",
        "Müller",
        anna.organization_id,
        "Leiterin Einkauf",
        "anna.mueller@example.de",
        "+492211234567",
        "+491711234567",
        "Hauptstraße 5",
        "50667",
        "Köln",
        "DE",
        datetime.date(1980, 1, 31),
        "female",
    ]


THREE_CARDS = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Albers;Anna;;Frau;\r\nFN:Anna Albers\r\n"
    "EMAIL;TYPE=INTERNET:anna@example.de\r\nTEL;TYPE=CELL:0171 1234567\r\n"
    "NOTE:eine sehr lange Notiz\r\n  die gefaltet ist\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ben Bauer\r\nitem1.EMAIL:ben@example.de\r\n"
    'ADR;TYPE="home,work":;;Ring 1;Wien;;1010;Österreich\r\nEND:VCARD\r\n'
    "BEGIN:VCARD\r\nVERSION:4.0\r\nORG:Nur Firma\r\nEND:VCARD\r\n"
)


def test_import_creates_persons_and_reports_skipped_cards(owner, team):
    result = vcard.person_import_vcards(actor=owner, content=THREE_CARDS.encode())
    assert [
        (p.salutation, p.first_name, p.last_name, p.email, p.mobile, p.city, p.country, p.owner)
        for p in result.created
    ] == [
        ("ms", "Anna", "Albers", "anna@example.de", "+491711234567", "", "DE", owner),
        ("", "Ben", "Bauer", "ben@example.de", "", "Wien", "AT", owner),
    ]
    assert result.skipped == ["Card 3: no name."]
    assert Person.objects.count() == 2


def test_import_skips_cards_of_existing_persons(owner):
    albers = services.person_create(
        actor=owner, data={"first_name": "A.", "last_name": "Albers", "email": "anna@example.de"}
    )
    result = vcard.person_import_vcards(actor=owner, content=THREE_CARDS.encode())
    assert [p.last_name for p in result.created] == ["Bauer"]
    assert result.skipped == [
        "Card 1 (Anna Albers): possible duplicate of "
        f"A. Albers (/customers/persons/{albers.uuid}/).",
        "Card 3: no name.",
    ]
    assert result.skipped_otherwise == ["Card 3: no name."]
    (dup,) = result.duplicates
    assert (dup.number, dup.name, [c.record for c in dup.candidates]) == (
        1,
        "Anna Albers",
        [albers],
    )
    assert [c.reasons for c in dup.candidates] == [["email"]]


def _card(first, last, **lines) -> str:
    extra = "".join(f"{k.upper()}:{v}\r\n" for k, v in lines.items())
    return f"BEGIN:VCARD\r\nVERSION:4.0\r\nN:{last};{first};;;\r\n{extra}END:VCARD\r\n"


def test_import_finds_likely_duplicates_not_only_the_same_email(owner, outsider):
    # given persons alike by name and city, by phone, and one the owner cannot see
    meier = services.person_create(
        actor=owner, data={"first_name": "Hans", "last_name": "Meier", "city": "Köln"}
    )
    lang = services.person_create(
        actor=owner, data={"first_name": "Eva", "last_name": "Lang", "phone": "0221 555666"}
    )
    services.person_create(
        actor=outsider, data={"first_name": "Otto", "last_name": "Fremd", "city": "Bonn"}
    )
    content = (
        _card("Hans", "Mayer", adr=";;;Köln;;;")  # sounds alike, same city
        + _card("Eva", "Lang-Berger", tel="+49 221 555666")  # same phone
        + _card("Otto", "Fremd", adr=";;;Bonn;;;")  # the outsider's: not seen, imported
        + _card("Nina", "Neu", email="nina@example.de")
        + _card("Nina", "Neu", email="NINA@example.de")  # the card before, again
    )

    result = vcard.person_import_vcards(actor=owner, content=content.encode())

    assert [p.full_name for p in result.created] == ["Otto Fremd", "Nina Neu"]
    nina = result.created[1]
    assert [(d.number, [c.record for c in d.candidates]) for d in result.duplicates] == [
        (1, [meier]),
        (2, [lang]),
        (5, [nina]),
    ]
    assert [c.reasons for d in result.duplicates for c in d.candidates] == [
        ["similar_name_city"],
        ["phone"],
        ["email"],
    ]
    assert result.skipped_otherwise == []
    assert Person.objects.filter(last_name="Mayer").exists() is False


def test_cards_skipped_as_duplicates_can_be_imported_anyway(owner):
    services.person_create(
        actor=owner, data={"first_name": "Hans", "last_name": "Meier", "city": "Köln"}
    )
    content = _card("Hans", "Meier", adr=";;;Köln;;;") + _card("Ida", "Ohne")
    (dup,) = vcard.person_import_vcards(actor=owner, content=content.encode()).duplicates

    again = vcard.cards_from_b64([dup.card_b64])
    result = vcard.person_import_vcards(actor=owner, content=again, allow_duplicates=True)

    assert [p.full_name for p in result.created] == ["Hans Meier"]
    assert Person.objects.filter(last_name="Meier").count() == 2
    assert Person.objects.filter(last_name="Ohne").count() == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file contains no vCard."),
        (b"\xff\xfe\x00garbage", "The file is not UTF-8 encoded text."),
        (b"BEGIN:VCARD\r\nFN:A B\r\n", "The last card has no END:VCARD."),
        (b"FN:A B\r\n", "Line 1 is outside of a card (BEGIN:VCARD \u2026 END:VCARD)."),
        (b"BEGIN:VCARD\r\nno colon here\r\nEND:VCARD\r\n", "Line 2 is not a vCard line."),
        (
            b"BEGIN:VCARD\r\nBEGIN:VCARD\r\nEND:VCARD\r\n",
            "Line 2: a card begins inside another.",
        ),
        # PostgreSQL cannot store a NUL: the text is refused where it is decoded.
        (
            b"BEGIN:VCARD\r\nFN:Anna M\x00\xc3\xbcller\r\nEND:VCARD\r\n",
            "Line 2 contains a null character (NUL).",
        ),
    ],
)
def test_malformed_file_is_refused_with_a_clear_message(owner, content, message):
    with pytest.raises(vcard.VCardError) as exc:
        vcard.person_import_vcards(actor=owner, content=content)
    assert exc.value.messages == [message]
    assert not Person.objects.exists()


def test_an_invalid_card_imports_nothing(owner):
    content = THREE_CARDS + "BEGIN:VCARD\r\nFN:Carl Clever\r\nTEL:12\r\nEND:VCARD\r\n"
    with pytest.raises(vcard.VCardError) as exc:
        vcard.person_import_vcards(actor=owner, content=content.encode())
    assert exc.value.messages == [
        "Card 4 (Carl Clever): phone: Enter a valid phone number, e.g. 0221 123456 or "
        "+49 221 123456."
    ]
    assert not Person.objects.exists()


def test_import_page(as_user, owner):
    client = as_user(owner)
    url = reverse("customers:person_import_vcard")
    assert client.get(url).status_code == 200
    upload = SimpleUploadedFile("contacts.vcf", THREE_CARDS.encode(), "text/vcard")
    response = client.post(url, {"file": upload})
    assert response.status_code == 200
    assert "Card 3: no name." in response.text
    assert Person.objects.count() == 2
    bad = SimpleUploadedFile("bad.vcf", b"FN:A B\r\n", "text/vcard")
    response = client.post(url, {"file": bad})
    assert response.status_code == 422
    assert response.context["form"].errors == {
        "file": ["Line 1 is outside of a card (BEGIN:VCARD \u2026 END:VCARD)."]
    }
    assert Person.objects.count() == 2


def test_import_page_lists_possible_duplicates_to_import_anyway(as_user, owner):
    meier = services.person_create(
        actor=owner, data={"first_name": "Hans", "last_name": "Meier", "email": "hm@example.de"}
    )
    client = as_user(owner)
    url = reverse("customers:person_import_vcard")
    content = _card("Hans", "Meier", email="hm@example.de") + _card("Ida", "Ohne")
    upload = SimpleUploadedFile("contacts.vcf", content.encode(), "text/vcard")

    response = client.post(url, {"file": upload})

    assert response.status_code == 200
    assert "1 person imported." in response.text
    assert "possible duplicate of" in response.text
    assert f'<a href="/customers/persons/{meier.uuid}/"' in response.text
    (dup,) = response.context["result"].duplicates
    assert f'name="cards" value="{dup.card_b64}"' in response.text
    assert Person.objects.filter(last_name="Meier").count() == 1

    # when the card is ticked and "import anyway" pressed
    response = client.post(url, {"import_anyway": "1", "cards": [dup.card_b64]})

    assert response.status_code == 302
    assert Person.objects.filter(last_name="Meier").count() == 2
    assert Person.objects.filter(last_name="Ohne").count() == 1


@pytest.mark.parametrize(
    ("cards", "message"),
    [
        ([], "Tick the cards to import anyway."),
        (["not base64!"], "The chosen cards could not be read. Upload the file again."),
        (["Rk46QSBCDQo="], "Line 1 is outside of a card (BEGIN:VCARD \u2026 END:VCARD)."),
    ],
)
def test_import_anyway_with_bad_cards_imports_nothing(as_user, owner, cards, message):
    url = reverse("customers:person_import_vcard")
    response = as_user(owner).post(url, {"import_anyway": "1", "cards": cards}, follow=True)
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [message]
    assert not Person.objects.exists()


def test_import_needs_the_edit_capability(as_user, readonly, client):
    url = reverse("customers:person_import_vcard")
    upload = SimpleUploadedFile("contacts.vcf", THREE_CARDS.encode(), "text/vcard")
    assert as_user(readonly).post(url, {"file": upload}).status_code == 403
    upload = SimpleUploadedFile("contacts.vcf", THREE_CARDS.encode(), "text/vcard")
    response = client.post("/api/v1/persons/import-vcard", {"file": upload}, **writer(readonly))
    assert response.status_code == 403
    assert not Person.objects.exists()


def test_api_import_reports_possible_duplicates(client, owner):
    meier = services.person_create(
        actor=owner, data={"first_name": "Hans", "last_name": "Meier", "city": "Köln"}
    )
    content = _card("Hans", "Meier", adr=";;;Köln;;;")
    upload = SimpleUploadedFile("contacts.vcf", content.encode(), "text/vcard")
    body = client.post("/api/v1/persons/import-vcard", {"file": upload}, **writer(owner)).json()
    assert body == {
        "created": [],
        "skipped": [
            "Card 1 (Hans Meier): possible duplicate of "
            f"Hans Meier (/customers/persons/{meier.uuid}/)."
        ],
    }


def test_api_import(client, owner):
    upload = SimpleUploadedFile("contacts.vcf", THREE_CARDS.encode(), "text/vcard")
    response = client.post("/api/v1/persons/import-vcard", {"file": upload}, **writer(owner))
    assert response.status_code == 200
    body = response.json()
    assert [p["last_name"] for p in body["created"]] == ["Albers", "Bauer"]
    assert body["skipped"] == ["Card 3: no name."]
    bad = SimpleUploadedFile("bad.vcf", b"BEGIN:VCARD\r\nFN:A B\r\n", "text/vcard")
    response = client.post("/api/v1/persons/import-vcard", {"file": bad}, **writer(owner))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "file", "message": "The last card has no END:VCARD."}
    ]
    assert Person.objects.count() == 2


def test_card_with_a_nul_is_refused_on_the_page_and_in_the_api(as_user, client, owner):
    content = b"BEGIN:VCARD\r\nFN:Anna\r\nN:M\x00ller;Anna;;;\r\nEND:VCARD\r\n"
    upload = SimpleUploadedFile("nul.vcf", content, "text/vcard")
    response = client.post("/api/v1/persons/import-vcard", {"file": upload}, **writer(owner))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "file", "message": "Line 3 contains a null character (NUL)."}
    ]
    upload = SimpleUploadedFile("nul.vcf", content, "text/vcard")
    response = as_user(owner).post(reverse("customers:person_import_vcard"), {"file": upload})
    assert response.status_code == 422
    assert response.context["form"].errors == {"file": ["Line 3 contains a null character (NUL)."]}
    assert not Person.objects.exists()
