"""Realistic German demo data (Faker de_DE), written with bulk inserts.

Sizes: small (~1,000 persons) for `make run`, medium (100k) and large (1M) for
benchmarks. Each later feature extends ``load_demo`` with its own entities.
"""

import random
from collections.abc import Callable

from django.contrib.auth.hashers import make_password
from django.db import transaction
from faker import Faker

from kontor.core.models import Role, Team, User
from kontor.core.permissions import RoleCode
from kontor.customers.models import CustomerKind, LifecycleStatus, Organization, Person, Salutation

DEMO_PASSWORD = "kontor-demo"  # noqa: S105 - printed on purpose, demo data only
SIZES = {"small": 1_000, "medium": 100_000, "large": 1_000_000}
BATCH = 5_000

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


@transaction.atomic
def load_demo(*, size: str, seed: int = 42, progress: Callable[[str], object] = print) -> dict:
    fake = Faker("de_DE")
    Faker.seed(seed)
    rnd = random.Random(seed)
    users, teams = _users()
    # Records belong to the people who work on customers, and to their team.
    owners = [u for u in users if u.username.startswith(("rep", "manager", "service"))]
    team_of = {u.pk: u.teams.order_by("id").first() for u in owners}

    n_persons = SIZES[size]
    n_orgs = max(50, n_persons // 5)
    org_ids = _organizations(fake, rnd, n_orgs, owners, team_of, progress)
    _persons(fake, rnd, n_persons, org_ids, owners, team_of, progress)
    return {"users": len(users), "teams": len(teams), "organizations": n_orgs, "persons": n_persons}


def _organizations(fake, rnd, count, owners, team_of, progress) -> list[int]:
    start = Organization.objects.count()
    batch = []
    for i in range(count):
        owner = rnd.choice(owners)
        batch.append(
            Organization(
                name=f"{fake.last_name()} {rnd.choice(INDUSTRIES)} {rnd.choice(LEGAL_FORMS)}",
                kind=rnd.choice(CustomerKind.values),
                status=rnd.choice(LifecycleStatus.values),
                industry=rnd.choice(INDUSTRIES),
                street=fake.street_address(),
                postal_code=fake.postcode(),
                city=fake.city(),
                phone=fake.phone_number(),
                email=fake.company_email(),
                website=f"https://www.{fake.domain_word()}.de",
                owner=owner,
                team=team_of[owner.pk],
            )
        )
        if len(batch) >= BATCH or i == count - 1:
            Organization.objects.bulk_create(batch, batch_size=BATCH)
            batch = []
            progress(f"  organizations: {i + 1}/{count}")
    return list(Organization.objects.order_by("id").values_list("id", flat=True)[start:])


def _persons(fake, rnd, count, org_ids, owners, team_of, progress) -> None:
    batch = []
    for i in range(count):
        owner = rnd.choice(owners)
        female = rnd.random() < 0.5
        first = fake.first_name_female() if female else fake.first_name_male()
        last = fake.last_name()
        consumer = rnd.random() < 0.2
        batch.append(
            Person(
                salutation=Salutation.MS if female else Salutation.MR,
                title=rnd.choice(["", "", "", "", "Dr.", "Prof."]),
                first_name=first,
                last_name=last,
                organization_id=None if consumer else rnd.choice(org_ids),
                job_title="" if consumer else rnd.choice(JOB_TITLES),
                email=f"{first}.{last}@{fake.free_email_domain()}".lower().replace(" ", ""),
                phone=fake.phone_number(),
                city=fake.city(),
                birth_date=fake.date_of_birth(minimum_age=18, maximum_age=85)
                if rnd.random() < 0.4
                else None,
                owner=owner,
                team=team_of[owner.pk],
            )
        )
        if len(batch) >= BATCH or i == count - 1:
            Person.objects.bulk_create(batch, batch_size=BATCH)
            batch = []
            progress(f"  persons: {i + 1}/{count}")
