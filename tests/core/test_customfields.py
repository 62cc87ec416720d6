"""Custom fields: every type's validation and conversion, display, filters on both
databases, archive/restore keeping the values, the administration pages (only for
admin.users; a refused request changes nothing) and the API description."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from kontor.core import customfield_services, customfields
from kontor.core.models import AuditAction, AuditEntry, CustomField
from kontor.customers import services as customer_services
from kontor.customers.models import Organization, Person
from tests.core.test_api import reader
from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by

pytestmark = pytest.mark.django_db

PERSON = "customers.person"
ORG = "customers.organization"


def make(key, field_type, *, entity=PERSON, **kwargs) -> CustomField:
    return CustomField.objects.create(
        entity=entity,
        key=key,
        label=kwargs.pop("label", key.title()),
        field_type=field_type,
        **kwargs,
    )


@pytest.fixture
def fields(db):
    """One optional field of every type on persons."""
    return {
        "nickname": make("nickname", "text", label="Spitzname", label_en="Nickname"),
        "story": make("story", "long_text"),
        "shoe_size": make("shoe_size", "number"),
        "budget": make("budget", "decimal"),
        "met_on": make("met_on", "date"),
        "newsletter": make("newsletter", "boolean"),
        "tier": make("tier", "choice", choices=["Gold", "Silber", "Bronze"]),
        "topics": make("topics", "multiple_choice", choices=["CRM", "ERP", "Müll"]),
        "homepage": make("homepage", "url"),
        "backup_mail": make("backup_mail", "email"),
    }


def errors_of(exc_info) -> dict[str, list[str]]:
    return exc_info.value.message_dict


# --- clean_values ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "given", "stored"),
    [
        ("nickname", "Hansi", "Hansi"),
        ("story", "Zeile 1\nZeile 2", "Zeile 1\nZeile 2"),
        ("shoe_size", 44, 44),
        ("shoe_size", "44", 44),
        ("budget", "1234.50", "1234.50"),
        ("budget", Decimal("0.1"), "0.1"),
        ("budget", 12.5, "12.5"),
        ("budget", 7, "7"),
        ("met_on", "2024-02-29", "2024-02-29"),
        ("met_on", datetime.date(2024, 3, 1), "2024-03-01"),
        ("newsletter", True, True),
        ("newsletter", "false", False),
        ("tier", "Gold", "Gold"),
        ("topics", ["ERP", "CRM", "ERP"], ["ERP", "CRM"]),
        ("homepage", "https://example.de/x", "https://example.de/x"),
        ("homepage", "example.de", "https://example.de"),
        ("backup_mail", "anna@example.de", "anna@example.de"),
    ],
)
def test_valid_values_are_converted_to_json_safe_values(fields, key, given, stored):
    assert customfields.clean_values(PERSON, {key: given}) == {key: stored}


@pytest.mark.parametrize(
    ("key", "given", "message"),
    [
        ("nickname", 12, "Enter text."),
        ("nickname", "x" * 256, "Ensure this value has at most 255 characters (it has 256)."),
        ("shoe_size", "vierzig", "Enter a whole number."),
        ("shoe_size", 4.5, "Enter a whole number."),
        ("shoe_size", True, "Enter a whole number."),
        ("shoe_size", 2**60, "Ensure this value is less than or equal to 9007199254740991."),
        ("budget", "zwölf", "Enter a number."),
        ("budget", "NaN", "Enter a number."),
        ("budget", False, "Enter a number."),
        ("met_on", "2023-02-29", "Enter a valid date."),
        ("met_on", 20240101, "Enter a valid date."),
        ("newsletter", "maybe", "Enter yes or no."),
        (
            "tier",
            "Platin",
            "Select a valid choice. Platin is not one of the available choices.",
        ),
        ("topics", "CRM", "Enter a list of values."),
        (
            "topics",
            ["CRM", "SAP"],
            "Select a valid choice. SAP is not one of the available choices.",
        ),
        ("homepage", "javascript:alert(1)", "Enter a valid URL."),
        ("backup_mail", "anna@", "Enter a valid email address."),
    ],
)
def test_invalid_values_give_a_message_keyed_by_the_field(fields, key, given, message):
    with translation.override("en"), pytest.raises(ValidationError) as exc_info:
        customfields.clean_values(PERSON, {key: given})
    assert errors_of(exc_info) == {f"custom.{key}": [message]}


def test_messages_are_in_the_users_language(fields):
    with translation.override("de"), pytest.raises(ValidationError) as exc_info:
        customfields.clean_values(PERSON, {"shoe_size": "viel", "ghost": 1})
    assert errors_of(exc_info) == {
        "custom.shoe_size": ["Geben Sie eine ganze Zahl ein."],
        "custom.ghost": ["Unbekanntes Feld."],
    }


def test_unknown_and_archived_keys_are_rejected(fields):
    fields["tier"].archived_at = datetime.datetime.now(datetime.UTC)
    fields["tier"].save()
    with translation.override("en"), pytest.raises(ValidationError) as exc_info:
        customfields.clean_values(PERSON, {"tier": "Gold", "nope": "x"})
    assert errors_of(exc_info) == {
        "custom.tier": ["Unknown field."],
        "custom.nope": ["Unknown field."],
    }


def test_fields_of_another_entity_are_unknown(fields):
    with pytest.raises(ValidationError) as exc_info:
        customfields.clean_values(ORG, {"nickname": "x"})
    assert list(errors_of(exc_info)) == ["custom.nickname"]


def test_required_field_missing_or_empty_is_an_error_unless_partial(db):
    make("kdnr", "text", required=True)
    with translation.override("en"):
        for data in ({}, {"kdnr": ""}, {"kdnr": None}):
            with pytest.raises(ValidationError) as exc_info:
                customfields.clean_values(PERSON, data)
            assert errors_of(exc_info) == {"custom.kdnr": ["This field is required."]}
        assert customfields.clean_values(PERSON, {}, partial=True) == {}
        # Emptying it is refused even in a PATCH.
        with pytest.raises(ValidationError):
            customfields.clean_values(PERSON, {"kdnr": "  "}, partial=True)


def test_empty_optional_values_come_back_as_none_and_merge_removes_them(fields):
    cleaned = customfields.clean_values(PERSON, {"nickname": "", "topics": [], "tier": "Gold"})
    assert cleaned == {"nickname": None, "topics": None, "tier": "Gold"}
    merged = customfields.merge_values({"nickname": "Hansi", "old": 1}, cleaned)
    assert merged == {"old": 1, "tier": "Gold"}


def test_every_error_is_reported_at_once(fields):
    with pytest.raises(ValidationError) as exc_info:
        customfields.clean_values(PERSON, {"shoe_size": "x", "budget": "y", "met_on": "z"})
    assert sorted(errors_of(exc_info)) == ["custom.budget", "custom.met_on", "custom.shoe_size"]


def test_not_a_dict_is_refused(fields):
    with pytest.raises(ValidationError) as exc_info:
        customfields.clean_values(PERSON, ["x"])
    assert list(errors_of(exc_info)) == ["custom"]


# --- form fields, display, api schema -------------------------------------------------


def test_form_fields_are_typed_with_label_in_the_active_language(fields):
    fields["nickname"].help_text = "Wie man sie nennt"
    fields["nickname"].required = True
    fields["nickname"].save()
    with translation.override("de"):
        form_fields = customfields.form_fields(PERSON)
        assert form_fields["cf_nickname"].label == "Spitzname"
    with translation.override("en"):
        form_fields = customfields.form_fields(PERSON)
        assert form_fields["cf_nickname"].label == "Nickname"
        assert form_fields["cf_story"].label == "Story"  # no English label: the label
    assert list(form_fields) == [f"cf_{key}" for key in fields]
    assert form_fields["cf_nickname"].required is True
    assert form_fields["cf_nickname"].help_text == "Wie man sie nennt"
    assert form_fields["cf_shoe_size"].__class__.__name__ == "IntegerField"
    assert form_fields["cf_budget"].__class__.__name__ == "DecimalField"
    assert form_fields["cf_met_on"].__class__.__name__ == "DateField"
    assert form_fields["cf_homepage"].__class__.__name__ == "URLField"
    assert form_fields["cf_backup_mail"].__class__.__name__ == "EmailField"
    assert [c for c, _label in form_fields["cf_tier"].choices] == ["", "Gold", "Silber", "Bronze"]
    assert [c for c, _label in form_fields["cf_topics"].choices] == ["CRM", "ERP", "Müll"]


def test_a_bound_form_round_trips_through_clean_values(fields):
    from django import forms

    form_class = type("F", (forms.Form,), customfields.form_fields(PERSON))
    form = form_class(
        data={
            "cf_nickname": "Hansi",
            "cf_shoe_size": "44",
            "cf_budget": "12.30",
            "cf_met_on": "2024-05-01",
            "cf_newsletter": "true",
            "cf_tier": "Silber",
            "cf_topics": ["CRM", "Müll"],
        }
    )
    assert form.is_valid(), form.errors
    cleaned = customfields.clean_values(PERSON, customfields.form_values(form.cleaned_data))
    stored = customfields.merge_values({}, cleaned)
    assert stored == {
        "nickname": "Hansi",
        "shoe_size": 44,
        "budget": "12.30",
        "met_on": "2024-05-01",
        "newsletter": True,
        "tier": "Silber",
        "topics": ["CRM", "Müll"],
    }
    initial = customfields.form_initial(PERSON, stored)
    assert initial["cf_newsletter"] == "true"
    assert initial["cf_met_on"] == "2024-05-01"


def test_display_values_use_the_locale(fields):
    custom = {
        "shoe_size": 1234567,
        "budget": "1234.5",
        "met_on": "2024-03-01",
        "newsletter": False,
        "topics": ["CRM", "ERP"],
        "tier": "Gold",
    }
    with translation.override("de"):
        german = dict(customfields.display_values(PERSON, custom))
    with translation.override("en"):
        english = dict(customfields.display_values(PERSON, custom))
    assert (german["Shoe_Size"], german["Budget"], german["Met_On"], german["Newsletter"]) == (
        "1.234.567",
        "1.234,5",
        "01.03.2024",
        "Nein",
    )
    assert (english["Shoe_Size"], english["Budget"], english["Newsletter"]) == (
        "1,234,567",
        "1,234.5",
        "No",
    )
    assert english["Topics"] == "CRM, ERP"
    assert english["Nickname"] == ""  # empty, still listed in its place
    assert len(english) == len(fields)


def test_api_schema_describes_the_active_fields(fields):
    fields["story"].archived_at = datetime.datetime.now(datetime.UTC)
    fields["story"].save()
    with translation.override("en"):
        schema = customfields.api_schema(PERSON)
    assert [f["key"] for f in schema] == [k for k in fields if k != "story"]
    assert schema[0] == {
        "key": "nickname",
        "label": "Nickname",
        "type": "text",
        "required": False,
        "choices": [],
        "help_text": "",
    }
    assert next(f for f in schema if f["key"] == "topics")["choices"] == ["CRM", "ERP", "Müll"]


# --- filter_q on the database ----------------------------------------------------------


@pytest.fixture
def people(fields, owner):
    def person(name, **custom):
        return owned_by(PersonFactory, owner, last_name=name, custom=custom)

    return {
        "anna": person(
            "Anna",
            nickname="Hansi Hase",
            shoe_size=38,
            budget="9.50",
            met_on="2024-01-15",
            newsletter=True,
            tier="Gold",
            topics=["CRM", "Müll"],
            backup_mail="anna@example.de",
        ),
        "bert": person(
            "Bert",
            nickname="Bärchen",
            shoe_size=44,
            budget="100.00",
            met_on="2023-12-31",
            newsletter=False,
            tier="Silber",
            topics=["ERP"],
        ),
        "carl": person("Carl"),
    }


def names(q) -> list[str]:
    return list(Person.objects.filter(q).order_by("last_name").values_list("last_name", flat=True))


@pytest.mark.parametrize(
    ("key", "value", "lookup", "expected"),
    [
        ("nickname", "Hansi Hase", "exact", ["Anna"]),
        ("nickname", "hase", "contains", ["Anna"]),
        ("nickname", "bär", "contains", ["Bert"]),
        ("shoe_size", "44", "exact", ["Bert"]),
        ("shoe_size", "40", "gte", ["Bert"]),
        ("shoe_size", "40", "lte", ["Anna"]),
        # decimals are stored as text but compared as numbers: 9.50 < 10 < 100.00
        ("budget", "10", "gte", ["Bert"]),
        ("budget", "10", "lte", ["Anna"]),
        ("budget", "9.5", "exact", ["Anna"]),
        ("met_on", "2024-01-01", "gte", ["Anna"]),
        ("met_on", "2024-01-01", "lte", ["Bert"]),
        ("met_on", "2024-01-15", "exact", ["Anna"]),
        ("newsletter", "true", "exact", ["Anna"]),
        ("newsletter", "false", "exact", ["Bert"]),
        ("tier", "Silber", "exact", ["Bert"]),
        ("topics", "Müll", "contains", ["Anna"]),
        ("topics", "ERP", "exact", ["Bert"]),
        ("topics", "CRM", "contains", ["Anna"]),
        ("backup_mail", "example.de", "contains", ["Anna"]),
        ("nickname", "true", "isnull", ["Carl"]),
        ("nickname", "false", "isnull", ["Anna", "Bert"]),
    ],
)
def test_filter_q_on_the_database(people, key, value, lookup, expected):
    assert names(customfields.filter_q(PERSON, key, value, lookup=lookup)) == expected


@pytest.mark.parametrize(
    ("key", "value", "lookup"),
    [
        ("ghost", "x", "exact"),
        ("shoe_size", "viele", "gte"),
        ("nickname", "a", "gte"),
        ("tier", "Platin", "exact"),
        ("shoe_size", "1", "regex"),
    ],
)
def test_filter_q_refuses_what_it_cannot_filter(fields, key, value, lookup):
    with pytest.raises(ValidationError) as exc_info:
        customfields.filter_q(PERSON, key, value, lookup=lookup)
    assert list(errors_of(exc_info)) == [f"custom.{key}"]


# --- Saving customers validates custom values ------------------------------------------


def test_create_validates_and_stores_custom_values(fields, owner):
    person = customer_services.person_create(
        actor=owner,
        data={"first_name": "Anna", "last_name": "Muster", "custom": {"shoe_size": "38"}},
    )
    assert Person.objects.get(pk=person.pk).custom == {"shoe_size": 38}


def test_create_refuses_a_wrong_type_and_saves_nothing(fields, owner):
    with pytest.raises(ValidationError) as exc_info:
        customer_services.person_create(
            actor=owner,
            data={"first_name": "Anna", "last_name": "Muster", "custom": {"shoe_size": "x"}},
        )
    assert "custom.shoe_size" in errors_of(exc_info)
    assert Person.objects.count() == 0


def test_create_enforces_required_custom_fields(owner):
    make("kdnr", "text", entity=ORG, required=True)
    with pytest.raises(ValidationError) as exc_info:
        customer_services.organization_create(actor=owner, data={"name": "Muster GmbH"})
    assert "custom.kdnr" in errors_of(exc_info)
    assert Organization.objects.count() == 0


def test_update_merges_and_keeps_archived_values(fields, owner):
    person = owned_by(
        PersonFactory, owner, custom={"shoe_size": 38, "nickname": "Hansi", "legacy": "alt"}
    )
    updated = customer_services.person_update(
        person=person, actor=owner, data={"custom": {"nickname": "", "tier": "Gold"}}
    )
    assert updated.custom == {"shoe_size": 38, "legacy": "alt", "tier": "Gold"}
    assert updated.version == 2


# --- Archive and restore ---------------------------------------------------------------


def test_archive_hides_the_field_and_keeps_its_values_restore_brings_them_back(
    fields, owner, admin
):
    person = owned_by(PersonFactory, owner, custom={"tier": "Gold", "shoe_size": 40})
    # given the field is archived
    customfield_services.custom_field_archive(actor=admin, field=fields["tier"])
    # then it is hidden everywhere …
    assert "cf_tier" not in customfields.form_fields(PERSON)
    assert "tier" not in [f["key"] for f in customfields.api_schema(PERSON)]
    assert customfields.active_values(PERSON, person.custom) == {"shoe_size": 40}
    with pytest.raises(ValidationError):
        customfields.filter_q(PERSON, "tier", "Gold")
    # … but an edit of the record keeps the value
    person = customer_services.person_update(
        person=person, actor=owner, data={"custom": {"shoe_size": 41}}
    )
    assert person.custom == {"tier": "Gold", "shoe_size": 41}
    # when it is restored, the value is back
    customfield_services.custom_field_restore(actor=admin, field=fields["tier"])
    assert customfields.active_values(PERSON, person.custom) == {"shoe_size": 41, "tier": "Gold"}
    assert names(customfields.filter_q(PERSON, "tier", "Gold")) == [person.last_name]
    entries = AuditEntry.objects.filter(object_id=fields["tier"].pk, action=AuditAction.UPDATE)
    assert [list(e.changes) for e in entries.order_by("id")] == [["archived_at"], ["archived_at"]]


# --- Services: definitions -------------------------------------------------------------


def test_create_a_field_is_audited_and_placed_last(fields, admin):
    field = customfield_services.custom_field_create(
        actor=admin,
        data={
            "entity": ORG,
            "key": "branche_intern",
            "label": "Branche (intern)",
            "field_type": "choice",
            "choices": [" A ", "B", "A", ""],
        },
    )
    assert (field.position, field.choices) == (0, ["A", "B"])
    second = customfield_services.custom_field_create(
        actor=admin, data={"entity": ORG, "key": "zweites", "label": "Z", "field_type": "text"}
    )
    assert second.position == 1
    entry = AuditEntry.objects.get(object_id=field.pk, action=AuditAction.CREATE)
    assert entry.changes["key"] == [None, "branche_intern"]


@pytest.mark.parametrize(
    ("data", "error_field"),
    [
        ({"key": "Schuh Größe"}, "key"),
        ({"key": "1st"}, "key"),
        ({"key": "a__b"}, "key"),
        ({"key": "nickname"}, "key"),  # taken
        ({"entity": "sales.opportunity"}, "entity"),
        ({"field_type": "colour"}, "field_type"),
        ({"field_type": "choice", "choices": []}, "choices"),
        ({"label": ""}, "label"),
    ],
)
def test_create_refuses_invalid_definitions(fields, admin, data, error_field):
    count = CustomField.objects.count()
    with pytest.raises(ValidationError) as exc_info:
        customfield_services.custom_field_create(
            actor=admin,
            data={"entity": PERSON, "key": "neu", "label": "Neu", "field_type": "text", **data},
        )
    assert error_field in errors_of(exc_info)
    assert CustomField.objects.count() == count


def test_a_key_taken_by_an_archived_field_stays_taken(fields, admin):
    customfield_services.custom_field_archive(actor=admin, field=fields["tier"])
    with pytest.raises(ValidationError):
        customfield_services.custom_field_create(
            actor=admin, data={"entity": PERSON, "key": "tier", "label": "T", "field_type": "text"}
        )


def test_the_key_cannot_change(fields, admin):
    with pytest.raises(ValidationError) as exc_info:
        customfield_services.custom_field_update(
            actor=admin, field=fields["tier"], data={"key": "stufe"}
        )
    assert list(errors_of(exc_info)) == ["key"]
    assert CustomField.objects.get(pk=fields["tier"].pk).key == "tier"


def test_the_type_changes_only_while_no_record_has_a_value(fields, owner, admin):
    field = customfield_services.custom_field_update(
        actor=admin, field=fields["shoe_size"], data={"field_type": "decimal"}
    )
    assert field.field_type == "decimal"
    owned_by(PersonFactory, owner, custom={"shoe_size": "38.5"})
    with translation.override("en"), pytest.raises(ValidationError) as exc_info:
        customfield_services.custom_field_update(
            actor=admin, field=field, data={"field_type": "text"}
        )
    assert errors_of(exc_info) == {
        "field_type": [
            "The type cannot change while records hold values for this field (1). "
            "Create a new field instead."
        ]
    }
    assert CustomField.objects.get(pk=field.pk).field_type == "decimal"


def test_move_reorders_the_fields(fields, admin):
    customfield_services.custom_field_move(actor=admin, field=fields["budget"], offset=-1)
    keys = [f.key for f in customfields.active_fields(PERSON)]
    assert keys[:4] == ["nickname", "story", "budget", "shoe_size"]


def test_only_administrators_may_define_fields(fields, owner):
    before = list(CustomField.objects.order_by("pk").values())
    with pytest.raises(PermissionDenied):
        customfield_services.custom_field_create(
            actor=owner, data={"entity": PERSON, "key": "x", "label": "X", "field_type": "text"}
        )
    for call in (
        lambda: customfield_services.custom_field_update(
            actor=owner, field=fields["tier"], data={"label": "Y"}
        ),
        lambda: customfield_services.custom_field_archive(actor=owner, field=fields["tier"]),
        lambda: customfield_services.custom_field_move(
            actor=owner, field=fields["tier"], offset=-1
        ),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert list(CustomField.objects.order_by("pk").values()) == before
    assert AuditEntry.objects.count() == 0


# --- Administration pages --------------------------------------------------------------


def test_admin_pages_are_refused_to_others_and_change_nothing(client, fields, owner):
    client.force_login(owner)
    before = list(CustomField.objects.order_by("pk").values())
    pk = fields["tier"].pk
    requests = [
        ("get", reverse("core:customfield_list"), {}),
        ("get", reverse("core:customfield_create"), {}),
        (
            "post",
            reverse("core:customfield_create") + "?entity=customers.person",
            {"key": "x", "label": "X", "field_type": "text"},
        ),
        ("post", reverse("core:customfield_edit", args=[pk]), {"label": "Y", "field_type": "text"}),
        ("post", reverse("core:customfield_archive", args=[pk]), {}),
        ("post", reverse("core:customfield_move", args=[pk]), {"direction": "up"}),
    ]
    for method, url, data in requests:
        assert getattr(client, method)(url, data).status_code == 403, url
    assert list(CustomField.objects.order_by("pk").values()) == before
    assert AuditEntry.objects.count() == 0


def test_admin_creates_edits_archives_and_restores_a_field(client, admin):
    client.force_login(admin)
    response = client.get(reverse("core:admin_home"))
    assert reverse("core:customfield_list") in response.content.decode()
    response = client.post(
        reverse("core:customfield_create") + "?entity=customers.organization",
        {
            "key": "rating",
            "label": "Bewertung",
            "label_en": "Rating",
            "field_type": "choice",
            "choices": "A\nB\nC",
            "help_text": "",
        },
    )
    assert response.status_code == 302
    field = CustomField.objects.get(entity=ORG, key="rating")
    assert field.choices == ["A", "B", "C"]
    form_page = client.get(reverse("core:customfield_create"), {"entity": ORG})
    assert form_page.status_code == 200
    edit_page = client.get(reverse("core:customfield_edit", args=[field.pk]))
    assert (edit_page.status_code, edit_page.context["values_count"]) == (200, 0)
    assert edit_page.context["form"].fields["key"].disabled
    response = client.get(reverse("core:customfield_list"), {"entity": ORG})
    assert 'data-field="rating"' in response.content.decode()
    # the key field is disabled on edit: a posted key is ignored
    response = client.post(
        reverse("core:customfield_edit", args=[field.pk]),
        {"key": "other", "label": "Kundenwert", "field_type": "choice", "choices": "A\nB"},
    )
    assert response.status_code == 302
    field.refresh_from_db()
    assert (field.key, field.label, field.choices) == ("rating", "Kundenwert", ["A", "B"])
    client.post(reverse("core:customfield_archive", args=[field.pk]))
    assert CustomField.objects.get(pk=field.pk).archived_at is not None
    client.post(reverse("core:customfield_restore", args=[field.pk]))
    assert CustomField.objects.get(pk=field.pk).archived_at is None


def test_admin_form_shows_service_errors(client, admin, fields):
    client.force_login(admin)
    response = client.post(
        reverse("core:customfield_create") + "?entity=customers.person",
        {"key": "nickname", "label": "Doppelt", "field_type": "text"},
    )
    assert response.status_code == 422
    assert response.context["form"].errors["key"]
    assert CustomField.objects.filter(key="nickname").count() == 1


def test_type_change_with_values_is_refused_on_the_page(client, admin, owner, fields):
    owned_by(OrganizationFactory, owner)  # unrelated record
    owned_by(PersonFactory, owner, custom={"shoe_size": 40})
    client.force_login(admin)
    response = client.post(
        reverse("core:customfield_edit", args=[fields["shoe_size"].pk]),
        {"label": "Schuh", "field_type": "text"},
    )
    assert response.status_code == 422
    assert response.context["form"].errors["field_type"]
    assert CustomField.objects.get(pk=fields["shoe_size"].pk).field_type == "number"


# --- API ---------------------------------------------------------------------------------


def test_api_lists_the_fields_of_an_entity(client, fields, owner):
    response = client.get(
        "/api/v1/custom-fields",
        {"entity": PERSON},
        HTTP_ACCEPT_LANGUAGE="en",
        **reader(owner),
    )
    assert response.status_code == 200
    body = response.json()
    assert [f["key"] for f in body] == list(fields)
    assert body[6] == {
        "key": "tier",
        "label": "Tier",
        "type": "choice",
        "required": False,
        "choices": ["Gold", "Silber", "Bronze"],
        "help_text": "",
    }


def test_api_refuses_an_unknown_entity(client, owner):
    response = client.get("/api/v1/custom-fields", {"entity": "core.user"}, **reader(owner))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "entity"


def test_api_needs_authentication(client):
    assert client.get("/api/v1/custom-fields", {"entity": PERSON}).status_code == 401
