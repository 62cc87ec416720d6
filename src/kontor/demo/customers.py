"""The customer features in the demo data: what the services derive when they save a
record, made in bulk for the rows ``data.py`` generated.

At generation time (called from the row generators): phone numbers that are valid
E.164, departments, and the duplicate key columns — derived with
customers.duplicates' own functions, once per distinct surname, city, phone number
and company name. After the insert (``customers_finish``), set-based: a few
deliberate near-duplicates, customer numbers, subsidiaries, contact roles with a
buying center, tags, equipment, a few notes and custom field values.
"""

# S608: the SQL names only tables and columns from the models' _meta.
# ruff: noqa: S608

import contextlib
import functools
import random
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from types import SimpleNamespace

import phonenumbers
from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    ExpressionWrapper,
    F,
    JSONField,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat, JSONObject, Mod
from django.db.models.lookups import Exact
from django.utils import timezone

from kontor.core.models import CustomField, CustomFieldType
from kontor.customers import notes
from kontor.customers.backfill import contact_roles_link_primary, customer_numbers_assign
from kontor.customers.duplicates import derive_organization_keys, derive_person_keys
from kontor.customers.models import (
    ContactRole,
    CustomerKind,
    Equipment,
    Note,
    Organization,
    Person,
    Tag,
)

# Area codes with the subscriber number length that makes a valid number
# (checked with phonenumbers when the pool is made).
LANDLINE_PREFIXES = [
    ("30", 8),  # Berlin
    ("40", 8),  # Hamburg
    ("89", 8),  # München
    ("69", 8),  # Frankfurt
    ("221", 7),  # Köln
    ("211", 7),  # Düsseldorf
    ("711", 7),  # Stuttgart
    ("511", 7),  # Hannover
    ("911", 7),  # Nürnberg
    ("341", 7),  # Leipzig
    ("351", 7),  # Dresden
    ("231", 7),  # Dortmund
    ("201", 7),  # Essen
    ("421", 7),  # Bremen
    ("621", 7),  # Mannheim
]
MOBILE_PREFIXES = [("151", 8), ("152", 8), ("157", 8), ("160", 8), ("162", 8), ("170", 8)]
MOBILE_SHARE = 0.6

DEPARTMENT_OF = {
    "Geschäftsführer": "Geschäftsführung",
    "Assistenz der Geschäftsführung": "Geschäftsführung",
    "Einkaufsleiterin": "Einkauf",
    "Einkäufer": "Einkauf",
    "Sachbearbeiterin Einkauf": "Einkauf",
    "Technischer Leiter": "Technik",
    "Werksleiter": "Produktion",
    "Leiterin Qualitätssicherung": "Qualitätssicherung",
    "Vertriebsleiter": "Vertrieb",
    "IT-Leiter": "IT",
}
# Buying-center roles by job title; the first contact of each organization is its
# decider. Titles not listed get no role.
BUYING_ROLES_OF = {
    "Geschäftsführer": '["influencer", "initiator"]',
    "Einkaufsleiterin": '["buyer", "influencer"]',
    "Einkäufer": '["buyer"]',
    "Sachbearbeiterin Einkauf": '["buyer"]',
    "Technischer Leiter": '["influencer"]',
    "Werksleiter": '["user", "influencer"]',
    "Leiterin Qualitätssicherung": '["user"]',
    "Assistenz der Geschäftsführung": '["gatekeeper"]',
    "IT-Leiter": '["initiator", "user"]',
}
REVENUE_BANDS = ["lt1m", "1m-10m", "10m-50m", "50m-250m", "gt250m"]

TAGS = [
    "A-Kunde",
    "B-Kunde",
    "C-Kunde",
    "Messe 2025",
    "Newsletter",
    "Rahmenvertrag",
    "Referenzkunde",
    "Wartungsvertrag",
    "Key Account",
    "Export",
]
TAGGED_PER_MILLE = 200  # ~20% of the records get a tag, some of them a second one
PRODUCTS = [
    ("CNC-Fräsmaschine", "FM 800"),
    ("Drehmaschine", "DL 420"),
    ("Laserschneider", "LS 3015"),
    ("Kompressor", "KP 55"),
    ("Industrieroboter", "IR 6-900"),
    ("Förderband", "FB 1200"),
]
EQUIPMENT_SHARE = 0.3
NEWSLETTER_TOPICS = ["Produkte", "Veranstaltungen", "Service", "Fachartikel"]
NOTE_TEXTS = [
    "## Besuch vor Ort\n\nGespräch mit der **Geschäftsführung**: Interesse an "
    "*Wartungsvertrag*.\n\n- Angebot bis Monatsende\n- Referenzkunden nennen",
    "Rückruf erbeten, am besten **vormittags**. Ansprechpartner im Einkauf wechselt.",
    "Messekontakt. Unterlagen geschickt, siehe [Produktseite](https://kontor.example/produkte).",
    "| Thema | Stand |\n|---|---|\n| Rahmenvertrag | in Prüfung |\n| Schulung | geplant |",
]
# Values of the persons' custom fields (see _custom_fields), drawn at generation time:
# a third of the persons get one of the six combinations.
PERSON_CUSTOM_VALUES = [
    *([{}] * 12),
    {"newsletter_topics": NEWSLETTER_TOPICS[:1]},
    {"newsletter_topics": NEWSLETTER_TOPICS[1:3], "contact_time": "vormittags"},
    {"newsletter_topics": NEWSLETTER_TOPICS[3:]},
    {"contact_time": "nachmittags"},
    {"newsletter_topics": NEWSLETTER_TOPICS, "contact_time": "vormittags"},
    {"newsletter_topics": NEWSLETTER_TOPICS[2:3]},
]
TWINS = 10  # deliberate near-duplicates per load, fewer for tiny loads


# --- At generation time -------------------------------------------------------------------


def phone_pool(rnd: random.Random, size: int, prefixes) -> list[str]:
    """``size`` German numbers in E.164 as the services store them, each valid."""
    numbers: list[str] = []
    while len(numbers) < size:
        prefix, length = rnd.choice(prefixes)
        number = f"+49{prefix}{rnd.randrange(10 ** (length - 1), 10**length)}"
        if phonenumbers.is_valid_number(phonenumbers.parse(number)):
            numbers.append(number)
    return numbers


PERSON_KEY_FIELDS = ["email_key", "phone_key", "name_key", "phonetic_key", "city_key"]
ORGANIZATION_KEY_FIELDS = [
    "name_key",
    "phonetic_key",
    "city_key",
    "email_key",
    "phone_key",
    "domain_key",
    "vat_key",
]
_PERSON_BLANK = {"email": "", "phone": "", "mobile": "", "last_name": "", "city": ""}


class MatchKeys:
    """The duplicate key columns of generated rows, from the derive functions of
    customers.duplicates: called once per distinct surname, city, phone number and
    company name (Kölner Phonetik and phone parsing are the expensive parts)."""

    def __init__(self) -> None:
        self._surname: dict[str, tuple[str, str]] = {}
        self._city: dict[str, str] = {}
        self._phone: dict[str, str] = {}
        self._company: dict[str, tuple[str, str]] = {}

    @staticmethod
    def _person(**values) -> SimpleNamespace:
        record = SimpleNamespace(**{**_PERSON_BLANK, "country": "DE", **values})
        derive_person_keys(record)
        return record

    def _city_key(self, city: str) -> str:
        if city not in self._city:
            self._city[city] = self._person(city=city).city_key
        return self._city[city]

    def _phone_key(self, phone: str) -> str:
        if phone not in self._phone:
            self._phone[phone] = self._person(phone=phone).phone_key
        return self._phone[phone]

    def person(self, *, last_name: str, city: str, email: str, phone: str) -> tuple:
        """Values for PERSON_KEY_FIELDS. ``phone`` is always set in the demo, so the
        mobile never stands in for it."""
        if last_name not in self._surname:
            record = self._person(last_name=last_name)
            self._surname[last_name] = (record.name_key, record.phonetic_key)
        # derive_person_keys strips and lower-cases the address; the generated ones
        # have no spaces (test_demo checks the keys against derive_person_keys).
        return (
            email.lower(),
            self._phone_key(phone),
            *self._surname[last_name],
            self._city_key(city),
        )

    def organization(
        self, *, name: str, city: str, email: str, phone: str, website: str, vat_id: str
    ) -> tuple:
        """Values for ORGANIZATION_KEY_FIELDS: the name's keys cached per name, the
        cheap ones (e-mail, domain, VAT ID) derived for every row."""
        record = SimpleNamespace(
            name="", city="", phone="", email=email, website=website, vat_id=vat_id, country="DE"
        )
        derive_organization_keys(record)
        if name not in self._company:
            named = SimpleNamespace(**{**vars(record), "name": name})
            derive_organization_keys(named)
            self._company[name] = (named.name_key, named.phonetic_key)
        return (
            *self._company[name],
            self._city_key(city),
            record.email_key,
            self._phone_key(phone),
            record.domain_key,
            record.vat_key,
        )


# --- After the insert -----------------------------------------------------------------------


def customers_finish(
    *,
    writer,
    seed: int,
    organizations_after: int,
    persons_after: int,
    author,
    progress: Callable[[str], object],
) -> dict:
    """The set-based steps for the organizations and persons with ids above
    ``organizations_after`` / ``persons_after`` (this load's rows)."""
    rnd = random.Random(seed)
    persons = Person.objects.filter(pk__gt=persons_after)
    organizations = Organization.objects.filter(pk__gt=organizations_after)
    counts = {}
    step = functools.partial(_timed, progress)
    with step("near-duplicates"):
        counts["near-duplicates"] = _near_duplicates(persons, rnd)
    with step("customer numbers, subsidiaries, ERP numbers"):
        _custom_fields()
        # One UPDATE: each rewrite of 200k rows costs seconds (all their indexes).
        customer_numbers_assign(
            organizations,
            parent_id=_subsidiary_parent(
                organizations.order_by("pk").values_list("pk", flat=True).first() or 0
            ),
            custom=_erp_number(),
        )
    with step("contact roles"):
        counts["contact roles"] = _contact_roles(persons_after)
    with step("tags"):
        counts["tag links"] = _tags(persons_after, organizations_after)
    with step("equipment"):
        counts["equipment"] = _equipment(writer, rnd, organizations)
    with step("notes"):
        counts["notes"] = _notes(rnd, persons, organizations, author)
    _analyze([ContactRole, Equipment, Person.tags.through, Organization.tags.through])
    return counts


@contextlib.contextmanager
def _timed(progress, label: str) -> Iterator[None]:
    started = time.monotonic()
    yield
    progress(f"  {label}: {time.monotonic() - started:.1f} s")


def _fold_umlauts(name: str) -> str:
    for umlaut, replacement in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        name = name.replace(umlaut, replacement)
    return name


def _near_duplicates(persons, rnd) -> int:
    """Turn a few persons into near-duplicates of others: "Mueller" for "Müller", the
    same first name, e-mail, organization and city — what the duplicate scan should
    find. Rewrites existing rows, so the counts stay as asked."""
    ids = list(persons.order_by("pk").values_list("pk", flat=True))
    pairs = min(TWINS, len(ids) // 20)
    if not pairs:
        return 0
    umlauts = list(
        persons.filter(last_name__regex=r"[äöüß]")
        .order_by("pk")
        .values_list("pk", flat=True)[: pairs * 4]
    )
    originals = sorted(rnd.sample(umlauts, min(pairs, len(umlauts)))) if umlauts else []
    originals += [pk for pk in ids[:: max(1, len(ids) // pairs)] if pk not in originals]
    originals = originals[:pairs]
    taken = set(originals)
    twins = [pk for pk in reversed(ids) if pk not in taken][:pairs]
    by_pk = Person.objects.in_bulk(originals + twins)
    fields = ["first_name", "last_name", "email", "organization_id", "city", "salutation"]
    for original_pk, twin_pk in zip(originals, twins, strict=True):
        original, twin = by_pk[original_pk], by_pk[twin_pk]
        for name in fields:
            setattr(twin, name, getattr(original, name))
        twin.last_name = _fold_umlauts(original.last_name)
        derive_person_keys(twin)
    changed = [by_pk[pk] for pk in twins]
    Person.objects.bulk_update(changed, [*fields, *PERSON_KEY_FIELDS])
    return len(changed)


def _subsidiary_parent(first_of_load: int) -> Case:
    """Every 25th organization of the load belongs to the one made before it. The
    load's ids follow each other but need not start right after the previous maximum
    (PostgreSQL sequences move on past rolled-back inserts): hence the load's first id,
    not the previous maximum."""
    return Case(
        When(
            Exact(Mod("id", Value(25)), 0),
            pk__gt=first_of_load,
            then=ExpressionWrapper(F("id") - 1, output_field=BigIntegerField()),
        ),
        default=F("parent_id"),
        output_field=BigIntegerField(),
    )


def _erp_number() -> Case:
    """Half of the organizations have an ERP number (a custom field)."""
    return Case(
        When(
            Exact(Mod("id", Value(2)), 0),
            then=JSONObject(erp_number=Concat(Value("ERP-"), Cast("id", output_field=CharField()))),
        ),
        default=F("custom"),
        output_field=JSONField(),
    )


def _contact_roles(persons_after: int) -> int:
    person = connection.ops.quote_name(Person._meta.db_table)
    whens = " ".join("WHEN %s THEN %s" for _ in BUYING_ROLES_OF)
    params = [v for pair in BUYING_ROLES_OF.items() for v in pair]
    roles = f"""CASE
        WHEN p.id = (SELECT MIN(q.id) FROM {person} q
                     WHERE q.organization_id = p.organization_id AND q.id > %s)
        THEN '["decider"]'
        ELSE CASE p.job_title {whens} ELSE '[]' END
    END"""
    return contact_roles_link_primary(
        person_model=Person,
        contact_role_model=ContactRole,
        after_id=persons_after,
        buying_roles=(roles, [persons_after, *params]),
    )


def _tags(persons_after: int, organizations_after: int) -> int:
    """About 20% of the records get a tag, a quarter of those a second one: chosen by
    a multiplicative hash of the id, in one INSERT … SELECT per table and tag slot."""
    tags = [Tag.objects.get_or_create(name=name)[0].pk for name in TAGS]
    whens = " ".join(f"WHEN {i} THEN {pk}" for i, pk in enumerate(tags))
    added = 0
    with connection.cursor() as cursor:
        for model, column, after in (
            (Person, "person_id", persons_after),
            (Organization, "organization_id", organizations_after),
        ):
            table = connection.ops.quote_name(model._meta.db_table)
            through = connection.ops.quote_name(model.tags.through._meta.db_table)
            # slot 0: the first tag; slot 1: a different second one for some
            for offset, share in ((0, TAGGED_PER_MILLE), (3, TAGGED_PER_MILLE // 4)):
                cursor.execute(
                    f"""
                    INSERT INTO {through} ({column}, tag_id)
                    SELECT r.id, CASE (r.id + {offset}) %% 10 {whens} END
                    FROM {table} r
                    WHERE r.id > %s AND (r.id * 2654435761) %% 1000 < %s
                    """,
                    [after, share],
                )
                added += cursor.rowcount
    return added


def _equipment(writer, rnd, organizations) -> int:
    business = list(
        organizations.filter(kind=CustomerKind.BUSINESS)
        .order_by("pk")
        .values_list("pk", "city", flat=False)
    )
    chosen = [row for row in business if rnd.random() < EQUIPMENT_SHARE]
    prep = writer.preparer(Equipment)
    today = date.today()
    installed = [prep("installed_on", today - timedelta(days=d)) for d in range(0, 3650, 7)]
    contracts = [
        prep("service_contract_until", today + timedelta(days=d)) for d in range(-365, 1095, 7)
    ]
    contracts += [prep("service_contract_until", None)] * (len(contracts) // 2)
    now = prep("created_at", timezone.now().replace(microsecond=0))
    rows_left = iter(chosen)

    def rows(k: int):
        for _ in range(k):
            pk, city = next(rows_left)
            product, model = rnd.choice(PRODUCTS)
            yield (
                prep("organization", pk),
                prep("person", None),
                product,
                model,
                f"SN-{pk:07d}-{rnd.randrange(1000, 9999)}",
                rnd.choice(installed),
                f"Werk {city}" if city else "Werk",
                rnd.choice(contracts),
                now,
                now,
            )

    fields = [
        "organization",
        "person",
        "product",
        "model",
        "serial_number",
        "installed_on",
        "location",
        "service_contract_until",
        "created_at",
        "updated_at",
    ]
    if chosen:
        writer.insert(Equipment, fields, rows, len(chosen), "equipment")
    return len(chosen)


def _notes(rnd, persons, organizations, author) -> int:
    """A few notes, rendered like note_create does: some dozens, whatever the size."""
    person_ids = list(persons.order_by("pk").values_list("pk", flat=True)[:2000])
    organization_ids = list(organizations.order_by("pk").values_list("pk", flat=True)[:500])
    made = []
    for index in range(min(40, len(person_ids) // 10)):
        text = NOTE_TEXTS[index % len(NOTE_TEXTS)]
        if index % 2 and organization_ids:
            target = {"organization_id": rnd.choice(organization_ids)}
        else:
            target = {"person_id": rnd.choice(person_ids)}
        made.append(Note(author=author, text=text, html=notes.render(text), **target))
    Note.objects.bulk_create(made)
    return len(made)


def _custom_fields() -> None:
    """Three custom fields; the persons' values come with their rows
    (PERSON_CUSTOM_VALUES), the organizations' with their customer numbers."""
    definitions = [
        (
            "customers.person",
            "newsletter_topics",
            "Newsletter-Themen",
            "Newsletter topics",
            CustomFieldType.MULTIPLE_CHOICE,
            NEWSLETTER_TOPICS,
        ),
        (
            "customers.person",
            "contact_time",
            "Erreichbarkeit",
            "Best time to call",
            CustomFieldType.CHOICE,
            ["vormittags", "nachmittags"],
        ),
        (
            "customers.organization",
            "erp_number",
            "ERP-Nummer",
            "ERP number",
            CustomFieldType.TEXT,
            [],
        ),
    ]
    for position, (entity, key, label, label_en, field_type, choices) in enumerate(definitions):
        CustomField.objects.get_or_create(
            entity=entity,
            key=key,
            defaults={
                "label": label,
                "label_en": label_en,
                "field_type": field_type,
                "choices": choices,
                "position": position,
            },
        )


def _analyze(models_) -> None:
    with connection.cursor() as cursor:
        for model in models_:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
