"""Exports of the lists: CSV (UTF-8 with BOM, ";", German formats for German users)
and XLSX, only visible records, only fields the role may see, custom fields as
columns; exporting needs customers.export."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from kontor.core.models import CustomField, Role
from kontor.core.permissions import Capability, RoleCode
from tests.core.factories import UserFactory
from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by

pytestmark = pytest.mark.django_db

BULK = reverse("customers:bulk_action", args=["person"])


def export(client, user, action="export_csv", **data):
    client.force_login(user)
    return client.post(BULK, {"action": action, "all": "1", "query": "", **data})


def read_csv(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:]), delimiter=";"))


def read_xlsx(response) -> list[dict]:
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(header, row, strict=True)) for row in rows]


@pytest.fixture
def people(owner, outsider):
    CustomField.objects.create(
        entity="customers.person", key="segment", label="Segment", field_type="text"
    )
    org = owned_by(OrganizationFactory, owner, name="Muster GmbH")
    owned_by(
        PersonFactory,
        owner,
        last_name="Abel",
        first_name="Anna",
        organization=org,
        birth_date=datetime.date(1980, 5, 17),
        interests="Golf",
        household_size=3,
        custom={"segment": "Mittelstand"},
    )
    owned_by(PersonFactory, owner, last_name="Bauer", first_name="Ben", city="Köln")
    owned_by(PersonFactory, outsider, last_name="Fremd")


def test_csv_has_visible_records_german_formats_and_custom_fields(client, owner, people):
    owner.language = "de"
    owner.save()
    response = export(client, owner)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="persons-')
    rows = read_csv(response)
    assert [r["Nachname"] for r in rows] == ["Abel", "Bauer"]
    abel = rows[0]
    assert abel["Geburtsdatum"] == "17.05.1980"
    assert abel["Organisation"] == "Muster GmbH"
    assert abel["Segment"] == "Mittelstand"
    assert "email key" not in abel  # what the system keeps for itself
    assert rows[1]["Segment"] == ""


def test_csv_in_english_uses_english_formats(client, owner, people):
    rows = read_csv(export(client, owner))
    assert rows[0]["birth date"] == "05/17/1980"
    assert rows[0]["last name"] == "Abel"


def test_selected_rows_only(client, owner, people):
    from kontor.customers.models import Person

    bauer = Person.objects.get(last_name="Bauer")
    fremd = Person.objects.get(last_name="Fremd")
    client.force_login(owner)
    response = client.post(
        BULK, {"action": "export_csv", "ids": [bauer.uuid, fremd.uuid], "query": ""}
    )
    assert [r["last name"] for r in read_csv(response)] == ["Bauer"]


def test_filtered_export(client, owner, people):
    rows = read_csv(export(client, owner, query="city=Köln"))
    assert [r["last name"] for r in rows] == ["Bauer"]


def test_psychographic_fields_need_the_capability(client, owner, people):
    marketing = Role.objects.get(code=RoleCode.MARKETING)
    marketing.capabilities = [
        c for c in marketing.capabilities if c != Capability.CUSTOMERS_PSYCHOGRAPHIC
    ]
    marketing.save()
    user = UserFactory(username="marketing", role=marketing)
    rows = read_csv(export(client, user))
    assert [r["last name"] for r in rows] == ["Abel", "Bauer", "Fremd"]  # sees all
    for name in ("interests", "values", "attitudes", "preferences"):
        assert name not in rows[0]
    assert "household size" in rows[0]


def test_xlsx_has_typed_cells(client, owner, people):
    response = export(client, owner, action="export_xlsx")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="persons-')
    rows = read_xlsx(response)
    assert [r["last name"] for r in rows] == ["Abel", "Bauer"]
    assert rows[0]["birth date"] == datetime.datetime(1980, 5, 17)
    assert rows[0]["household size"] == 3
    assert rows[0]["Segment"] == "Mittelstand"
    assert rows[0]["interests"] == "Golf"


def test_organizations_export(client, owner):
    owned_by(OrganizationFactory, owner, name="Muster GmbH", employees=12)
    client.force_login(owner)
    response = client.post(
        reverse("customers:bulk_action", args=["organization"]),
        {"action": "export_xlsx", "all": "1", "query": ""},
    )
    (row,) = read_xlsx(response)
    assert (row["name"], row["employees"], row["owner"]) == ("Muster GmbH", 12, str(owner))


def test_export_needs_the_capability(client, owner, people):
    agent = UserFactory(username="agent", role=Role.objects.get(code=RoleCode.SERVICE_AGENT))
    for action in ("export_csv", "export_xlsx"):
        assert export(client, agent, action=action).status_code == 403


# Formula injection (OWASP "CSV injection"): text a user typed never becomes a formula.
HOSTILE = [
    '=HYPERLINK("http://x")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-2+3",
    "\t=1",
    "\r=1",
]


@pytest.fixture
def hostile(owner):
    CustomField.objects.create(
        entity="customers.person", key="segment", label="Segment", field_type="text"
    )
    CustomField.objects.create(
        entity="customers.person", key="score", label="Score", field_type="number"
    )
    for index, text in enumerate(HOSTILE):
        owned_by(
            PersonFactory,
            owner,
            last_name=text,
            first_name=f"P{index}",
            interests=text,
            custom={"segment": text, "score": -2},
        )


HOSTILE_COLUMNS = ("last name", "interests", "Segment")


def test_csv_neutralises_leading_formula_characters_in_text(client, owner, hostile):
    rows = sorted(read_csv(export(client, owner)), key=lambda r: r["first name"])

    assert [r["last name"] for r in rows] == ["'" + text for text in HOSTILE]
    for row in rows:
        for column in HOSTILE_COLUMNS:
            assert row[column].startswith("'"), (column, row[column])
        # A number is numeric data, not user text: it stays a number.
        assert row["Score"] == "-2"


def test_xlsx_writes_text_as_string_cells_never_formulas(client, owner, hostile):
    response = export(client, owner, action="export_xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header = [cell.value for cell in sheet[1]]
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]

    assert [cell for cell in cells if cell.data_type == "f"] == []
    rows = sorted(
        (dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2)),
        key=lambda r: r["first name"].value,
    )
    # The text exactly as typed — no visible quote — with Excel's own text marker.
    assert [r["last name"].value for r in rows] == HOSTILE
    for row, text in zip(rows, HOSTILE, strict=True):
        for column in HOSTILE_COLUMNS:
            cell = row[column]
            assert (cell.value, cell.data_type, cell.quotePrefix) == (text, "s", True), column
        assert (row["Score"].value, row["Score"].data_type) == (-2, "n")
        # Text that does not start like a formula has no marker.
        assert (row["first name"].data_type, row["first name"].quotePrefix) == ("s", False)


def test_plain_text_is_exported_unchanged(client, owner, people):
    # Only the leading formula characters count: "Köln", "Golf" keep their form.
    rows = read_csv(export(client, owner))
    assert (rows[0]["interests"], rows[1]["city"]) == ("Golf", "Köln")
