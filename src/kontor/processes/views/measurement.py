"""The figures page of a process: one version's figures, optionally beside another
version's (did the change help?)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from kontor.processes import queries
from kontor.processes.measurement import version_figures


def _number(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


BAR_SPACE = 380  # pixels of the chart's bar area (x from 200 to 580)


def _bars(figures, compare=None) -> list[dict]:
    """Per step the funnel share (entered / started) as bar widths in pixels, for
    the inline SVG chart (presentation attributes only: the CSP forbids styles)."""
    other = {f.step.key: f for f in compare.steps} if compare else {}
    bars = []
    for i, step in enumerate(figures.steps):
        twin = other.get(step.step.key)
        bars.append(
            {
                "name": step.step.name,
                "y": 8 + i * 34,
                "width": round((step.reached or 0) * BAR_SPACE),
                "compare_width": round((twin.reached or 0) * BAR_SPACE) if twin else None,
                "share": step.reached,
            }
        )
    return bars


@login_required
def process_figures(request: HttpRequest, uuid) -> HttpResponse:
    process = queries.process_get(user=request.user, uuid=uuid)
    version = queries.version_shown(process, _number(request.GET.get("version")))
    figures = version_figures(version)
    compare = None
    compare_number = _number(request.GET.get("compare"))
    if compare_number is not None and compare_number != version.number:
        compare = version_figures(queries.version_shown(process, compare_number))
    return render(
        request,
        "processes/process_figures.html",
        {
            "process": process,
            "figures": figures,
            "compare": compare,
            "versions": queries.versions_of(process),
            "bars": _bars(figures, compare),
            "chart_height": 16 + 34 * len(figures.steps),
        },
    )


urlpatterns: list = [path("<uuid:uuid>/figures/", process_figures, name="process_figures")]
