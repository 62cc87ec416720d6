"""Merge fields in e-mail templates: ``{{ person.first_name }}``, ``{{ custom.shoe_size }}``,
``{{ notes.latest }}``, ``{{ person.letter_salutation }}`` …

Subject and text are rendered by a Django template engine of their own, locked down:
no loaders (no ``{% include %}``/``{% extends %}``), no tags at all (``{% load %}``,
``{% if %}``, ``{% url %}`` … are refused before anything is compiled), a short list of
harmless filters (default, upper, date …), autoescape off (plain-text mail). The
output is plain text: a ``str``, never Django's SafeString, so every page that shows
it escapes it (a last name ``<b hx-post=…>`` stays text in the compose preview, the
pre-filled fields and the sent mail). There are no HTML templates: an HTML part
would have to be built from this text, escaped, or cleaned by nh3. The
context is plain dicts and strings built here, never model instances, so nothing a
template writes can call a method or reach the database. Every ``{{ … }}`` is checked
against the fields the actor may use; an unknown one is a ValidationError naming it
and listing the valid names — never an exception page.

Psychographic fields (interests, values …) are in the context only for roles with
customers.psychographic."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template import Context, Engine, Library, TemplateSyntaxError, defaultfilters
from django.template.base import Lexer, TokenType, VariableNode
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kontor.core import customfields
from kontor.core.access import user_can
from kontor.core.models import CustomField
from kontor.core.permissions import Capability
from kontor.customers.models import PSYCHOGRAPHIC_FIELDS, Note, Person

# Filters a template may use: formatting only, nothing that reveals structure.
ALLOWED_FILTERS = (
    "default",
    "default_if_none",
    "upper",
    "lower",
    "title",
    "capfirst",
    "date",
    "time",
    "truncatechars",
    "truncatewords",
    "join",
    "first",
    "last",
    "length",
    "yesno",
    "wordwrap",
    "cut",
    "floatformat",
)

# A variable the template asks for but the context lacks renders as this; seen in the
# output it becomes an error (a second line of defence behind the static check).
_INVALID = "\x00KONTOR-INVALID:%s\x00"

# The list of notes may be indexed (``notes.all.0``); an index past the end is empty.
_LIST_FIELDS = {("notes", "all")}


def _engine() -> Engine:
    engine = Engine(
        dirs=[],
        app_dirs=False,
        loaders=[],
        libraries={},
        autoescape=False,
        string_if_invalid=_INVALID,
        debug=False,
    )
    # Only the allowed filters, and no tags whatsoever (the tokens are checked first,
    # this is the belt to those braces).
    library = Library()
    for name in ALLOWED_FILTERS:
        library.filters[name] = defaultfilters.register.filters[name]
    engine.template_builtins = [library]
    return engine


ENGINE = _engine()


# --- The fields -----------------------------------------------------------------------------

PERSON_FIELDS = {
    "salutation": gettext_lazy("Salutation (Mr/Ms)"),
    "letter_salutation": gettext_lazy("Letter salutation (Dear Mr Müller)"),
    "title": gettext_lazy("Title"),
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "full_name": gettext_lazy("Full name"),
    "email": gettext_lazy("E-mail"),
    "phone": gettext_lazy("Phone"),
    "mobile": gettext_lazy("Mobile"),
    "street": gettext_lazy("Street"),
    "postal_code": gettext_lazy("Postal code"),
    "city": gettext_lazy("City"),
    "country": gettext_lazy("Country"),
    "birth_date": gettext_lazy("Birth date"),
    "job_title": gettext_lazy("Job title"),
    "department": gettext_lazy("Department"),
    "profession": gettext_lazy("Profession"),
}
PSYCHOGRAPHIC_LABELS = {
    "interests": gettext_lazy("Interests"),
    "values": gettext_lazy("Values"),
    "attitudes": gettext_lazy("Attitudes"),
    "preferences": gettext_lazy("Preferences"),
}
ORGANIZATION_FIELDS = {
    "name": gettext_lazy("Name"),
    "legal_name": gettext_lazy("Legal name"),
    "street": gettext_lazy("Street"),
    "postal_code": gettext_lazy("Postal code"),
    "city": gettext_lazy("City"),
    "country": gettext_lazy("Country"),
    "website": gettext_lazy("Website"),
    "phone": gettext_lazy("Phone"),
    "email": gettext_lazy("E-mail"),
    "customer_number": gettext_lazy("Customer number"),
    "industry": gettext_lazy("Industry"),
}
NOTES_FIELDS = {
    "latest": gettext_lazy("Newest note"),
    "all": gettext_lazy("All notes (use |join)"),
}
SENDER_FIELDS = {
    "full_name": gettext_lazy("Your full name"),
    "first_name": gettext_lazy("Your first name"),
    "last_name": gettext_lazy("Your last name"),
    "email": gettext_lazy("Your e-mail"),
}

# Salutations are part of the letter, in the letter's language (not the user's).
_SALUTATION_WORDS = {
    "de": {"mr": "Herr", "ms": "Frau"},
    "en": {"mr": "Mr", "ms": "Ms"},
}


def letter_language(*, template_language: str = "", person_language: str = "") -> str:
    """The template's language if it has one, else the person's, else the default."""
    known = {code for code, _name in settings.LANGUAGES}
    for candidate in (template_language, person_language, settings.LANGUAGE_CODE):
        code = (candidate or "").split("-")[0].lower()
        if code in known:
            return code
    return "de"


def letter_salutation(
    *, salutation: str, title: str, first_name: str, last_name: str, language: str
) -> str:
    """ "Sehr geehrter Herr Dr. Müller", "Sehr geehrte Frau Schulz", "Guten Tag Alex Berg"
    (diverse or no salutation); in English "Dear Mr Müller", "Dear Dr Schulz", "Dear Alex Berg"."""
    title = title.strip()
    if language == "en":
        if title and salutation in ("mr", "ms"):
            return f"Dear {title} {last_name}".strip()
        if salutation in ("mr", "ms"):
            return f"Dear {_SALUTATION_WORDS['en'][salutation]} {last_name}".strip()
        name = " ".join(p for p in (first_name, last_name) if p)
        return f"Dear {name}".strip()
    name_with_title = " ".join(p for p in (title, last_name) if p)
    if salutation == "mr":
        return f"Sehr geehrter Herr {name_with_title}".strip()
    if salutation == "ms":
        return f"Sehr geehrte Frau {name_with_title}".strip()
    name = " ".join(p for p in (title, first_name, last_name) if p)
    return f"Guten Tag {name}".strip()


def _person_dict(person: Person, *, language: str, psychographic: bool) -> dict[str, Any]:
    words = _SALUTATION_WORDS.get(language, _SALUTATION_WORDS["en"])
    values: dict[str, Any] = {
        "salutation": words.get(person.salutation, ""),
        "letter_salutation": letter_salutation(
            salutation=person.salutation,
            title=person.title,
            first_name=person.first_name,
            last_name=person.last_name,
            language=language,
        ),
        "title": person.title,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "full_name": person.full_name,
        "email": person.email,
        "phone": person.phone,
        "mobile": person.mobile,
        "street": person.street,
        "postal_code": person.postal_code,
        "city": person.city,
        "country": person.country,
        "birth_date": person.birth_date,
        "job_title": person.job_title,
        "department": person.department,
        "profession": person.profession,
    }
    if psychographic:
        values.update({name: getattr(person, name) for name in PSYCHOGRAPHIC_FIELDS})
    return values


def _organization_dict(organization) -> dict[str, Any]:
    if organization is None:
        return {name: "" for name in ORGANIZATION_FIELDS}
    return {name: str(getattr(organization, name) or "") for name in ORGANIZATION_FIELDS}


def _sender_dict(actor) -> dict[str, str]:
    if actor is None:
        return {name: "" for name in SENDER_FIELDS}
    return {
        "full_name": actor.get_full_name() or actor.get_username(),
        "first_name": actor.first_name,
        "last_name": actor.last_name,
        "email": actor.email,
    }


def _custom_fields() -> list[CustomField]:
    return customfields.active_fields(customfields.entity_of(Person))


def _custom_dict(custom: dict[str, Any], fields: list[CustomField]) -> dict[str, str]:
    shown = customfields.display_values(customfields.entity_of(Person), custom, fields=fields)
    return {field.key: text for field, (_label, text) in zip(fields, shown, strict=True)}


def may_see_psychographic(actor) -> bool:
    return actor is not None and user_can(actor, Capability.CUSTOMERS_PSYCHOGRAPHIC)


def context_for(*, person: Person, actor, language: str) -> dict[str, Any]:
    """The merge context for ``person`` written by ``actor``: plain values only.
    Three queries: the organization, the custom field definitions and the notes."""
    fields = _custom_fields()
    texts = list(Note.objects.filter(person=person).values_list("text", flat=True))
    organization = person.organization if person.organization_id else None
    with translation.override(language):
        return {
            "person": _person_dict(
                person, language=language, psychographic=may_see_psychographic(actor)
            ),
            "organization": _organization_dict(organization),
            "custom": _custom_dict(person.custom or {}, fields),
            "notes": {"latest": texts[0] if texts else "", "all": texts},
            "sender": _sender_dict(actor),
            "today": timezone.localdate(),
        }


def sample_context(*, actor, language: str) -> dict[str, Any]:
    """A made-up person to try a template against (when it is saved)."""
    sample = Person(
        salutation="ms",
        title="Dr.",
        first_name="Erika",
        last_name="Mustermann",
        email="erika.mustermann@example.com",
        phone="+49 30 1234567",
        mobile="+49 170 1234567",
        street="Heidestraße 17",
        postal_code="51147",
        city="Köln",
        country="DE",
        birth_date=datetime.date(1964, 8, 12),
        job_title="Einkaufsleiterin",
        department="Einkauf",
        profession="Ingenieurin",
        interests="…",
        values="…",
        attitudes="…",
        preferences="…",
    )
    fields = _custom_fields()
    note = _("A note about the person.")
    with translation.override(language):
        return {
            "person": _person_dict(
                sample, language=language, psychographic=may_see_psychographic(actor)
            ),
            "organization": {
                **_organization_dict(None),
                "name": "Musterfirma GmbH",
                "city": "Köln",
            },
            "custom": {field.key: "…" for field in fields},
            "notes": {"latest": note, "all": [note]},
            "sender": _sender_dict(actor),
            "today": timezone.localdate(),
        }


@dataclass(frozen=True)
class FieldGroup:
    label: str
    fields: list[tuple[str, str]]  # (the merge field, e.g. "person.first_name"; its label)


def available_fields(*, actor) -> list[FieldGroup]:
    """The merge fields ``actor`` may use, grouped, for the picker in the forms."""

    def group(label, prefix: str, fields: dict) -> FieldGroup:
        return FieldGroup(str(label), [(f"{prefix}.{k}", str(v)) for k, v in fields.items()])

    person = dict(PERSON_FIELDS)
    if may_see_psychographic(actor):
        person.update(PSYCHOGRAPHIC_LABELS)
    custom = [(f"custom.{f.key}", customfields.label_of(f)) for f in _custom_fields()]
    groups = [
        group(_("Person"), "person", person),
        group(_("Organization"), "organization", ORGANIZATION_FIELDS),
    ]
    if custom:
        groups.append(FieldGroup(_("Custom fields"), custom))
    groups += [
        group(_("Notes"), "notes", NOTES_FIELDS),
        group(_("Sender"), "sender", SENDER_FIELDS),
        FieldGroup(_("Other"), [("today", _("Today's date"))]),
    ]
    return groups


# --- Checking and rendering -------------------------------------------------------------------


def _paths(context: dict[str, Any], prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    found = set()
    for key, value in context.items():
        path = (*prefix, key)
        if isinstance(value, dict):
            found |= _paths(value, path)
        else:
            found.add(path)
    return found


def _known(lookups: tuple[str, ...], paths: set[tuple[str, ...]]) -> bool:
    if lookups in paths:
        return True
    # notes.all.0, notes.all.1 …
    return len(lookups) == 3 and lookups[:2] in _LIST_FIELDS and lookups[2].isdigit()


def _field_name(lookups: tuple[str, ...]) -> str:
    return ".".join(lookups)


def _variables(template) -> list:
    """Every variable a compiled template reads: the one in each {{ }} and those
    given to filters as arguments."""
    found = []
    for node in template.nodelist.get_nodes_by_type(VariableNode):
        expression = node.filter_expression
        found.append(expression.var)
        for _func, args in expression.filters:
            found += [arg for lookup, arg in args if lookup]
    return found


def _compile(source: str, *, field: str, context: dict[str, Any]):
    """The compiled template, or a ValidationError keyed ``field`` saying what is wrong."""
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            raise ValidationError(
                {
                    field: [
                        _("Only fields in {{ … }} are allowed here, not {%% %(tag)s %%}.")
                        % {"tag": token.contents.split()[0] if token.contents else ""}
                    ]
                }
            )
    try:
        template = ENGINE.from_string(source)
    except TemplateSyntaxError as exc:
        message = str(exc)
        if message.startswith("Invalid filter"):
            message = _("%(error)s. Allowed filters: %(filters)s.") % {
                "error": message,
                "filters": ", ".join(ALLOWED_FILTERS),
            }
        raise ValidationError(
            {field: [_("The merge fields cannot be read: %(error)s") % {"error": message}]}
        ) from exc
    paths = _paths(context)
    unknown = []
    for variable in _variables(template):
        if getattr(variable, "literal", None) is not None or not hasattr(variable, "lookups"):
            continue  # a quoted text or a number
        if variable.lookups and not _known(variable.lookups, paths):
            unknown.append(variable.lookups)
    if unknown:
        names = ", ".join(dict.fromkeys(_field_name(u) for u in unknown))
        restricted = [
            u for u in unknown if len(u) > 1 and u[0] == "person" and u[1] in PSYCHOGRAPHIC_FIELDS
        ]
        if restricted:
            message = _("Your role may not use the psychographic fields: %(names)s.")
        else:
            message = _("Unknown merge field: %(names)s. Valid fields: %(valid)s.")
        raise ValidationError(
            {
                field: [
                    message
                    % {
                        "names": names,
                        "valid": ", ".join(sorted(_field_name(p) for p in paths)),
                    }
                ]
            }
        )
    return template


def _plain(text: str) -> str:
    """``text`` as an exact ``str`` (str.__str__ copies a subclass such as SafeString)."""
    return str.__str__(text)


def _render_one(source: str, *, field: str, context: dict[str, Any], language: str) -> str:
    template = _compile(source, field=field, context=context)
    with translation.override(language):
        # Template.render marks its output safe (a SafeString), which would let the
        # merged values through every page unescaped: drop the mark, it is text.
        text = _plain(template.render(Context(context, autoescape=False)))
    if "\x00KONTOR-INVALID:" in text:
        # Only a list index past the end gets here (every other path was checked): empty.
        for lookups in _LIST_FIELDS:
            prefix = "\x00KONTOR-INVALID:" + _field_name(lookups) + "."
            while prefix in text:
                start = text.index(prefix)
                end = text.index("\x00", start + 1)
                text = text[:start] + text[end + 1 :]
        if "\x00KONTOR-INVALID:" in text:
            start = text.index("\x00KONTOR-INVALID:") + len("\x00KONTOR-INVALID:")
            name = text[start : text.index("\x00", start)]
            raise ValidationError({field: [_("Unknown merge field: %(names)s.") % {"names": name}]})
    return text


def check(*, subject: str, body: str, context: dict[str, Any]) -> None:
    """Raise a ValidationError (keyed subject/body) if either cannot be rendered
    against ``context``; both fields' errors at once."""
    render(subject=subject, body=body, context=context, language=settings.LANGUAGE_CODE)


def render(*, subject: str, body: str, context: dict[str, Any], language: str) -> tuple[str, str]:
    """(subject, body) with the merge fields filled in. The subject comes back on one
    line (a line break in a header would be refused by the mail library anyway)."""
    errors: dict[str, list[str]] = {}
    results = {}
    for field, source in (("subject", subject), ("body", body)):
        try:
            results[field] = _render_one(
                source or "", field=field, context=context, language=language
            )
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    rendered_subject = " ".join(results["subject"].split())
    return rendered_subject, results["body"]
