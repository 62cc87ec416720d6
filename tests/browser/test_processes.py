"""Processes in a real browser: a process owner creates a process, sees it drawn
(the SVG loads as an image under the CSP) and exports it as BPMN."""

import re

from playwright.sync_api import expect

from kontor.processes.models import Process


def test_create_a_process_and_see_it_drawn(page, problems, login, admin):
    login(page, admin)
    page.goto("/processes/new/")
    page.fill("#id_name", "Messebesucher wird Neukunde")
    page.fill("#id_goal", "Erster Auftrag erteilt")
    page.get_by_role("button", name="Save").click()
    process = Process.objects.get()
    expect(page).to_have_url(re.compile(rf"/processes/{process.uuid}/"))
    drawing = page.locator(".process-drawing img")
    expect(drawing).to_be_visible()
    assert page.evaluate("(img) => img.naturalWidth", drawing.element_handle()) > 0
    bpmn = page.request.get(page.get_by_role("link", name="Export as BPMN").get_attribute("href"))
    assert bpmn.status == 200
    assert b"Messebesucher wird Neukunde" in bpmn.body()
    problems.check()
