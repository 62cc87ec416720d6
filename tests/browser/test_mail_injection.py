"""Issue 12, item 1, in a real browser: a person whose last name is an htmx element
that deletes another person, opened in "Write e-mail" by a manager. The victim
survives; the live preview (an htmx POST with the token from csrf.js) still works;
a request from inside an hx-disable region gets no token and is refused."""

import re

import pytest
from playwright.sync_api import expect

from kontor.core.permissions import RoleCode
from kontor.customers.models import Person
from kontor.demo.activities import TEMPLATE_BODY, TEMPLATE_NAME, TEMPLATE_SUBJECT
from kontor.mail.models import EmailTemplate
from tests.conftest import role
from tests.core.factories import UserFactory
from tests.customers.factories import PersonFactory, owned_by

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_hostile_name_deletes_nobody_and_the_preview_still_works(
    page, problems, login, owner, team
):
    victim = owned_by(PersonFactory, owner, first_name="Vera", last_name="Opfer")
    person = owned_by(
        PersonFactory,
        owner,
        first_name="Max",
        last_name=f"<b hx-post=/customers/persons/{victim.uuid}/delete/ hx-trigger=load>",
        salutation="mr",
        email="max@kunde.example",
    )
    template = EmailTemplate.objects.create(
        name=TEMPLATE_NAME, subject=TEMPLATE_SUBJECT, body=TEMPLATE_BODY, language="de"
    )
    manager = UserFactory(username="manager", role=role(RoleCode.SALES_MANAGER), teams=[team])
    login(page, manager)

    deletes = []
    page.on("request", lambda r: deletes.append(r.url) if "/delete/" in r.url else None)
    page.goto(f"/mail/compose/?person={person.uuid}&template={template.uuid}")
    preview = page.locator("#compose-preview .compose-preview-body")
    # The preview came through htmx (hx-trigger=load, a POST with csrf.js's header).
    expect(preview).to_contain_text("Sehr geehrter Herr <b hx-post=/customers/persons/")
    expect(page.locator("#compose-preview b")).to_have_count(0)
    # Typing updates it (another POST).
    page.fill("#id_subject", "Neuer Betreff")
    expect(page.locator(".compose-preview-subject")).to_have_text("Neuer Betreff")
    assert deletes == []
    assert Person.objects.filter(pk=victim.pk).exists()
    problems.check()


def test_a_request_from_inside_hx_disable_carries_no_token(page, problems, login, owner):
    person = owned_by(PersonFactory, owner, first_name="Eva", last_name="Berg", email="e@x.de")
    template = EmailTemplate.objects.create(
        name="Hallo", subject="Hallo {{ person.first_name }}", body="Text"
    )
    login(page, owner)
    page.goto(f"/mail/compose/?person={person.uuid}")
    # Choosing a template still fills the fields (an htmx GET into the hx-disable region).
    page.select_option("#id_template", str(template.uuid))
    expect(page.locator("#id_subject")).to_have_value("Hallo Eva")
    expect(page.locator(".compose-preview-subject")).to_have_text("Hallo Eva")
    with page.expect_response(re.compile(r"/mail/compose/preview/")) as outside:
        page.evaluate(
            """() => htmx.ajax('POST', '/mail/compose/preview/',
                {source: '#compose-preview', swap: 'none'})"""
        )
    assert outside.value.status == 200
    with page.expect_response(re.compile(r"/mail/compose/preview/")) as inside:
        page.evaluate(
            """() => htmx.ajax('POST', '/mail/compose/preview/',
                {source: '.compose-notes', swap: 'none'})"""
        )
    # csrf.js gave the element in the hx-disable region no token: Django refuses it.
    assert inside.value.status == 403
    assert inside.value.request.header_value("X-CSRFToken") is None
    assert outside.value.request.header_value("X-CSRFToken")
    # The refused request logs a console error; that is the point here.
    problems.items.clear()
