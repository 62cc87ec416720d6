"""The shell in a real browser: login, navigation, visibility, language, phone, logout.

Every page visited must load without console errors or CSP violations.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by

# Data must be visible to the live server's thread: transactional tests.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def nav_link(page, key):
    return page.locator(f"#main-nav a[data-module={key}]")


def test_login_navigate_and_open_a_person(page, problems, login, owner):
    organization = owned_by(OrganizationFactory, owner, name="Müller Maschinenbau GmbH")
    person = owned_by(
        PersonFactory, owner, first_name="Anna", last_name="Schmidt", organization=organization
    )
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    login(page, owner)
    problems.check()

    nav_link(page, "customers").click()
    expect(page).to_have_url(re.compile(r"/customers/persons/$"))
    expect(nav_link(page, "customers")).to_have_attribute("aria-current", "page")
    problems.check()

    page.get_by_role("link", name="Schmidt, Anna").click()
    expect(page).to_have_url(re.compile(rf"/customers/persons/{person.uuid}/$"))
    expect(page.locator("h1")).to_contain_text("Anna Schmidt")
    expect(page.locator("dl.facts")).to_contain_text("Müller Maschinenbau GmbH")
    problems.check()

    page.goto("/customers/persons/")
    page.locator("nav.tabs").get_by_role("link", name="Organizations").click()
    expect(page).to_have_url(re.compile(r"/customers/organizations/$"))
    expect(page.locator("#list")).to_contain_text("Müller Maschinenbau GmbH")
    problems.check()


def test_a_sales_rep_does_not_see_another_teams_person(page, problems, login, owner, outsider):
    owned_by(PersonFactory, owner, first_name="Anna", last_name="Eigen")
    owned_by(PersonFactory, outsider, first_name="Bernd", last_name="Fremd")
    login(page, owner)
    page.goto("/customers/persons/")
    rows = page.locator("#rows")
    expect(rows).to_contain_text("Eigen, Anna")
    expect(rows).not_to_contain_text("Fremd")
    problems.check()


def test_language_switch_through_the_user_menu(page, problems, login, owner):
    login(page, owner)
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "en")
    menu = page.locator("details.user-menu")
    menu.locator("summary").click()
    menu.get_by_role("button", name="Deutsch").click()
    expect(html).to_have_attribute("lang", "de")
    expect(nav_link(page, "customers")).to_have_text("Kunden")
    problems.check()

    page.locator("details.user-menu summary").click()
    page.locator("details.user-menu").get_by_role("button", name="English").click()
    expect(html).to_have_attribute("lang", "en")
    expect(nav_link(page, "customers")).to_have_text("Customers")
    problems.check()


def test_phone_layout_opens_the_nav_with_the_toggle(phone_page, problems, login, owner):
    page = phone_page
    login(page, owner)
    toggle = page.locator("button.nav-toggle")
    nav = page.locator("#main-nav")
    expect(toggle).to_be_visible()
    expect(nav).to_be_hidden()
    toggle.click()
    expect(nav).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    nav_link(page, "customers").click()
    expect(page).to_have_url(re.compile(r"/customers/persons/$"))
    problems.check()


def test_logout(page, problems, login, admin):
    login(page, admin)
    expect(nav_link(page, "admin")).to_be_visible()
    page.locator("details.user-menu summary").click()
    page.locator("details.user-menu").get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.locator("details.user-menu")).to_have_count(0)
    page.goto("/customers/persons/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    problems.check()
