"""Duplicate detection: German-aware matching (umlauts, legal forms, phone notations,
Straße = Str.), the keys the services keep, visibility, the background scan and its
review list, and the warnings while creating in the UI and the API."""

import pytest
from django.urls import reverse

from kontor.customers import duplicates, services, tasks
from kontor.customers.models import (
    DuplicateKind,
    DuplicatePair,
    DuplicateScan,
    DuplicateStatus,
    Organization,
    Person,
    ScanStatus,
)
from tests.core.test_api import assert_problem, post_json, writer
from tests.customers.factories import OrganizationFactory, owned_by
from tests.customers.test_views import person_form

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def person(actor, **data):
    """A person created through the service, as the UI and the API do."""
    data.setdefault("last_name", "Muster")
    return services.person_create(actor=actor, data=data)


def organization(actor, **data):
    return services.organization_create(actor=actor, data=data)


def found(user, model, **data):
    return [
        (c.record, c.score, c.reasons)
        for c in duplicates.candidates_for_data(user=user, model=model, data=data)
    ]


# --- Matching ----------------------------------------------------------------------------


def test_mueller_is_found_as_mueller_in_the_same_city(owner):
    existing = person(owner, first_name="Hans", last_name="Müller", city="Köln")
    assert found(owner, Person, first_name="Hans", last_name="Mueller", city="Koeln") == [
        (existing, 65, ["name_city"])
    ]


def test_a_surname_alike_by_sound_is_similar(owner):
    existing = person(owner, first_name="Anna", last_name="Meier", city="Bonn")
    assert found(owner, Person, first_name="Anna", last_name="Mayer", city="Bonn") == [
        (existing, 55, ["similar_name_city"])
    ]


def test_an_initial_agrees_with_the_first_name(owner):
    existing = person(owner, first_name="Michael", last_name="Schmidt", city="Bonn")
    assert found(owner, Person, first_name="M.", last_name="Schmitt", city="Bonn") == [
        (existing, 55, ["similar_name_city"])
    ]


def test_the_same_surname_elsewhere_or_with_another_first_name_is_no_candidate(owner):
    person(owner, first_name="Hans", last_name="Müller", city="Köln")
    assert found(owner, Person, first_name="Hans", last_name="Müller", city="Berlin") == []
    assert found(owner, Person, first_name="Peter", last_name="Müller", city="Köln") == []


def test_a_similar_name_at_the_same_organization(owner):
    org = owned_by(OrganizationFactory, owner, name="Muster GmbH")
    existing = person(owner, first_name="Jörg", last_name="Weiß", organization=org)
    assert found(owner, Person, first_name="Joerg", last_name="Weiss", organization=org) == [
        (existing, 85, ["name_organization"])
    ]


def test_the_same_email_in_any_case(owner):
    existing = person(owner, last_name="Schulz", email="Max.Schulz@Example.de")
    assert found(owner, Person, last_name="Lehmann", email="max.schulz@example.DE") == [
        (existing, 90, ["email"])
    ]


@pytest.mark.parametrize("notation", ["0221 1234567", "+49 221 1234567", "(0221) 123 45 67"])
def test_the_same_phone_number_in_any_notation(owner, notation):
    existing = person(owner, last_name="Schulz", phone="0221/123 45 67")
    assert existing.phone_key == "+492211234567"
    assert found(owner, Person, last_name="Lehmann", phone=notation) == [(existing, 70, ["phone"])]


def test_the_same_mobile_number_is_a_same_phone(owner):
    existing = person(owner, last_name="Schulz", mobile="0171 1234567")
    assert found(owner, Person, last_name="Lehmann", phone="+49 171 1234567") == [
        (existing, 70, ["phone"])
    ]


def test_strasse_and_str_are_the_same_address(owner):
    existing = person(
        owner,
        first_name="Hans",
        last_name="Müller",
        street="Hauptstraße 5",
        postal_code="50667",
        city="Köln",
    )
    result = found(
        owner, Person, first_name="Hans", last_name="Mueller", street="Hauptstr. 5", city="Köln"
    )
    assert result == [(existing, 76, ["name_city", "address"])]


def test_reasons_add_up_but_never_beyond_100(owner):
    existing = person(
        owner, first_name="Hans", last_name="Müller", city="Köln", email="h@example.de"
    )
    result = found(
        owner,
        Person,
        first_name="Hans",
        last_name="Mueller",
        city="Köln",
        email="H@example.de",
        phone="",
    )
    assert result == [(existing, 96, ["email", "name_city"])]


def test_legal_forms_do_not_tell_companies_apart(owner):
    existing = organization(owner, name="Müller Maschinenbau GmbH", city="Köln")
    assert found(owner, Organization, name="Mueller Maschinenbau GmbH & Co. KG", city="Köln") == [
        (existing, 80, ["company_name", "similar_company_place"])
    ]
    assert found(owner, Organization, name="Müller Maschinenbau AG", city="Hamburg") == [
        (existing, 60, ["company_name"])
    ]


def test_a_similar_company_name_in_the_same_postal_code(owner):
    existing = organization(owner, name="Meier Technik KG", postal_code="50667", city="Köln")
    assert found(owner, Organization, name="Meyer Technik", postal_code="50667") == [
        (existing, 50, ["similar_company_place"])
    ]


def test_companies_by_vat_id_website_domain_email_and_phone(owner):
    existing = organization(
        owner,
        name="Alpha GmbH",
        vat_id="DE123456789",
        website="https://www.alpha.de/kontakt",
        email="info@alpha.de",
        phone="0221 1234567",
    )
    assert found(owner, Organization, name="Beta", vat_id="de 123 456 789") == [
        (existing, 95, ["vat_id"])
    ]
    assert found(owner, Organization, name="Beta", website="alpha.de") == [
        (existing, 70, ["domain"])
    ]
    # A company e-mail tells the domain; a free-mail address does not.
    assert found(owner, Organization, name="Beta", email="vertrieb@alpha.de") == [
        (existing, 70, ["domain"])
    ]
    assert found(owner, Organization, name="Beta", email="alpha@gmail.com") == []
    assert found(owner, Organization, name="Beta", phone="+49 221 1234567") == [
        (existing, 70, ["phone"])
    ]


def test_a_record_is_not_its_own_duplicate(owner):
    existing = person(owner, last_name="Schulz", email="s@example.de")
    assert duplicates.candidates(user=owner, record=existing) == []


# --- Visibility ----------------------------------------------------------------------------


def test_no_candidates_the_user_may_not_see(owner, teammate, outsider):
    mine = person(owner, last_name="Schulz", email="s@example.de")
    theirs = person(outsider, last_name="Schulz", email="s@example.de")
    assert found(owner, Person, last_name="X", email="s@example.de") == [(mine, 90, ["email"])]
    assert found(teammate, Person, last_name="X", email="s@example.de") == [(mine, 90, ["email"])]
    assert found(outsider, Person, last_name="X", email="s@example.de") == [(theirs, 90, ["email"])]


# --- Keys ----------------------------------------------------------------------------------


def test_the_services_keep_the_keys(owner):
    record = person(owner, last_name="Müller", city="Köln", email="A@B.de", phone="0221 1234567")
    assert (
        record.email_key,
        record.phone_key,
        record.name_key,
        record.phonetic_key,
        record.city_key,
    ) == ("a@b.de", "+492211234567", "mueller", "657", "koeln")
    record = services.person_update(person=record, actor=owner, data={"city": "München"})
    assert Person.objects.get().city_key == "muenchen"
    org = organization(owner, name="Bäckerei Groß e.K.", website="https://www.baeckerei-gross.de")
    assert (org.name_key, org.domain_key) == ("baeckerei gross", "baeckerei-gross.de")


def test_keys_are_not_audited(owner):
    record = person(owner, last_name="Müller", city="Köln")
    services.person_update(person=record, actor=owner, data={"city": "Bonn"})
    from kontor.core.models import AuditEntry

    assert AuditEntry.objects.filter(action="update").get().changes == {"city": ["Köln", "Bonn"]}


def test_backfill_derives_the_keys_of_existing_rows(owner):
    record = person(owner, last_name="Müller", email="M@x.de")
    Person.objects.update(email_key="", phonetic_key="")
    count = duplicates.backfill_keys(
        Person, duplicates.derive_person_keys, duplicates.PERSON_KEYS, batch_size=1
    )
    record.refresh_from_db()
    assert (count, record.email_key, record.phonetic_key) == (1, "m@x.de", "657")


@pytest.mark.parametrize("model", [Person, Organization])
def test_backfill_goes_in_batches_reading_only_what_the_keys_need(
    owner, model, django_assert_num_queries
):
    # given five rows whose keys are missing
    for i in range(5):
        if model is Person:
            person(owner, last_name=f"Müller{i}", email=f"m{i}@x.de", interests="Golf")
        else:
            organization(owner, name=f"Bäckerei {i} GmbH", email=f"b{i}@x.de")
    model.objects.update(email_key="", phonetic_key="")
    derive = (
        duplicates.derive_person_keys if model is Person else duplicates.derive_organization_keys
    )
    keys = duplicates.PERSON_KEYS if model is Person else duplicates.ORGANIZATION_KEYS
    # when they are backfilled two at a time: per batch a read and an UPDATE, then
    # the read that finds no more rows — no query per row
    with django_assert_num_queries(3 + 3 + 1) as captured:
        count = duplicates.backfill_keys(model, derive, keys, batch_size=2)
    # then every row has its keys; each read walks the primary key from the last
    # row of the batch before, and loads no column the keys are not made from
    assert count == 5
    assert sorted(model.objects.values_list("email_key", flat=True)) == [
        f"{'m' if model is Person else 'b'}{i}@x.de" for i in range(5)
    ]
    assert "" not in model.objects.values_list("phonetic_key", flat=True)
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]
    assert len(reads) == 4
    assert all("LIMIT 2" in sql and "ORDER BY" in sql for sql in reads)
    assert all('."id" >' in sql for sql in reads[1:])
    assert not [sql for sql in reads if '"custom"' in sql or '"interests"' in sql]


def test_a_check_costs_one_query_for_any_number_of_candidates(owner, django_assert_num_queries):
    for i in range(10):
        person(owner, first_name="Hans", last_name="Müller", city="Köln", email=f"{i}@x.de")
    found(owner, Person, last_name="X")  # the user's teams, read once per request
    with django_assert_num_queries(1):
        result = found(owner, Person, first_name="Hans", last_name="Müller", city="Köln")
    assert len(result) == 10


# --- The background scan and the review list ----------------------------------------------


def scan(actor, settings, django_capture_on_commit_callbacks, kind=DuplicateKind.PERSON):
    settings.TASKS = IMMEDIATE
    with django_capture_on_commit_callbacks(execute=True):
        started = tasks.duplicate_scan_start(kind=kind, actor=actor)
    return DuplicateScan.objects.get(pk=started.pk)


def test_the_scan_stores_each_pair_once_with_score_and_reasons(
    admin, owner, settings, django_capture_on_commit_callbacks
):
    a = person(owner, first_name="Hans", last_name="Müller", city="Köln", email="h@x.de")
    b = person(owner, first_name="Hans", last_name="Mueller", city="Köln", email="H@X.de")
    person(owner, first_name="Eva", last_name="Schulz", city="Bonn", email="e@x.de")
    done = scan(admin, settings, django_capture_on_commit_callbacks)
    assert (done.status, done.done, done.total, done.pairs_found) == (ScanStatus.DONE, 3, 3, 1)
    pair = DuplicatePair.objects.get()
    assert (pair.kind, pair.a_id, pair.b_id, pair.score, pair.reasons, pair.status) == (
        "person",
        a.pk,
        b.pk,
        96,
        ["email", "name_city"],
        "open",
    )


def test_a_dismissed_pair_stays_dismissed_and_stale_pairs_go(
    admin, owner, settings, django_capture_on_commit_callbacks
):
    a = person(owner, last_name="Schulz", email="s@x.de")
    person(owner, last_name="Lehmann", email="s@x.de")
    c = person(owner, last_name="Krause", phone="0221 1234567")
    d = person(owner, last_name="Berg", phone="0221 1234567")
    scan(admin, settings, django_capture_on_commit_callbacks)
    DuplicatePair.objects.filter(a_id=a.pk).update(status=DuplicateStatus.DISMISSED)
    services.person_update(person=d, actor=owner, data={"phone": ""})
    scan(admin, settings, django_capture_on_commit_callbacks)
    assert list(DuplicatePair.objects.values_list("a_id", "status")) == [(a.pk, "dismissed")]
    assert c.pk not in DuplicatePair.objects.values_list("a_id", flat=True)


def test_organizations_are_scanned_too(admin, owner, settings, django_capture_on_commit_callbacks):
    organization(owner, name="Alpha GmbH", city="Köln")
    organization(owner, name="Alpha GmbH & Co. KG", city="Köln")
    scan(admin, settings, django_capture_on_commit_callbacks, kind=DuplicateKind.ORGANIZATION)
    assert list(DuplicatePair.objects.values_list("kind", "score")) == [("organization", 80)]


def test_a_second_start_while_a_scan_runs_returns_the_running_one(admin):
    first = tasks.duplicate_scan_start(kind=DuplicateKind.PERSON, actor=admin)
    second = tasks.duplicate_scan_start(kind=DuplicateKind.PERSON, actor=admin)
    assert (first.pk, DuplicateScan.objects.count()) == (second.pk, 1)


def make_pair(a, b, score=90, reasons=("email",)):
    a, b = sorted((a, b), key=lambda r: r.pk)
    return DuplicatePair.objects.create(
        kind=duplicates.kind_of(type(a)), a_id=a.pk, b_id=b.pk, score=score, reasons=list(reasons)
    )


def test_review_list_shows_visible_pairs_with_score_and_reasons(client, owner, outsider):
    mine = make_pair(
        person(owner, last_name="Schulz", email="s@x.de"),
        person(owner, last_name="Schultz", email="s@x.de"),
    )
    make_pair(
        person(outsider, last_name="Geheim", email="g@x.de"),
        person(outsider, last_name="Geheim", email="g@x.de"),
    )
    # A pair of one visible and one invisible record is not shown either.
    make_pair(
        person(owner, last_name="Halb", email="h@x.de"),
        person(outsider, last_name="Halb", email="h@x.de"),
    )
    client.force_login(owner)
    response = client.get(reverse("customers:duplicate_list"))
    assert response.status_code == 200
    assert [p.pk for p in response.context["pairs"]] == [mine.pk]
    page = response.content.decode()
    assert "Schultz" in page and "same e-mail" in page and "Geheim" not in page
    assert "Halb" not in page


@pytest.mark.parametrize("size", [2, 12])
def test_review_list_costs_the_same_queries_at_any_size(
    client, admin, owner, size, django_assert_num_queries
):
    for i in range(size):
        make_pair(
            person(owner, last_name=f"A{i}", email=f"{i}@x.de"),
            person(owner, last_name=f"B{i}", email=f"{i}@x.de"),
        )
    client.force_login(admin)
    url = reverse("customers:duplicate_list")
    client.get(url)
    # session, user, 2FA device, role; then pairs, their records, the last scan
    with django_assert_num_queries(7):
        response = client.get(url)
    assert len(response.context["pairs"]) == size


def test_not_a_duplicate_dismisses_the_pair(client, owner, outsider):
    pair = make_pair(
        person(owner, last_name="Schulz", email="s@x.de"),
        person(owner, last_name="Lehmann", email="s@x.de"),
    )
    client.force_login(outsider)
    url = reverse("customers:duplicate_dismiss", args=[pair.pk])
    assert client.post(url).status_code == 404
    assert DuplicatePair.objects.get().status == "open"
    client.force_login(owner)
    response = client.post(url, HTTP_HX_REQUEST="true")
    assert (response.status_code, response.content) == (200, b"")
    pair.refresh_from_db()
    assert (pair.status, pair.resolved_by) == ("dismissed", owner)
    assert client.get(reverse("customers:duplicate_list")).context["pairs"] == []


def test_scan_progress_is_polled_while_it_runs(client, owner):
    client.force_login(owner)
    response = client.post(
        reverse("customers:duplicate_scan_start"), {"kind": "person"}, HTTP_HX_REQUEST="true"
    )
    scan_row = DuplicateScan.objects.get()
    progress_url = reverse("customers:duplicate_scan_progress", args=[scan_row.pk])
    assert f'hx-get="{progress_url}"' in response.content.decode()
    assert 'hx-trigger="every 2s"' in response.content.decode()
    DuplicateScan.objects.update(status=ScanStatus.RUNNING, done=50, total=200)
    running = client.get(progress_url)
    assert "50 of 200" in running.text and 'value="25"' in running.text
    assert "HX-Refresh" not in running
    DuplicateScan.objects.update(status=ScanStatus.DONE, done=200)
    finished = client.get(progress_url)
    assert "every 2s" not in finished.text
    # The page reloads once to show the pairs the scan found.
    assert finished["HX-Refresh"] == "true"


def test_a_scan_not_yet_counted_shows_no_zero_of_zero(client, owner):
    # Until the worker has counted the records the total is 0: no "0 of 0" and no full
    # bar, neither while it runs nor when it is cancelled before it began.
    client.force_login(owner)
    started = client.post(
        reverse("customers:duplicate_scan_start"), {"kind": "person"}, HTTP_HX_REQUEST="true"
    )
    scan_row = DuplicateScan.objects.get()
    assert scan_row.total == 0
    assert "the records are being counted" in started.text
    assert "0 of 0" not in started.text
    assert '<progress id="scan-bar" max="100"></progress>' in started.text
    # The cancel button is greyed while its request runs (it may wait for the worker).
    assert 'hx-disabled-elt="find button"' in started.text
    cancelled = client.post(
        reverse("customers:duplicate_scan_cancel", args=[scan_row.pk]), HTTP_HX_REQUEST="true"
    )
    assert "cancelled before it began" in cancelled.text
    assert "0 of 0" not in cancelled.text


def test_readonly_may_not_start_a_scan(client, readonly):
    client.force_login(readonly)
    assert client.post(reverse("customers:duplicate_scan_start")).status_code == 403
    assert DuplicateScan.objects.count() == 0


# --- Warnings while creating: UI -------------------------------------------------------------


def test_create_form_warns_on_submit_and_creates_only_when_confirmed(client, owner):
    existing = person(owner, first_name="Hans", last_name="Müller", city="Köln")
    client.force_login(owner)
    url = reverse("customers:person_create")
    data = person_form(first_name="Hans", last_name="Mueller", city="Köln")
    response = client.post(url, data)
    assert response.status_code == 422
    page = response.content.decode()
    assert existing.get_absolute_url() in page
    assert "Create anyway" in page and "same name in the same city" in page
    assert Person.objects.count() == 1
    response = client.post(url, {**data, "allow_duplicates": "1"})
    assert response.status_code == 302
    assert Person.objects.count() == 2


def test_create_without_duplicates_saves_at_once(client, owner):
    client.force_login(owner)
    response = client.post(reverse("customers:person_create"), person_form(last_name="Neu"))
    assert response.status_code == 302
    assert Person.objects.get().last_name == "Neu"


def test_live_check_lists_likely_duplicates_as_the_user_types(client, owner, outsider):
    existing = person(owner, last_name="Schulz", email="s@x.de")
    person(outsider, last_name="Schulz", email="s@x.de")
    client.force_login(owner)
    response = client.post(
        reverse("customers:person_duplicate_check"),
        {"last_name": "Sch", "email": "S@X.DE"},
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert page.count("<li>") == 1 and existing.get_absolute_url() in page
    assert "Create anyway" not in page
    response = client.post(reverse("customers:organization_duplicate_check"), {"name": "Nichts"})
    assert (response.status_code, response.content.decode().strip()) == (200, "")


def test_create_form_has_the_live_check(client, owner):
    client.force_login(owner)
    page = client.get(reverse("customers:organization_create")).content.decode()
    assert reverse("customers:organization_duplicate_check") in page


# --- Warnings while creating: API ------------------------------------------------------------


def test_api_create_answers_409_with_the_candidates(client, owner):
    existing = person(owner, last_name="Schulz", email="s@x.de")
    body = {"last_name": "Schultz", "email": "S@x.de"}
    response = post_json(client, "/api/v1/persons", body, **writer(owner))
    problem = assert_problem(
        response,
        409,
        "Conflict",
        "This record probably exists already. Use one of the candidates, or send the request "
        "again with ?allow_duplicates=true.",
        candidates=[
            {
                "uuid": str(existing.uuid),
                "name": "Schulz",
                "score": 90,
                "reasons": [{"code": "email", "text": "same e-mail"}],
            }
        ],
    )
    assert problem["status"] == 409
    assert Person.objects.count() == 1
    response = post_json(client, "/api/v1/persons?allow_duplicates=true", body, **writer(owner))
    assert response.status_code == 201
    assert Person.objects.count() == 2


def test_api_create_organization_answers_409_for_the_same_company(client, owner):
    existing = organization(owner, name="Alpha GmbH", city="Köln")
    body = {"name": "Alpha GmbH & Co. KG", "city": "Köln"}
    response = post_json(client, "/api/v1/organizations", body, **writer(owner))
    assert response.status_code == 409
    assert [(c["uuid"], c["score"]) for c in response.json()["candidates"]] == [
        (str(existing.uuid), 80)
    ]
    assert Organization.objects.count() == 1


def test_api_create_ignores_what_the_caller_may_not_see(client, owner, outsider):
    person(outsider, last_name="Schulz", email="s@x.de")
    body = {"last_name": "Schulz", "email": "s@x.de"}
    assert post_json(client, "/api/v1/persons", body, **writer(owner)).status_code == 201


def test_api_lists_and_dismisses_pairs(client, owner, outsider):
    a = person(owner, last_name="Schulz", email="s@x.de")
    b = person(owner, last_name="Lehmann", email="s@x.de")
    pair = make_pair(a, b)
    body = client.get("/api/v1/duplicates?kind=person", **writer(owner)).json()
    assert body == {
        "items": [
            {
                "id": pair.pk,
                "kind": "person",
                "a": {"uuid": str(a.uuid), "name": "Schulz"},
                "b": {"uuid": str(b.uuid), "name": "Lehmann"},
                "score": 90,
                "reasons": [{"code": "email", "text": "same e-mail"}],
            }
        ],
        "next_cursor": None,
    }
    assert client.get("/api/v1/duplicates", **writer(outsider)).json()["items"] == []
    url = f"/api/v1/duplicates/{pair.pk}/dismiss"
    assert post_json(client, url, {}, **writer(outsider)).status_code == 404
    assert post_json(client, url, {}, **writer(owner)).status_code == 204
    assert DuplicatePair.objects.get().status == "dismissed"
