"""Duplicate detection: the one German-aware matching behind the create forms, the API,
imports and the background scan.

Every record carries normalised keys (``derive_keys``, called by the services before a
save): the e-mail in lower case, the phone in E.164, the surname or company name folded
(Müller = Mueller) and as a Kölner-Phonetik code, the city folded, for organizations the
name without legal form (GmbH = GmbH & Co. KG), the web domain and the VAT ID. Candidates
are found only through indexed lookups on those keys — never by scanning names — and are
then scored here in Python: each reason has a weight, and the weights combine like
independent evidence (1 − Π(1 − w)), so the score stays within 0–100.
"""

import operator
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import reduce
from typing import Any
from urllib.parse import urlsplit

from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from kontor.core.normalize import (
    cologne_phonetic,
    company_key,
    fold,
    phone_e164,
    phonetic_words,
    street_key,
    words,
)
from kontor.customers.models import (
    DuplicateKind,
    DuplicatePair,
    DuplicateStatus,
    Organization,
    Person,
)

# Why two records look alike, with the weight (0–100) each reason carries.
REASONS: dict[str, tuple[Any, int]] = {
    "email": (_("same e-mail"), 90),
    "phone": (_("same phone number"), 70),
    "name_organization": (_("same name at the same organization"), 85),
    "similar_name_organization": (_("similar name at the same organization"), 75),
    "name_city": (_("same name in the same city"), 65),
    "similar_name_city": (_("similar name in the same city"), 55),
    "vat_id": (_("same VAT ID"), 95),
    "company_name": (_("same company name"), 60),
    "similar_company_place": (_("similar name in the same city or postal code"), 50),
    "domain": (_("same website domain"), 70),
    "address": (_("same address"), 30),
}

# Mail domains that say nothing about the company behind an address.
FREEMAIL_DOMAINS = frozenset(
    {
        "aol.com",
        "arcor.de",
        "freenet.de",
        "gmail.com",
        "gmx.at",
        "gmx.ch",
        "gmx.de",
        "gmx.net",
        "googlemail.com",
        "hotmail.com",
        "hotmail.de",
        "icloud.com",
        "live.de",
        "mail.de",
        "mailbox.org",
        "me.com",
        "online.de",
        "outlook.com",
        "outlook.de",
        "posteo.de",
        "t-online.de",
        "web.de",
        "yahoo.com",
        "yahoo.de",
    }
)

# A common surname in a big city (Müller in Berlin) can match thousands of rows: the
# lookup reads at most this many per probe record, and the best are kept.
FETCH_LIMIT_PER_PROBE = 200


def reason_label(code: str) -> str:
    label = REASONS.get(code)
    return str(label[0]) if label else code


def combine(reasons: list[str]) -> int:
    remaining = 1.0
    for code in reasons:
        remaining *= 1 - REASONS[code][1] / 100
    return round(100 * (1 - remaining))


@dataclass
class Candidate:
    record: Any
    score: int
    reasons: list[str] = field(default_factory=list)

    @property
    def reason_labels(self) -> list[str]:
        return [reason_label(code) for code in self.reasons]


# --- Keys ------------------------------------------------------------------------------


def _email_key(email: str) -> str:
    return (email or "").strip().lower()


def _phone_key(number: str, country: str) -> str:
    return phone_e164(number, (country or "DE").upper()) if number else ""


def _domain(host: str) -> str:
    host = (host or "").strip().lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def web_domain(url: str) -> str:
    """example.de for https://www.example.de/kontakt, "example.de" and "Example.de"."""
    url = (url or "").strip()
    if not url:
        return ""
    if "//" not in url:
        url = "//" + url
    try:
        return _domain(urlsplit(url).hostname or "")
    except ValueError:
        return ""


def _mail_domain(email: str) -> str:
    domain = _domain(_email_key(email).rpartition("@")[2])
    return "" if domain in FREEMAIL_DOMAINS else domain


def vat_key(vat_id: str) -> str:
    return re.sub(r"[\s.\-]", "", vat_id or "").upper()


def derive_keys(record: Model) -> None:
    """Set the matching keys of a person or an organization from its values (saved or
    not). The services call this before every save; probes for a check call it too."""
    if isinstance(record, Person):
        derive_person_keys(record)
    elif isinstance(record, Organization):
        derive_organization_keys(record)


# These two read only plain attributes, so the backfill migration can use them on its
# historical models.
def derive_person_keys(record) -> None:
    country = record.country or "DE"
    record.email_key = _email_key(record.email)
    record.phone_key = _phone_key(record.phone, country) or _phone_key(record.mobile, country)
    record.name_key = " ".join(words(record.last_name))[:100]
    record.phonetic_key = cologne_phonetic(record.last_name)[:64]
    record.city_key = " ".join(words(record.city))[:120]


def derive_organization_keys(record) -> None:
    record.name_key = company_key(record.name)[:200]
    record.phonetic_key = " ".join(phonetic_words(record.name_key))[:64]
    record.city_key = " ".join(words(record.city))[:120]
    record.email_key = _email_key(record.email)
    record.phone_key = _phone_key(record.phone, record.country or "DE")
    record.domain_key = web_domain(record.website) or _mail_domain(record.email)
    record.vat_key = vat_key(record.vat_id)[:20]


PERSON_KEYS = ("email_key", "phone_key", "name_key", "phonetic_key", "city_key")
ORGANIZATION_KEYS = (
    "name_key",
    "phonetic_key",
    "city_key",
    "email_key",
    "phone_key",
    "domain_key",
    "vat_key",
)


# What each derive function reads: the backfill loads only these columns (no notes,
# no custom values), so that a batch of a million-row table stays small.
DERIVED_FROM = {
    derive_person_keys: ("country", "email", "phone", "mobile", "last_name", "city"),
    derive_organization_keys: ("name", "city", "email", "phone", "country", "website", "vat_id"),
}
# Rows per UPDATE: bulk_update writes one CASE WHEN per column over the rows it is
# given, whose cost grows with their square; small statements stay linear.
UPDATE_BATCH_SIZE = 500


def backfill_keys(model, derive, keys, *, batch_size: int = 2000) -> int:
    """Derive the keys of every row of ``model``: ``batch_size`` rows at a time in id
    order (a keyset on the primary key, so each batch is an index range, however far
    in), only the columns ``derive`` reads, written back with bulk_update in
    statements of UPDATE_BATCH_SIZE rows. Memory stays at one batch for any table
    size (migration 0006 on a million persons). Returns the number of rows."""
    columns = DERIVED_FROM.get(derive)
    rows = model._base_manager.order_by("pk")
    if columns is not None:
        rows = rows.only("pk", *columns)
    last_id, count = 0, 0
    while True:
        batch = list(rows.filter(pk__gt=last_id)[:batch_size])
        if not batch:
            return count
        for record in batch:
            derive(record)
        model._base_manager.bulk_update(batch, keys, batch_size=UPDATE_BATCH_SIZE)
        last_id, count = batch[-1].pk, count + len(batch)


# --- Comparing two records ---------------------------------------------------------------


def _first_names_agree(a: str, b: str) -> bool:
    """Empty, equal, alike by sound, an initial ("M." and "Michael") or one part of a
    double name ("Hans" and "Hans-Peter")."""
    wa, wb = words(a), words(b)
    if not wa or not wb:
        return True
    if wa == wb or cologne_phonetic(" ".join(wa)) == cologne_phonetic(" ".join(wb)):
        return True
    if (len(wa[0]) == 1 and wb[0].startswith(wa[0])) or (
        len(wb[0]) == 1 and wa[0].startswith(wb[0])
    ):
        return True
    return wa[0] == wb[0]


def _same_address(a, b) -> bool:
    sa, sb = street_key(a.street), street_key(b.street)
    if not sa or sa != sb:
        return False
    same_postal = a.postal_code and a.postal_code.strip() == (b.postal_code or "").strip()
    return bool(same_postal or (a.city_key and a.city_key == b.city_key))


def _person_emails(p: Person) -> set[str]:
    return {e for e in (p.email_key or _email_key(p.email), _email_key(p.email2)) if e}


def _person_phones(p: Person) -> set[str]:
    country = p.country or "DE"
    return {
        n for n in (p.phone_key, _phone_key(p.phone, country), _phone_key(p.mobile, country)) if n
    }


def person_reasons(probe: Person, other: Person) -> list[str]:
    reasons = []
    if other.email_key and other.email_key in _person_emails(probe):
        reasons.append("email")
    if other.phone_key and other.phone_key in _person_phones(probe):
        reasons.append("phone")
    if (
        probe.phonetic_key
        and probe.phonetic_key == other.phonetic_key
        and _first_names_agree(probe.first_name, other.first_name)
    ):
        same = probe.name_key == other.name_key and fold(probe.first_name) == fold(other.first_name)
        if probe.organization_id and probe.organization_id == other.organization_id:
            reasons.append("name_organization" if same else "similar_name_organization")
        elif probe.city_key and probe.city_key == other.city_key:
            reasons.append("name_city" if same else "similar_name_city")
    if reasons and _same_address(probe, other):
        reasons.append("address")
    return reasons


def organization_reasons(probe: Organization, other: Organization) -> list[str]:
    reasons = []
    if probe.vat_key and probe.vat_key == other.vat_key:
        reasons.append("vat_id")
    if probe.name_key and probe.name_key == other.name_key:
        reasons.append("company_name")
    if probe.phonetic_key and probe.phonetic_key == other.phonetic_key:
        postal = (probe.postal_code or "").strip()
        if (probe.city_key and probe.city_key == other.city_key) or (
            postal and postal == (other.postal_code or "").strip()
        ):
            reasons.append("similar_company_place")
    if probe.email_key and probe.email_key == other.email_key:
        reasons.append("email")
    if probe.phone_key and probe.phone_key == other.phone_key:
        reasons.append("phone")
    if probe.domain_key and probe.domain_key == other.domain_key:
        reasons.append("domain")
    if reasons and _same_address(probe, other):
        reasons.append("address")
    return reasons


# --- Finding candidates --------------------------------------------------------------------


def _person_lookup(probes: list[Person]) -> tuple[Q | None, dict]:
    """One query (OR of indexed lookups) for the candidates of all ``probes``, and how
    to find a fetched row's probes again."""
    emails = {e for p in probes for e in _person_emails(p)}
    phones = {n for p in probes for n in _person_phones(p)}
    by_city = {(p.phonetic_key, p.city_key) for p in probes if p.phonetic_key and p.city_key}
    by_org = {
        (p.phonetic_key, p.organization_id) for p in probes if p.phonetic_key and p.organization_id
    }
    terms = []
    if emails:
        terms.append(Q(email_key__in=emails))
    if phones:
        terms.append(Q(phone_key__in=phones))
    # Both columns as IN lists: a superset of the wanted pairs, read from the composite
    # index and narrowed in Python below.
    if by_city:
        terms.append(
            Q(phonetic_key__in={k for k, _c in by_city}, city_key__in={c for _k, c in by_city})
        )
    if by_org:
        terms.append(
            Q(phonetic_key__in={k for k, _o in by_org}, organization_id__in={o for _k, o in by_org})
        )
    return reduce(operator.or_, terms) if terms else None


def _person_buckets(p: Person, *, probe: bool) -> set[tuple]:
    """The lookup keys a record is found under: a fetched row and a probe share one
    if the row came back for that probe."""
    emails = _person_emails(p) if probe else {p.email_key}
    phones = _person_phones(p) if probe else {p.phone_key}
    keys = {("e", e) for e in emails if e} | {("p", n) for n in phones if n}
    if p.phonetic_key and p.city_key:
        keys.add(("pc", p.phonetic_key, p.city_key))
    if p.phonetic_key and p.organization_id:
        keys.add(("po", p.phonetic_key, p.organization_id))
    return keys


def _organization_buckets(o: Organization, *, probe: bool) -> set[tuple]:
    keys = {
        (column, getattr(o, column))
        for column in ("vat_key", "name_key", "email_key", "phone_key", "domain_key")
        if getattr(o, column)
    }
    if o.phonetic_key and o.city_key:
        keys.add(("pc", o.phonetic_key, o.city_key))
    if o.phonetic_key and (o.postal_code or "").strip():
        keys.add(("pp", o.phonetic_key, o.postal_code.strip()))
    return keys


def _organization_lookup(probes: list[Organization]) -> tuple[Q | None, dict]:
    terms = []
    for column in ("vat_key", "name_key", "email_key", "phone_key", "domain_key"):
        values = {getattr(p, column) for p in probes if getattr(p, column)}
        if values:
            terms.append(Q(**{f"{column}__in": values}))
    by_city = {(p.phonetic_key, p.city_key) for p in probes if p.phonetic_key and p.city_key}
    by_postal = {
        (p.phonetic_key, p.postal_code.strip())
        for p in probes
        if p.phonetic_key and (p.postal_code or "").strip()
    }
    if by_city:
        terms.append(
            Q(phonetic_key__in={k for k, _c in by_city}, city_key__in={c for _k, c in by_city})
        )
    if by_postal:
        terms.append(
            Q(
                phonetic_key__in={k for k, _c in by_postal},
                postal_code__in={c for _k, c in by_postal},
            )
        )
    return reduce(operator.or_, terms) if terms else None


_KINDS = {
    Person: (DuplicateKind.PERSON, _person_lookup, _person_buckets, person_reasons),
    Organization: (
        DuplicateKind.ORGANIZATION,
        _organization_lookup,
        _organization_buckets,
        organization_reasons,
    ),
}


def match(probes: list, scope: QuerySet) -> dict[int, list[Candidate]]:
    """The candidates among ``scope`` for each of ``probes`` (persons or organizations,
    keys derived), keyed by the probe's position, best first. A probe is never its own
    candidate."""
    if not probes:
        return {}
    model = type(probes[0])
    _kind, lookup, buckets_of, reasons_for = _KINDS[model]
    query = lookup(probes)
    if query is None:
        return {}
    # Driven by the key indexes; visibility (``scope``) is checked per matching row by
    # primary key. Filtering ``scope`` by the keys instead lets SQLite (no statistics)
    # start from the owner/team indexes and read a whole team's records.
    # Probes of one scan batch may be each other's duplicates: a probe only skips itself.
    rows = model._base_manager.filter(query).filter(Exists(scope.filter(pk=OuterRef("pk"))))
    if model is Person:
        rows = rows.select_related("organization")
    rows = rows.order_by()[: FETCH_LIMIT_PER_PROBE * len(probes)]
    by_bucket: dict[tuple, list] = defaultdict(list)
    for row in rows:
        for key in buckets_of(row, probe=False):
            by_bucket[key].append(row)
    found: dict[int, list[Candidate]] = {}
    for index, probe in enumerate(probes):
        seen = {probe.pk}
        results = []
        for key in buckets_of(probe, probe=True):
            for row in by_bucket.get(key, ()):
                if row.pk in seen:
                    continue
                seen.add(row.pk)
                reasons = reasons_for(probe, row)
                if reasons:
                    results.append(Candidate(row, combine(reasons), reasons))
        if results:
            found[index] = sorted(results, key=lambda c: (-c.score, c.record.pk))
    return found


def probe_from_data(model: type[Model], data: dict[str, Any], *, instance=None) -> Model:
    """An unsaved record carrying ``data`` (a form's or an API body's values), keys
    derived, to look for its duplicates before it is saved. With ``instance`` (an
    edit), the probe starts from the saved values."""
    names = {f.name for f in model._meta.concrete_fields}
    probe = model(pk=instance.pk) if instance is not None else model()
    if instance is not None:
        for f in model._meta.concrete_fields:
            setattr(probe, f.attname, getattr(instance, f.attname))
    for name, value in data.items():
        if name in names and value is not None:
            setattr(probe, name, value)
    derive_keys(probe)
    return probe


def candidates(*, user, record: Model, limit: int = 10) -> list[Candidate]:
    """Likely duplicates of ``record`` (saved or a probe) among the records ``user``
    may see, best first."""
    model = type(record)
    derive_keys(record)
    return match([record], model.objects.visible_to(user)).get(0, [])[:limit]


def candidates_for_data(*, user, model: type[Model], data: dict[str, Any], limit: int = 10):
    return candidates(user=user, record=probe_from_data(model, data), limit=limit)


def kind_of(model: type[Model]) -> str:
    return _KINDS[model][0]


def model_of(kind: str) -> type[Model]:
    return Person if kind == DuplicateKind.PERSON else Organization


# --- The review list -------------------------------------------------------------------------


def pairs_visible_to(user, kind: str) -> QuerySet[DuplicatePair]:
    """Open pairs whose two records ``user`` may both see (a pair with a deleted
    record drops out the same way)."""
    visible = model_of(kind).objects.visible_to(user).values("pk")
    return DuplicatePair.objects.filter(
        kind=kind, status=DuplicateStatus.OPEN, a_id__in=visible, b_id__in=visible
    )


def with_records(pairs: list[DuplicatePair]) -> list[DuplicatePair]:
    """Attach ``a`` and ``b`` (the records) to each pair with one query per kind."""
    by_kind: dict[str, set[int]] = defaultdict(set)
    for pair in pairs:
        by_kind[pair.kind] |= {pair.a_id, pair.b_id}
    records = {kind: model_of(kind).objects.in_bulk(list(ids)) for kind, ids in by_kind.items()}
    for pair in pairs:
        pair.a = records[pair.kind].get(pair.a_id)
        pair.b = records[pair.kind].get(pair.b_id)
        pair.reason_labels = [reason_label(code) for code in pair.reasons]
    return [p for p in pairs if p.a is not None and p.b is not None]
