import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from kontor.core.models import CustomField, Role
from kontor.core.permissions import RoleCode
from kontor.customers.models import Note, Organization
from kontor.mail import merge
from tests.core.factories import UserFactory
from tests.customers.factories import PersonFactory, owned_by


def render(source, *, person, actor, language="de"):
    context = merge.context_for(person=person, actor=actor, language=language)
    return merge.render(subject="S", body=source, context=context, language=language)[1]


@pytest.fixture
def mueller(owner):
    org = Organization.objects.create(name="Hansen Maschinenbau GmbH", city="Bremen", owner=owner)
    return owned_by(
        PersonFactory,
        owner,
        salutation="mr",
        title="Dr.",
        first_name="Hans",
        last_name="Müller",
        email="hans.mueller@example.de",
        organization=org,
        birth_date=datetime.date(1970, 3, 5),
        interests="Segeln",
        custom={"shoe_size": 44},
    )


def test_standard_fields_custom_fields_and_notes_are_merged(owner, mueller):
    CustomField.objects.create(
        entity="customers.person", key="shoe_size", label="Schuhgröße", field_type="number"
    )
    Note.objects.create(person=mueller, author=owner, text="Älter")
    Note.objects.create(person=mueller, author=owner, text="Wie war der Urlaub an der Ostsee?")
    source = (
        "{{ person.letter_salutation }},\n{{ notes.latest }}\n"
        "{{ organization.name }} / {{ custom.shoe_size }} / {{ person.birth_date|date:'d.m.Y' }}"
        " / {{ person.first_name|upper }} / {{ sender.full_name }} / {{ notes.all|join:'+' }}"
    )
    text = render(source, person=mueller, actor=owner)
    assert text == (
        "Sehr geehrter Herr Dr. Müller,\nWie war der Urlaub an der Ostsee?\n"
        f"Hansen Maschinenbau GmbH / 44 / 05.03.1970 / HANS / {owner.get_full_name()}"
        " / Wie war der Urlaub an der Ostsee?+Älter"
    )


@pytest.mark.parametrize(
    ("salutation", "title", "language", "expected"),
    [
        ("mr", "Dr.", "de", "Sehr geehrter Herr Dr. Müller"),
        ("ms", "", "de", "Sehr geehrte Frau Müller"),
        ("diverse", "", "de", "Guten Tag Alex Müller"),
        ("", "", "de", "Guten Tag Alex Müller"),
        ("mr", "", "en", "Dear Mr Müller"),
        ("ms", "Prof.", "en", "Dear Prof. Müller"),
        ("diverse", "", "en", "Dear Alex Müller"),
    ],
)
def test_letter_salutation_by_salutation_and_language(salutation, title, language, expected):
    assert (
        merge.letter_salutation(
            salutation=salutation,
            title=title,
            first_name="Alex",
            last_name="Müller",
            language=language,
        )
        == expected
    )


def test_the_language_is_the_templates_else_the_persons():
    assert merge.letter_language(template_language="en", person_language="de") == "en"
    assert merge.letter_language(template_language="", person_language="en") == "en"
    assert merge.letter_language(template_language="", person_language="xx") == "de"


def test_an_unknown_field_is_an_error_listing_the_valid_ones(owner, mueller):
    with pytest.raises(ValidationError) as caught:
        render("Hallo {{ person.frist_name }}", person=mueller, actor=owner)
    message = caught.value.message_dict["body"][0]
    assert message.startswith("Unknown merge field: person.frist_name. Valid fields: ")
    assert "person.first_name" in message


@pytest.mark.parametrize(
    "source",
    [
        "{% load static %}",
        "{% include 'base.html' %}",
        "{% if person.first_name %}x{% endif %}",
        "{% url 'mail:compose' %}",
        "{% debug %}",
    ],
)
def test_tags_are_refused(owner, mueller, source):
    with pytest.raises(ValidationError) as caught:
        render(source, person=mueller, actor=owner)
    assert caught.value.message_dict["body"][0].startswith("Only fields in {{ … }} are allowed")


@pytest.mark.parametrize(
    "source",
    [
        "{{ person }}",  # the whole dict
        "{{ person.first_name.upper }}",  # no method calls
        "{{ person.first_name|pprint }}",  # filter not allowed
        "{{ person.first_name|safe }}",
        "{{ }}",
        "{{ person.first_name|default:sender.password }}",
    ],
)
def test_anything_but_known_fields_and_allowed_filters_is_refused(owner, mueller, source):
    with pytest.raises(ValidationError) as caught:
        render(source, person=mueller, actor=owner)
    assert list(caught.value.message_dict) == ["body"]


def test_text_is_not_html_escaped(owner, mueller):
    mueller.last_name = "O'Brien & <Co>"
    assert render("{{ person.last_name }}", person=mueller, actor=owner) == "O'Brien & <Co>"


def test_psychographic_fields_only_for_roles_that_may_see_them(owner, mueller):
    assert render("{{ person.interests }}", person=mueller, actor=owner) == "Segeln"
    service = UserFactory(username="service", role=Role.objects.get(code=RoleCode.SERVICE_AGENT))
    with pytest.raises(ValidationError) as caught:
        render("{{ person.interests }}", person=mueller, actor=service)
    assert caught.value.message_dict["body"] == [
        "Your role may not use the psychographic fields: person.interests."
    ]
    assert "person.interests" not in [
        name for group in merge.available_fields(actor=service) for name, _label in group.fields
    ]


def test_a_missing_note_index_is_empty_and_a_person_without_organization_works(owner):
    person = owned_by(PersonFactory, owner, first_name="Eva", last_name="Berg")
    text = render(
        "[{{ notes.latest }}][{{ notes.all.3 }}][{{ organization.name|default:'privat' }}]",
        person=person,
        actor=owner,
    )
    assert text == "[][][privat]"


def test_the_subject_is_one_line(owner, mueller):
    context = merge.context_for(person=mueller, actor=owner, language="de")
    subject, _body = merge.render(
        subject="Hallo\r\n{{ person.last_name }}", body="x", context=context, language="de"
    )
    assert subject == "Hallo Müller"


def test_available_fields_include_custom_fields(owner):
    CustomField.objects.create(
        entity="customers.person", key="shoe_size", label="Schuhgröße", field_type="number"
    )
    with translation.override("en"):
        groups = {g.label: g.fields for g in merge.available_fields(actor=owner)}
    assert groups["Custom fields"] == [("custom.shoe_size", "Schuhgröße")]
    assert ("person.letter_salutation", "Letter salutation (Dear Mr Müller)") in groups["Person"]
