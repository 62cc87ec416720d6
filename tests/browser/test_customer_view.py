"""The 360° view in a real browser: the sections load with htmx under the CSP, the
buying center is drawn, and a buying-center role is added from the person's page."""

import re

from playwright.sync_api import expect

from kontor.customers import services
from kontor.customers.models import ContactRole, Equipment
from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by


def test_organization_360_loads_its_sections_and_draws_the_buying_center(
    page, problems, login, owner
):
    org = owned_by(OrganizationFactory, owner, name="Muster GmbH")
    anna = owned_by(PersonFactory, owner, first_name="Anna", last_name="Albers", title="")
    services.contact_role_set(
        person=anna, organization=org, actor=owner, job_title="CEO", buying_roles=["decider"]
    )
    Equipment.objects.create(organization=org, product="Hydraulikpresse")
    login(page, owner)
    page.goto(org.get_absolute_url())
    expect(page.locator("svg.buying-center-drawing .bc-person-text")).to_have_text(["Anna Albers"])
    expect(page.get_by_role("cell", name="Hydraulikpresse")).to_be_visible()
    expect(page.locator("h2", has_text="Contact history")).to_be_visible()
    problems.check()


def test_add_a_buying_center_role_from_the_person_page(page, problems, login, owner):
    org = owned_by(OrganizationFactory, owner, name="Muster GmbH")
    anna = owned_by(PersonFactory, owner, first_name="Anna", last_name="Albers", title="")
    login(page, owner)
    page.goto(anna.get_absolute_url())
    page.get_by_role("link", name="Link to an organization").click()
    page.get_by_label("Organization").select_option(label="Muster GmbH")
    page.get_by_label("Job title").fill("Einkaufsleiterin")
    page.get_by_label("Buyer").check()
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(rf"/customers/persons/{anna.uuid}/$"))
    expect(page.get_by_role("cell", name="Einkaufsleiterin")).to_be_visible()
    link = ContactRole.objects.get()
    assert (link.organization, link.job_title, link.buying_roles) == (
        org,
        "Einkaufsleiterin",
        ["buyer"],
    )
    problems.check()
