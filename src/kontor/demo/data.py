"""Realistic German demo data (Faker de_DE), written with bulk inserts.

Sizes: small (~1,000 persons) for `make run`, medium (100k) and large (1M persons,
200k organizations) for benchmarks. Each later feature extends ``load_demo`` with its
own entities.

Faker is slow (tens of microseconds a value), so it only fills *pools* of names,
streets, cities and so on once (phone numbers come from demo.customers); the rows
combine pool entries at random, column by column, with a ``random.Random`` seeded from
``--seed`` so the same seed gives the same data (apart from the uuids, which are random
so that loading twice does not collide). The rows bypass model instances: on PostgreSQL
(psycopg 3) they go in with ``COPY``, elsewhere with ``executemany`` in batches. Every
value is prepared for the database once, when its pool is made, not once per row.
Columns the generators do not name (fields added by later features) get their model
default in every row. Big loads (REBUILD_INDEXES_FROM) drop the table's plain indexes,
and on PostgreSQL its foreign keys, and make them again afterwards, in the same
transaction: the tables are locked meanwhile, which is fine for demo data.

The rows bypass the services, so what a service derives when it saves a record (see
customers.services) is not made here unless a generator fills it: a feature that adds
such data adds it to the generators or as a set-based step at the end of ``load_demo``.
"""

import contextlib
import json
import random
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from faker import Faker

from kontor.core import search
from kontor.core.models import Role, Team, User
from kontor.core.permissions import RoleCode
from kontor.customers.models import (
    CustomerKind,
    Gender,
    LifecycleStatus,
    Organization,
    Person,
    Salutation,
)
from kontor.demo import activities, customers, tables

DEMO_PASSWORD = "kontor-demo"  # noqa: S105 - printed on purpose, demo data only
SIZES = {"small": 1_000, "medium": 100_000, "large": 1_000_000}
ORGS_PER_PERSON = 1 / 5  # large: 1M persons, 200k organizations
BATCH = 10_000  # rows per executemany; COPY streams the same chunks
PROGRESS_EVERY = 100_000
# From this many rows, loads drop the table's plain indexes (and on PostgreSQL its
# foreign keys) and make them again after inserting.
REBUILD_INDEXES_FROM = 50_000

# (username, first name, last name, role, team)
DEMO_USERS = [
    ("admin", "Anna", "Admin", RoleCode.ADMINISTRATOR, None),
    ("manager", "Markus", "Becker", RoleCode.SALES_MANAGER, "Vertrieb Nord"),
    ("rep", "Sabine", "Schulz", RoleCode.SALES_REP, "Vertrieb Nord"),
    ("rep2", "Jonas", "Wagner", RoleCode.SALES_REP, "Vertrieb Nord"),
    ("rep3", "Lea", "Hoffmann", RoleCode.SALES_REP, "Vertrieb Süd"),
    ("service", "Tobias", "Koch", RoleCode.SERVICE_AGENT, "Service"),
    ("marketing", "Julia", "Richter", RoleCode.MARKETING, "Marketing"),
    ("readonly", "Peter", "Klein", RoleCode.READ_ONLY, "Vertrieb Süd"),
]
# Records are owned by the people who work on customers (owner's team = record's team).
OWNER_ROLES = {RoleCode.SALES_REP, RoleCode.SALES_MANAGER, RoleCode.SERVICE_AGENT}

INDUSTRIES = [
    "Maschinenbau",
    "Großhandel",
    "Elektrotechnik",
    "Lebensmittel",
    "Bauwesen",
    "Automobilzulieferer",
    "Medizintechnik",
    "Logistik",
    "IT-Dienstleistungen",
    "Druck",
]
LEGAL_FORMS = ["GmbH", "AG", "KG", "GmbH & Co. KG", "e.K.", "OHG", "UG (haftungsbeschränkt)"]
ORG_WORDS = [
    "Technik",
    "Systeme",
    "Handel",
    "Bau",
    "Metallbau",
    "Logistik",
    "Elektro",
    "Service",
    "Werkzeugbau",
    "Feinmechanik",
    "Haustechnik",
    "Verpackung",
]
JOB_TITLES = [
    "Geschäftsführer",
    "Einkaufsleiterin",
    "Einkäufer",
    "Technischer Leiter",
    "Assistenz der Geschäftsführung",
    "Leiterin Qualitätssicherung",
    "Werksleiter",
    "Vertriebsleiter",
    "Sachbearbeiterin Einkauf",
    "IT-Leiter",
]
# The most frequent German surnames, drawn more often than Faker's uniform list.
COMMON_LAST_NAMES = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
]
COMMON_SHARE = 0.25
TITLES = ["", "", "", "", "", "", "", "", "Dr.", "Prof."]


def demo_logins() -> list[tuple[str, str]]:
    return [(username, str(role.label)) for username, _f, _l, role, _t in DEMO_USERS]


def _users() -> tuple[list[User], list[Team]]:
    roles = {r.code: r for r in Role.objects.all()}
    teams = {}
    for *_rest, team_name in DEMO_USERS:
        if team_name and team_name not in teams:
            teams[team_name], _ = Team.objects.get_or_create(name=team_name)
    password = make_password(DEMO_PASSWORD)
    users = []
    for username, first, last, role, team_name in DEMO_USERS:
        user, _created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "role": roles[role],
                "email": f"{username}@kontor.example",
                "password": password,
                "is_superuser": role == RoleCode.ADMINISTRATOR,
                "is_staff": role == RoleCode.ADMINISTRATOR,
            },
        )
        if team_name:
            user.teams.add(teams[team_name])
        users.append(user)
    for team in teams.values():
        if team.lead_id is None:
            team.lead = next(u for u in users if u.teams.filter(pk=team.pk).exists())
            team.save(update_fields=["lead"])
    return users, list(teams.values())


def load_demo(
    *,
    size: str = "small",
    seed: int = 42,
    progress: Callable[[str], object] = print,
    persons: int | None = None,
) -> dict:
    """Load the demo users and customers; ``persons`` overrides the size's count.

    Loading again adds another set of customers (the users are kept)."""
    n_persons = SIZES[size] if persons is None else persons
    n_orgs = max(10, int(n_persons * ORGS_PER_PERSON))
    started = time.monotonic()
    with transaction.atomic(), _sqlite_cache(256):
        users, teams = _users()
        owners = [u for u in users if u.role and u.role.code in OWNER_ROLES]
        owner_team = [(u.pk, u.teams.order_by("id").first().pk) for u in owners]
        pools = Pools(seed, size=min(3_000, max(200, n_persons)))
        rnd = random.Random(seed)
        writer = RowWriter(progress)
        orgs_before, persons_before = tables.max_id(Organization), tables.max_id(Person)
        org_ids, org_domains = _organizations(writer, pools, rnd, n_orgs, owner_team)
        _persons(writer, pools, rnd, n_persons, org_ids, org_domains, owner_team)
        tables.analyze([Organization, Person])
        progress(f"  statistics updated after {time.monotonic() - started:.1f} s")
        extra = customers.customers_finish(
            writer=writer,
            seed=seed,
            organizations_after=orgs_before,
            persons_after=persons_before,
            author=users[0],
            progress=progress,
        )
        extra |= activities.activities_load(
            writer=writer,
            seed=seed,
            size=size,
            persons=persons,
            persons_after=persons_before,
            organizations_after=orgs_before,
            users=users,
            progress=progress,
        )
        from kontor.processes.scenes import scenes_install

        scenes_install(language="de")
        from kontor.demo import processes

        extra |= processes.processes_load(
            writer=writer,
            seed=seed,
            size=size,
            persons=persons,
            persons_after=persons_before,
            organizations_after=orgs_before,
            users=users,
            progress=progress,
        )
    search.rebuild(progress=progress)
    _vacuum_processes(progress)
    progress(f"  done in {time.monotonic() - started:.1f} s")
    return {
        "users": len(users),
        "teams": len(teams),
        "organizations": n_orgs,
        "persons": n_persons,
        **extra,
    }


# --- Pools ----------------------------------------------------------------------------


def ascii_slug(text: str) -> str:
    """ASCII for an e-mail address: "Jürgen Groß-Weiß" becomes "juergengross-weiss"."""
    text = text.lower()
    for umlaut, replacement in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, replacement)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in text if c.isalnum() or c in "-.")


class Pools:
    """Faker's output, made once per load: lists the row generators pick from."""

    def __init__(self, seed: int, size: int = 3_000):
        fake = Faker("de_DE")
        fake.seed_instance(seed)
        self.female = _unique(fake.first_name_female for _ in range(size))
        self.male = _unique(fake.first_name_male for _ in range(size))
        self.last = _unique(fake.last_name for _ in range(size))
        self.streets = _unique(fake.street_name for _ in range(size))
        self.cities = _unique(fake.city for _ in range(size))
        self.postcodes = [fake.postcode() for _ in range(size)]
        self.phones = customers.phone_pool(random.Random(seed), size, customers.LANDLINE_PREFIXES)
        self.mobiles = customers.phone_pool(random.Random(~seed), size, customers.MOBILE_PREFIXES)
        self.free_mail = _unique(fake.free_email_domain for _ in range(200))
        self.domain_words = sorted({ascii_slug(fake.domain_word()) for _ in range(size)} - {""})
        # Stripped: "Hans-H." must not make "hans-h..adler@…", an invalid address.
        self.slug = {
            name: ascii_slug(name).strip(".-")
            for name in {*self.female, *self.male, *self.last, *COMMON_LAST_NAMES}
        }
        now = datetime.now(UTC).replace(microsecond=0)
        rnd = random.Random(seed)
        # Created over the last five years, last changed some time after.
        self.stamps = []
        for _ in range(size):
            created = now - timedelta(seconds=rnd.randrange(5 * 365 * 86400))
            updated = created + timedelta(
                seconds=rnd.randrange(int((now - created).total_seconds()) + 1)
            )
            self.stamps.append((created, updated))
        today = date.today()
        self.birth_dates = [
            today - timedelta(days=rnd.randrange(18 * 365, 85 * 365)) for _ in range(size)
        ]

        # Rows are joined into COPY text without escaping: the pools must be plain.
        for name, pool in vars(self).items():
            strings = pool if isinstance(pool, list) and pool and isinstance(pool[0], str) else []
            if any(tables.NEEDS_ESCAPE.search(v) for v in strings):
                raise ValueError(f"demo pool {name} has a tab, newline or backslash")

    def last_names(self, rnd: random.Random, k: int) -> list[str]:
        common = rnd.choices(COMMON_LAST_NAMES, k=k)
        other = rnd.choices(self.last, k=k)
        return [c if rnd.random() < COMMON_SHARE else o for c, o in zip(common, other, strict=True)]


def _unique(calls: Iterable[Callable[[], str]]) -> list[str]:
    return sorted({call() for call in calls})


# --- Rows -----------------------------------------------------------------------------
# Each generator draws whole columns for a batch of k rows (``rnd.choices``), then zips
# them: several times faster than one ``rnd.choice`` per value. Strings from the pools
# go in as they are; every other value is prepared for the database once, in its pool.


def _organizations(writer, pools, rnd, count, owner_team) -> tuple[list[int], list[str]]:
    """Insert ``count`` organizations; return their ids and web domains, in order."""
    fields = [
        "uuid",
        "owner",
        "team",
        "created_at",
        "updated_at",
        "version",
        "name",
        "kind",
        "status",
        "industry",
        "street",
        "postal_code",
        "city",
        "country",
        "website",
        "phone",
        "email",
        "vat_id",
        "employees",
        "revenue_band",
        *customers.ORGANIZATION_KEY_FIELDS,
    ]
    prep = writer.preparer(Organization)
    keys = customers.MatchKeys()
    owner_team = [(prep("owner", o), prep("team", t)) for o, t in owner_team]
    stamps = [(prep("created_at", c), prep("updated_at", u)) for c, u in pools.stamps]
    version = prep("version", 1)
    domains: list[str] = []

    def rows(k: int) -> Iterator[tuple]:
        lasts = pools.last_names(rnd, k)
        partners = rnd.choices(pools.last, k=k)
        words = rnd.choices(ORG_WORDS, k=k)
        forms = rnd.choices(LEGAL_FORMS, k=k)
        home_towns = rnd.choices(pools.cities, k=k)
        domain_words = rnd.choices(pools.domain_words, k=k)
        kinds = rnd.choices(CustomerKind.values, [4, 1], k=k)
        statuses = rnd.choices(LifecycleStatus.values, [3, 3, 6, 1, 1], k=k)
        industries = rnd.choices(INDUSTRIES, k=k)
        streets = rnd.choices(pools.streets, k=k)
        postcodes = rnd.choices(pools.postcodes, k=k)
        cities = rnd.choices(pools.cities, k=k)
        phones = rnd.choices(pools.phones, k=k)
        stamp = rnd.choices(stamps, k=k)
        owners = rnd.choices(owner_team, k=k)
        uuids = tables.uuids(k)
        for i in range(k):
            last = lasts[i]
            shape = rnd.random()
            if shape < 0.45:
                name = f"{last} {words[i]} {forms[i]}"
            elif shape < 0.7:
                name = f"{last} & {partners[i]} {forms[i]}"
            elif shape < 0.85:
                name = f"{home_towns[i]}er {words[i]} {last}"
            else:
                name = f"{last} {forms[i]}"
            domain = f"{pools.slug[last]}-{domain_words[i]}.de"
            domains.append(domain)
            business = kinds[i] == CustomerKind.BUSINESS
            vat_id = f"DE{rnd.randrange(10**8, 10**9)}" if business and rnd.random() < 0.7 else ""
            website, email = f"https://www.{domain}", f"info@{domain}"
            yield (
                uuids[i],
                *owners[i],
                *stamp[i],
                version,
                name,
                kinds[i],
                statuses[i],
                industries[i],
                f"{streets[i]} {rnd.randint(1, 180)}",
                postcodes[i],
                cities[i],
                "DE",
                website,
                phones[i],
                email,
                vat_id,
                prep("employees", int(rnd.paretovariate(1.2) * 5) if business else None),
                rnd.choice(customers.REVENUE_BANDS) if business else "",
                *keys.organization(
                    name=name,
                    city=cities[i],
                    email=email,
                    phone=phones[i],
                    website=website,
                    vat_id=vat_id,
                ),
            )

    before = tables.max_id(Organization)
    writer.insert(Organization, fields, rows, count, "organizations")
    ids = list(
        Organization.objects.filter(pk__gt=before).order_by("pk").values_list("pk", flat=True)
    )
    if len(ids) != count:  # someone else inserted organizations meanwhile
        raise RuntimeError(f"expected {count} new organizations, found {len(ids)}")
    return ids, domains


def _persons(writer, pools, rnd, count, org_ids, org_domains, owner_team) -> None:
    fields = [
        "uuid",
        "owner",
        "team",
        "created_at",
        "updated_at",
        "version",
        "salutation",
        "title",
        "first_name",
        "last_name",
        "organization",
        "job_title",
        "email",
        "phone",
        "city",
        "birth_date",
        "department",
        "mobile",
        "street",
        "postal_code",
        "gender",
        "custom",
        *customers.PERSON_KEY_FIELDS,
    ]
    prep = writer.preparer(Person)
    keys = customers.MatchKeys()
    departments = customers.DEPARTMENT_OF
    custom_values = [prep("custom", values) for values in customers.PERSON_CUSTOM_VALUES]
    owner_team = [(prep("owner", o), prep("team", t)) for o, t in owner_team]
    stamps = [(prep("created_at", c), prep("updated_at", u)) for c, u in pools.stamps]
    version = prep("version", 1)
    no_org, no_birth_date = prep("organization", None), prep("birth_date", None)
    birth_dates = [prep("birth_date", d) for d in pools.birth_dates]
    orgs = [(prep("organization", pk), d) for pk, d in zip(org_ids, org_domains, strict=True)]
    slug = pools.slug
    ms, mr = Salutation.MS.value, Salutation.MR.value

    def rows(k: int) -> Iterator[tuple]:
        lasts = pools.last_names(rnd, k)
        females = rnd.choices(pools.female, k=k)
        males = rnd.choices(pools.male, k=k)
        titles = rnd.choices(TITLES, k=k)
        employers = rnd.choices(orgs, k=k)
        jobs = rnd.choices(JOB_TITLES, k=k)
        free_mail = rnd.choices(pools.free_mail, k=k)
        phones = rnd.choices(pools.phones, k=k)
        cities = rnd.choices(pools.cities, k=k)
        births = rnd.choices(birth_dates, k=k)
        mobiles = rnd.choices(pools.mobiles, k=k)
        customs = rnd.choices(custom_values, k=k)
        streets = rnd.choices(pools.streets, k=k)
        postcodes = rnd.choices(pools.postcodes, k=k)
        stamp = rnd.choices(stamps, k=k)
        owners = rnd.choices(owner_team, k=k)
        uuids = tables.uuids(k)
        rand = rnd.random
        for i in range(k):
            female = rand() < 0.5
            first = females[i] if female else males[i]
            last = lasts[i]
            if rand() < 0.2:  # a trade customer: no organization, a private address
                org, job, domain = no_org, "", free_mail[i]
            else:
                (org, domain), job = employers[i], jobs[i]
            email = f"{slug[first]}.{slug[last]}@{domain}"
            yield (
                uuids[i],
                *owners[i],
                *stamp[i],
                version,
                ms if female else mr,
                titles[i],
                first,
                last,
                org,
                job,
                email,
                phones[i],
                cities[i],
                births[i] if rand() < 0.4 else no_birth_date,
                departments.get(job, ""),
                mobiles[i] if rand() < customers.MOBILE_SHARE else "",
                f"{streets[i]} {rnd.randint(1, 120)}",
                postcodes[i],
                Gender.FEMALE.value if female else Gender.MALE.value,
                customs[i],
                *keys.person(last_name=last, city=cities[i], email=email, phone=phones[i]),
            )

    writer.insert(Person, fields, rows, count, "persons")


@contextlib.contextmanager
def _sqlite_cache(mib: int) -> Iterator[None]:
    """A bigger page cache for the load on SQLite (the default 2 MiB makes every index
    insertion a read): restored afterwards."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (previous,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = {-int(mib) * 1024}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


def _vacuum_processes(progress: Callable[[str], object]) -> None:
    """On PostgreSQL, what autovacuum does a while after a big load: the visibility map
    lets the process figures read their covering indexes alone (index-only scans).
    Outside the load's transaction: VACUUM cannot run inside one."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return  # (a test's transaction: nothing to gain there)
    from kontor.processes.models import ProcessInstance, StepRun

    with connection.cursor() as cursor:
        for model in (ProcessInstance, StepRun):
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(model._meta.db_table)}")
    progress("  process records vacuumed")


# --- Writing --------------------------------------------------------------------------


def _copy_text(value) -> str:
    """A prepared (non-string) value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    text = value.isoformat() if isinstance(value, datetime | date) else str(value)
    if tables.NEEDS_ESCAPE.search(text):
        raise ValueError(f"unexpected value for COPY: {text!r}")
    return text


class RowWriter:
    """Writes rows of prepared values: COPY on PostgreSQL with psycopg 3, else
    ``executemany`` in batches."""

    def __init__(self, progress: Callable[[str], object]):
        self.progress = progress
        self.use_copy = connection.vendor == "postgresql" and _is_psycopg3()

    def preparer(self, model) -> Callable[[str, object], object]:
        """``prep(field_name, value)``: a non-string value as this writer sends it."""
        fields = {f.name: f for f in model._meta.concrete_fields}

        def prep(name, value):
            field = fields[name]
            if self.use_copy and isinstance(field, models.JSONField):
                return _copy_text(json.dumps(value, cls=field.encoder))
            value = field.get_db_prep_save(value, connection)
            return _copy_text(value) if self.use_copy else value

        return prep

    def defaults(self, model, field_names) -> tuple[list[str], tuple]:
        """The columns the generator leaves out (fields other features add), with their
        model default as one value for every row: the rows stay valid as the model grows."""
        prep = self.preparer(model)
        names, values = [], []
        for field in model._meta.concrete_fields:
            if field.name in field_names or field.primary_key:
                continue
            if field.unique:
                raise ImproperlyConfigured(
                    f"{model.__name__}.{field.name} is unique: the demo data must fill it"
                )
            names.append(field.name)
            values.append(prep(field.name, field.get_default()))
        return names, tuple(values)

    def insert(self, model, field_names, rows: Callable[[int], Iterable[tuple]], count, label):
        extra_names, extra = self.defaults(model, field_names)
        table = connection.ops.quote_name(model._meta.db_table)
        columns = ", ".join(
            connection.ops.quote_name(model._meta.get_field(f).column)
            for f in [*field_names, *extra_names]
        )
        started = time.monotonic()
        done = 0
        with connection.cursor() as cursor:
            if self.use_copy:
                # Foreign keys checked row by row, not queued for the commit: an index
                # cannot be built on a table with pending checks (and the queue is big).
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                bulk = count >= REBUILD_INDEXES_FROM
                rebuild = _drop_indexes_and_foreign_keys(cursor, table) if bulk else []
                tail = "".join("\t" + v for v in extra) + "\n"
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    while done < count:
                        k = min(BATCH, count - done)
                        copy.write("".join(["\t".join(row) + tail for row in rows(k)]))
                        done += k
                        self._report(label, done, count, started)
                self.progress(f"  {label}: copied in {time.monotonic() - started:.1f} s")
                if rebuild:
                    index_started = time.monotonic()
                    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
                    for definition in rebuild:
                        cursor.execute(definition)
                    self.progress(
                        f"  {label}: {len(rebuild)} indexes and foreign keys rebuilt in "
                        f"{time.monotonic() - index_started:.1f} s"
                    )
            else:
                placeholders = ", ".join(["%s"] * (len(field_names) + len(extra)))
                sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608 - names from _meta
                sqlite_bulk = connection.vendor == "sqlite" and count >= REBUILD_INDEXES_FROM
                rebuild = _drop_sqlite_indexes(cursor, model._meta.db_table) if sqlite_bulk else []
                while done < count:
                    k = min(BATCH, count - done)
                    cursor.executemany(sql, [row + extra for row in rows(k)])
                    done += k
                    self._report(label, done, count, started)
                if rebuild:
                    index_started = time.monotonic()
                    for definition in rebuild:
                        cursor.execute(definition)
                    self.progress(
                        f"  {label}: {len(rebuild)} indexes rebuilt in "
                        f"{time.monotonic() - index_started:.1f} s"
                    )

    def _report(self, label, done, count, started):
        if done == count or done % PROGRESS_EVERY == 0:
            rate = done / max(time.monotonic() - started, 1e-9)
            self.progress(f"  {label}: {done:,}/{count:,} ({rate:,.0f}/s)")


def _drop_indexes_and_foreign_keys(cursor, table: str) -> list[str]:
    """Drop ``table``'s plain indexes (not the primary key, not unique ones, none
    behind a constraint) and its foreign keys; return the statements that make them
    again, to run after the COPY. A sorted index build is several times faster than a
    million insertions into each index, and one join validates a foreign key much faster
    than a trigger per row. Inside the load's transaction: others wait for the table,
    nothing is lost on failure."""
    cursor.execute(
        """
        SELECT i.relname, pg_get_indexdef(x.indexrelid)
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
        WHERE x.indrelid = %s::regclass AND NOT x.indisprimary AND NOT x.indisunique
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
        """,
        [table],
    )
    indexes = cursor.fetchall()
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype = 'f'",
        [table],
    )
    foreign_keys = cursor.fetchall()
    quote = connection.ops.quote_name
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {quote(name)}")
    for name, _definition in foreign_keys:
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
    return [definition for _name, definition in indexes] + [
        f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}"
        for name, definition in foreign_keys
    ]


def _drop_sqlite_indexes(cursor, table: str) -> list[str]:
    """SQLite's counterpart: drop the table's declared indexes (unique constraints have
    no SQL of their own and stay); return their CREATE statements."""
    cursor.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s"
        " AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%%'",
        [table],
    )
    indexes = cursor.fetchall()
    for name, _sql in indexes:
        cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    return [sql for _name, sql in indexes]


def _is_psycopg3() -> bool:
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return is_psycopg3
