"""The one rule for "which version is shown" (queries.version_shown), which the
editor, the drawing, BPMN, the requirements document and the API all use."""

import pytest
from django.http import Http404

from kontor.processes import queries
from kontor.processes.services import definitions as services

pytestmark = pytest.mark.django_db


@pytest.fixture
def process(manager):
    return services.process_create(actor=manager, name="Onboarding", goal="A happy customer.")


def test_the_only_draft_is_shown_before_any_publication(process):
    assert queries.version_shown(process).number == 1


def test_the_published_version_is_shown_though_a_newer_draft_exists(manager, process):
    services.version_publish(actor=manager, version=process.versions.get())
    draft = services.version_new_draft(actor=manager, process=process)

    assert draft.number == 2
    assert queries.version_shown(process).number == 1
    # "" is what an empty ?version= gives: the same as none.
    assert queries.version_shown(process, "").number == 1


def test_a_number_as_text_or_int_picks_that_version(manager, process):
    services.version_publish(actor=manager, version=process.versions.get())
    services.version_new_draft(actor=manager, process=process)

    assert queries.version_shown(process, "2").number == 2
    assert queries.version_shown(process, 1).number == 1
    # The caller's process row is kept: no query for it again.
    assert queries.version_shown(process, 2).process is process


@pytest.mark.parametrize("number", ["x", "1.5", 7, "7"])
def test_a_version_that_is_not_there_is_404(process, number):
    with pytest.raises(Http404):
        queries.version_shown(process, number)
