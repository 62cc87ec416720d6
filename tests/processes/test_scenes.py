from io import StringIO

import pytest
from django.core.management import call_command

from kontor.core.models import AuditEntry
from kontor.processes.models import Process, Step, StepActivity, VersionStatus
from kontor.processes.scenes import SCENES, scenes_install
from kontor.processes.validation import validate_version

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["de", "en"])
def test_every_scene_installs_as_a_valid_published_version(language):
    created = scenes_install(language=language)

    assert sorted(p.key for p in created) == sorted(s.key for s in SCENES)
    for process in created:
        (version,) = process.versions.all()
        assert version.number == 1
        assert version.status == VersionStatus.PUBLISHED
        assert version.published_at is not None
        assert validate_version(version) == [], process.key


def test_scenes_are_created_in_the_chosen_language():
    scenes_install(language="en")

    process = Process.objects.get(key="trade_fair_visitor")
    assert process.name == "Trade-fair visitor → new customer"
    version = process.versions.get()
    assert version.trigger == "trade_fair_capture"
    names = list(Step.objects.filter(version=version).values_list("name", flat=True))
    assert names[:3] == [
        "Trade-fair talk captured",
        "Send thank-you e-mail",
        "Call within 3 business days",
    ]


def test_trade_fair_scene_in_german_has_its_steps_deadlines_and_branch():
    scenes_install(language="de")

    version = Process.objects.get(key="trade_fair_visitor").versions.get()
    steps = {s.key: s for s in version.steps.all()}
    assert steps["captured"].name == "Messegespräch erfasst"
    assert steps["captured"].lane == "system"
    assert steps["call"].name == "Anruf innerhalb 3 Werktagen"
    assert steps["call"].deadline_days == 3
    assert steps["offer"].deadline_days == 5
    assert steps["won"].is_end and steps["won"].goal_reached
    assert steps["no_need"].is_end and not steps["no_need"].goal_reached
    labels = sorted(
        version.transitions.filter(source=steps["order"]).values_list("label", flat=True)
    )
    assert labels == ["Ja", "Nein"]
    grades = set(StepActivity.objects.filter(step__version=version).values_list("grade", flat=True))
    assert grades == {"must", "should", "can", "out"}


def test_install_is_idempotent_and_leaves_an_existing_scene_alone():
    scenes_install(language="de")
    process = Process.objects.get(key="complaint")
    process.name = "Unsere Reklamation"
    process.save()
    counts = (Process.objects.count(), Step.objects.count(), AuditEntry.objects.count())

    created = scenes_install(language="en")

    assert created == []
    assert (Process.objects.count(), Step.objects.count(), AuditEntry.objects.count()) == counts
    assert Process.objects.get(key="complaint").name == "Unsere Reklamation"


def test_install_is_audited():
    scenes_install(language="de")

    process = Process.objects.get(key="customer_visit")
    assert AuditEntry.objects.filter(object_repr=process.name, via="system").count() == 1


def test_command_installs_and_reports():
    out = StringIO()
    call_command("scenes_install", "--language", "en", stdout=out)
    call_command("scenes_install", stdout=out)

    assert Process.objects.count() == len(SCENES)
    assert "Scenes installed: 7 new, 0 already present" in out.getvalue()
    assert "Scenes installed: 0 new, 7 already present" in out.getvalue()
