"""The drawing of a process as SVG: well-formed, escaped, lanes in order, branches,
deadlines and end steps visible, an instance's progress marked, few queries, and the
views that serve it."""

import xml.etree.ElementTree as ET

import pytest
from defusedxml.ElementTree import fromstring
from django.urls import reverse
from django.utils import timezone

from kontor.processes.drawing import draw, layout
from kontor.processes.models import (
    InstanceStatus,
    Lane,
    Process,
    ProcessInstance,
    ProcessVersion,
    Responsible,
    Step,
    StepActivity,
    StepRun,
    StepRunStatus,
    Transition,
    VersionStatus,
)
from tests.core.factories import UserFactory
from tests.customers.factories import PersonFactory, owned_by

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"


def build_version(name="Trade-fair visitor", *, number=1, status=VersionStatus.PUBLISHED):
    """capture → qualify ⟨interested → offer → order (goal) | not interested → archive⟩,
    and offer → qualify back ("needs more information")."""
    process = Process.objects.create(name=name)
    version = ProcessVersion.objects.create(
        process=process,
        number=number,
        status=status,
        goal="First order placed",
        description="From the fair to the first order.",
        trigger="trade_fair_capture",
        trigger_config={"fair": "Hannover"},
    )
    add_steps(version)
    return version


def add_steps(version):
    def step(key, name, position, lane, **extra):
        return Step.objects.create(
            version=version, key=key, name=name, position=position, lane=lane, **extra
        )

    capture = step(
        "capture",
        "Capture the visitor",
        0,
        Lane.SALES,
        deadline_days=1,
        description="At the stand.",
        required_fields=["person.email", "custom.budget"],
    )
    qualify = step("qualify", "Qualify", 1, Lane.SALES, deadline_days=3)
    offer = step(
        "offer",
        "Send an offer",
        2,
        Lane.SALES,
        deadline_days=5,
        responsible=Responsible.SALES_MANAGER,
    )
    order = step(
        "order",
        "Customer orders",
        3,
        Lane.CUSTOMER,
        responsible=Responsible.CUSTOMER,
        is_end=True,
        goal_reached=True,
    )
    archive = step(
        "archive", "Archive", 4, Lane.SYSTEM, responsible=Responsible.SYSTEM, is_end=True
    )
    StepActivity.objects.create(
        step=capture,
        kind="task",
        title="Call back",
        description="Within a day.",
        config={"priority": "high"},
        grade="must",
        position=0,
    )
    StepActivity.objects.create(
        step=capture,
        kind="email",
        title="Thank-you mail",
        grade="should",
        required=False,
        position=1,
    )
    StepActivity.objects.create(step=offer, kind="checklist", title="Prices", grade="can")
    StepActivity.objects.create(step=archive, kind="field", title="Reason", grade="out")
    Transition.objects.create(version=version, source=capture, target=qualify)
    Transition.objects.create(
        version=version,
        source=qualify,
        target=offer,
        label="interested",
        condition={"field": "person.lifecycle", "equals": "prospect"},
        position=0,
    )
    Transition.objects.create(
        version=version, source=qualify, target=archive, label="not interested", position=1
    )
    Transition.objects.create(version=version, source=offer, target=order)
    Transition.objects.create(
        version=version, source=offer, target=qualify, label="needs more information", position=1
    )
    return version


def parse(svg: str) -> ET.Element:
    return fromstring(svg)


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == cls]


def fresh(version):
    return ProcessVersion.objects.select_related("process").get(pk=version.pk)


def test_the_drawing_is_a_standalone_accessible_svg():
    version = build_version()

    svg = draw(fresh(version), language="en")

    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-label") == "Trade-fair visitor, version 1"
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    assert root[0].tag == f"{SVG}title"
    assert root[0].text == "Trade-fair visitor, version 1"
    # Nothing a CSP or a sandbox would block, nothing from outside.
    for element in root.iter():
        assert element.tag not in (f"{SVG}script", f"{SVG}style", f"{SVG}foreignObject")
        for attribute, value in element.attrib.items():
            assert attribute != "style"
            assert not attribute.lower().startswith("on")
            assert "href" not in attribute
            assert "http" not in value
            assert not value.startswith("url(") or value.startswith("url(#")


def test_steps_lanes_deadlines_and_branches_are_drawn():
    version = build_version()

    root = parse(draw(fresh(version), language="en"))

    lanes = [g.get("data-lane") for g in groups(root, "lane")]
    assert lanes == ["customer", "sales", "system"]  # only those in use, in order
    words = texts(root)
    assert [w for w in words if w in ("Customer", "Sales", "System")] == [
        "Customer",
        "Sales",
        "System",
    ]
    assert [g.get("data-step") for g in groups(root, "step")] == [
        "capture",
        "qualify",
        "offer",
        "order",
        "archive",
    ]
    assert "≤ 1 business day" in words
    assert "≤ 3 business days" in words
    assert "≤ 5 business days" in words
    # qualify branches two ways, offer goes on or back: two gateways.
    assert len(groups(root, "gateway")) == 2
    assert len(groups(root, "transition")) == 5
    assert "interested" in words and "not interested" in words
    # End steps are double-bordered, the goal is marked.
    steps = {g.get("data-step"): g for g in groups(root, "step")}
    assert len(steps["order"].findall(f"{SVG}rect")) == 2
    assert len(steps["archive"].findall(f"{SVG}rect")) == 2
    assert len(steps["capture"].findall(f"{SVG}rect")) == 1
    assert [p.get("class") for p in steps["order"].findall(f"{SVG}polygon")] == ["goal"]
    assert steps["archive"].findall(f"{SVG}polygon") == []
    # One start.
    assert len(groups(root, "start")) == 1


def test_lane_names_and_deadlines_in_german():
    version = build_version()

    words = texts(parse(draw(fresh(version), language="de")))

    assert "Kunde" in words
    assert "Vertrieb" in words


def test_columns_follow_the_longest_path_and_ignore_the_loop_back():
    version = build_version()

    result = layout(version)

    columns = {box.step.key: box.column for box in result.boxes.values()}
    assert columns == {"capture": 0, "qualify": 1, "offer": 2, "order": 3, "archive": 2}
    # The way back runs to the left.
    back = next(r for r in result.routes if r.transition.label == "needs more information")
    assert back.points[-1][0] == result.boxes[back.transition.target_id].x
    assert back.points[0][0] > back.points[-1][0]


def test_names_are_escaped():
    process = Process.objects.create(name='Evil <svg onload="x"> & "Co"')
    version = ProcessVersion.objects.create(process=process, number=1, goal="g")
    name = "<script>alert(1)</script> & Söhne\x01"
    Step.objects.create(version=version, key="a", name=name, position=0)
    Step.objects.create(version=version, key="b", name="B", position=1)
    Transition.objects.create(
        version=version,
        source=version.steps.get(key="a"),
        target=version.steps.get(key="b"),
        label="<b>yes</b>",
    )

    svg = draw(fresh(version), language="en")

    assert "<script>" not in svg
    assert "<b>" not in svg
    assert "&lt;script&gt;" in svg
    root = parse(svg)
    assert root.get("aria-label") == 'Evil <svg onload="x"> & "Co", version 1'
    step = groups(root, "step")[0]
    assert "".join(texts(step)) == "<script>alert(1)</script> & Söhne"
    assert step.find(f"{SVG}title").text.startswith("<script>alert(1)</script> & Söhne\n")
    assert "<b>yes</b>" in texts(root)


def test_the_same_version_draws_the_same_svg():
    version = build_version()

    assert draw(fresh(version)) == draw(fresh(version))


def test_a_version_without_steps_draws_a_notice():
    process = Process.objects.create(name="Empty")
    version = ProcessVersion.objects.create(process=process, number=1, goal="g")

    root = parse(draw(fresh(version), language="en"))

    assert texts(root) == ["No steps yet."]


def start_instance(version, owner, *, current="offer", done=("capture", "qualify")):
    person = owned_by(PersonFactory, owner)
    steps = {s.key: s for s in version.steps.all()}
    instance = ProcessInstance.objects.create(
        version=version, person=person, current_step=steps[current], started_by=owner
    )
    now = timezone.now()
    for key in done:
        StepRun.objects.create(
            instance=instance,
            step=steps[key],
            status=StepRunStatus.DONE,
            entered_at=now,
            finished_at=now,
        )
    StepRun.objects.create(instance=instance, step=steps[current], entered_at=now)
    return instance


def test_an_instance_shows_its_current_and_finished_steps(owner, django_assert_num_queries):
    version = build_version()
    instance = start_instance(version, owner)
    instance = ProcessInstance.objects.select_related("version__process").get(pk=instance.pk)

    with django_assert_num_queries(4):  # step runs, steps, activities, transitions
        svg = draw(instance.version, instance=instance, language="en")

    root = parse(svg)
    states = {g.get("data-step"): g.get("data-state") for g in groups(root, "step")}
    assert states == {
        "capture": "done",
        "qualify": "done",
        "offer": "current",
        "order": "other",
        "archive": "other",
    }
    steps = {g.get("data-step"): g for g in groups(root, "step")}
    assert steps["order"].get("opacity") == "0.45"
    assert steps["offer"].get("opacity") is None
    assert len(groups(steps["capture"], "done")) == 1
    assert groups(steps["offer"], "done") == []
    assert "Current step" in texts(steps["offer"])


def test_a_completed_instance_highlights_no_current_step(owner):
    version = build_version()
    instance = start_instance(version, owner, current="order", done=("capture",))
    instance.status = InstanceStatus.COMPLETED
    instance.save()

    root = parse(draw(fresh(version), instance=instance))

    assert "current" not in [g.get("data-state") for g in groups(root, "step")]


def test_drawing_loads_the_version_in_three_queries(django_assert_num_queries):
    version = fresh(build_version())

    with django_assert_num_queries(3):
        draw(version)


def test_thirty_steps_with_branches_and_loops(django_assert_num_queries):
    process = Process.objects.create(name="Big")
    version = ProcessVersion.objects.create(process=process, number=1, goal="g")
    lanes = [lane for lane, _label in Lane.choices]
    steps = [
        Step.objects.create(
            version=version,
            key=f"s{n}",
            name=f"Step number {n} with a rather long name that wraps",
            position=n,
            lane=lanes[n % 5],
            deadline_days=n % 4 or None,
            is_end=n == 29,
        )
        for n in range(30)
    ]
    for n in range(29):
        Transition.objects.create(version=version, source=steps[n], target=steps[n + 1])
        StepActivity.objects.create(step=steps[n], kind="task", title=f"Do {n}")
        if n % 5 == 0 and n + 3 < 30:
            Transition.objects.create(
                version=version, source=steps[n], target=steps[n + 3], label="skip", position=1
            )
        if n % 7 == 6:
            Transition.objects.create(
                version=version, source=steps[n], target=steps[n - 4], label="again", position=2
            )
    version = fresh(version)

    with django_assert_num_queries(3):
        svg = draw(version)

    root = parse(svg)
    assert len(groups(root, "step")) == 30
    assert [g.get("data-lane") for g in groups(root, "lane")] == lanes
    assert max(box.column for box in layout(version).boxes.values()) == 29


# --- Views -------------------------------------------------------------------------------


def test_process_drawing_view(client, readonly):
    version = build_version()
    ProcessVersion.objects.create(
        process=version.process, number=2, goal="g", status=VersionStatus.DRAFT
    )
    client.force_login(readonly)
    url = reverse("processes:process_drawing", args=[version.process.uuid])

    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    root = parse(response.content.decode())
    # The published version by default.
    assert len(groups(root, "step")) == 5
    # Version 2 (a draft without steps) on request.
    root = parse(client.get(url, {"version": 2}).content.decode())
    assert groups(root, "step") == []
    assert client.get(url, {"version": 3}).status_code == 404
    assert client.get(url, {"version": "x"}).status_code == 404


def test_process_drawing_needs_login_and_the_right_to_see_customers(client):
    version = build_version()
    url = reverse("processes:process_drawing", args=[version.process.uuid])

    assert client.get(url).status_code == 302
    client.force_login(UserFactory(username="norole", role=None))
    assert client.get(url).status_code == 403


def test_instance_drawing_only_for_those_who_see_the_customer(client, owner, teammate, outsider):
    version = build_version()
    instance = start_instance(version, owner)
    url = reverse("processes:instance_drawing", args=[instance.uuid])

    client.force_login(teammate)
    response = client.get(url)
    assert response.status_code == 200
    states = [g.get("data-state") for g in groups(parse(response.content.decode()), "step")]
    assert states == ["done", "done", "current", "other", "other"]

    client.force_login(outsider)
    assert client.get(url).status_code == 404
