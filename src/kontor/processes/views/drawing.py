"""The drawing of a process (SVG), and BPMN 2.0 export and import.

Process definitions are not customer data: whoever may see customers may see how
the company's processes run (drawing, BPMN download). Importing a BPMN file creates
a new draft version and needs ``processes.manage``. An instance's drawing is shown
only to those who may see the instance's customer."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from kontor.core.access import get_object_for_user, require
from kontor.core.forms import add_service_errors
from kontor.core.permissions import Capability
from kontor.processes import bpmn, queries
from kontor.processes.drawing import draw
from kontor.processes.models import Process, ProcessInstance


class BpmnImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("BPMN file (.bpmn, .xml)"),
        help_text=gettext_lazy(
            "BPMN 2.0 XML, at most 5 MB, e.g. from Camunda Modeler or bpmn.io. "
            "It becomes a new draft version."
        ),
    )


def svg_response(svg: str) -> HttpResponse:
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    # Opened on its own, the file runs nothing and loads nothing.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def process_drawing(request: HttpRequest, uuid) -> HttpResponse:
    require(request.user, Capability.CUSTOMERS_VIEW)
    process = get_object_or_404(Process, uuid=uuid)
    return svg_response(draw(queries.version_shown(process, request.GET.get("version"))))


@login_required
@require_GET
def process_bpmn_export(request: HttpRequest, uuid) -> HttpResponse:
    require(request.user, Capability.CUSTOMERS_VIEW)
    process = get_object_or_404(Process, uuid=uuid)
    return bpmn.export_response(queries.version_shown(process, request.GET.get("version")))


def _detail_url(process: Process) -> str:
    # The process page belongs to the definitions views; the drawing when it is missing.
    try:
        return process.get_absolute_url()
    except NoReverseMatch:
        return reverse("processes:process_drawing", args=[process.uuid])


def _import(request: HttpRequest, process: Process | None) -> HttpResponse:
    require(request.user, Capability.PROCESSES_MANAGE)
    form = BpmnImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > bpmn.MAX_FILE_SIZE:
            form.add_error("file", _("The file is larger than 5 MB."))
        else:
            try:
                result = bpmn.import_bpmn(
                    upload.read(), process=process, actor=request.user, via="ui"
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
    context = {
        "form": form,
        "process": process,
        "result": result,
        "detail_url": _detail_url(result.process) if result else "",
    }
    return render(
        request,
        "processes/bpmn_import.html",
        context,
        status=422 if request.method == "POST" and form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def process_bpmn_import(request: HttpRequest, uuid) -> HttpResponse:
    """A BPMN file as a new draft version of this process."""
    require(request.user, Capability.PROCESSES_MANAGE)
    return _import(request, get_object_or_404(Process, uuid=uuid))


@login_required
@require_http_methods(["GET", "POST"])
def process_bpmn_import_new(request: HttpRequest) -> HttpResponse:
    """A BPMN file as a new process."""
    return _import(request, None)


@login_required
@require_GET
def instance_drawing(request: HttpRequest, uuid) -> HttpResponse:
    require(request.user, Capability.CUSTOMERS_VIEW)
    instance = get_object_for_user(
        ProcessInstance, request.user, uuid=uuid, related=("version__process",)
    )
    return svg_response(draw(instance.version, instance=instance))


urlpatterns: list = [
    path("<uuid:uuid>/drawing.svg", process_drawing, name="process_drawing"),
    path("<uuid:uuid>/bpmn", process_bpmn_export, name="process_bpmn_export"),
    path("<uuid:uuid>/bpmn/import", process_bpmn_import, name="process_bpmn_import"),
    path("bpmn/import", process_bpmn_import_new, name="process_bpmn_import_new"),
    path("instances/<uuid:uuid>/drawing.svg", instance_drawing, name="instance_drawing"),
]
