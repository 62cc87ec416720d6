"""The organization picker of the person list's filters, in a real browser under the
CSP: typing suggests organizations (htmx), choosing one filters the list and puts its
uuid in the URL, emptying the box removes the filter."""

import re

from playwright.sync_api import expect

from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by


def test_pick_an_organization_to_filter_the_person_list(page, problems, login, owner):
    meier = owned_by(OrganizationFactory, owner, name="Meier GmbH")
    owned_by(OrganizationFactory, owner, name="Zander AG")
    owned_by(PersonFactory, owner, first_name="Anna", last_name="Abel", organization=meier)
    owned_by(PersonFactory, owner, first_name="Ben", last_name="Bauer")
    login(page, owner)
    page.goto("/customers/persons/")
    rows = page.locator("#rows td a")
    expect(rows).to_have_text(["Abel, Anna", "Bauer, Ben"])

    page.locator("details.filters summary").click()
    page.get_by_role("combobox", name="Organization").fill("meier")
    page.get_by_role("button", name="Meier GmbH").click()

    expect(rows).to_have_text(["Abel, Anna"])
    expect(page).to_have_url(re.compile(rf"organization={meier.uuid}"))
    expect(page.get_by_role("combobox", name="Organization")).to_have_value("Meier GmbH")

    page.get_by_role("combobox", name="Organization").fill("")
    expect(rows).to_have_text(["Abel, Anna", "Bauer, Ben"])
    problems.check()
