"""The person list's bulk form in a real browser: an export is a download that leaves
the page as it is, so the next button of the same form must still send it (the
double-click guard of kontor.js holds back only the same button); and pages fit a
phone's width even with a long choice in a select, a wide table or a long name
without spaces."""

from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by


def test_export_csv_then_excel_both_download(page, problems, login, owner):
    owned_by(PersonFactory, owner, first_name="Anna", last_name="Abel")
    login(page, owner)
    page.goto("/customers/persons/")
    page.check("#bulk input[name=all]")

    with page.expect_download() as csv_file:
        page.click("#bulk button[value=export_csv]")
    with page.expect_download(timeout=4_000) as xlsx_file:  # within the guard's 5 s
        page.click("#bulk button[value=export_xlsx]")

    assert csv_file.value.suggested_filename.endswith(".csv")
    assert xlsx_file.value.suggested_filename.endswith(".xlsx")
    problems.check()


def test_person_form_fits_a_phone_with_a_long_organization_name(phone_page, problems, login, owner):
    owned_by(
        OrganizationFactory,
        owner,
        name="Norddeutsche Präzisionswerkzeug- und Sondermaschinenbau GmbH & Co. KG",
    )
    login(phone_page, owner)
    phone_page.goto("/customers/persons/new/")

    assert phone_page.locator("h1").inner_text() == "New person"
    widths = phone_page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], widths
    problems.check()


def test_wide_tables_and_long_names_stay_inside_a_phone_screen(phone_page, problems, login, owner):
    organization = owned_by(OrganizationFactory, owner, name="Schäfer Elektro e.K.")
    person = owned_by(
        PersonFactory,
        owner,
        organization=organization,  # the buying-center table on the person's page
        first_name="Hakan",
        last_name='=HYPERLINK("http://example.invalid/averylongpathwithoutspaces","x")',
        email="hakan.austermuehle-vertriebsleitung@schaefer-elektro-sauer.example",
    )
    login(phone_page, owner)
    for url in (
        person.get_absolute_url(),
        f"/mail/compose/?person={person.uuid}",
        "/customers/duplicates/",  # a wide table with a visually hidden header
        "/settings/tokens/",
    ):
        phone_page.goto(url)
        phone_page.wait_for_load_state("networkidle")
        widths = phone_page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], (url, widths)
    problems.check()
