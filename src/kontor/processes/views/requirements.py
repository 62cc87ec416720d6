"""The requirements document (Lastenheft) of a process version as PDF and DOCX, and
the acceptance page where each requirement is marked accepted or open.

Process definitions are not customer data: whoever may see customers
(``customers.view``) may read the document. Marking acceptance needs
``processes.manage``."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from kontor.core.access import require, require_that, user_can
from kontor.core.forms import add_service_errors
from kontor.core.permissions import Capability
from kontor.processes import queries
from kontor.processes.forms.requirements import AcceptanceForm
from kontor.processes.models import Process, ProcessVersion, StepActivity
from kontor.processes.requirements_doc import document_build, document_response
from kontor.processes.services.requirements import requirement_accept


def _process_version(request: HttpRequest, uuid) -> ProcessVersion:
    """The asked-for version (``?version=N``; else the published, else the newest)."""
    require(request.user, Capability.CUSTOMERS_VIEW)
    process = get_object_or_404(Process, uuid=uuid)
    return queries.version_shown(process, request.GET.get("version"))


def _language(request: HttpRequest) -> str:
    lang = request.GET.get("lang") or (get_language() or "de")[:2]
    return lang if lang in ("de", "en") else "de"


@login_required
@require_GET
def requirements_pdf(request: HttpRequest, uuid) -> HttpResponse:
    return document_response(_process_version(request, uuid), _language(request), "pdf")


@login_required
@require_GET
def requirements_docx(request: HttpRequest, uuid) -> HttpResponse:
    return document_response(_process_version(request, uuid), _language(request), "docx")


@login_required
@require_http_methods(["GET", "POST"])
def acceptance(request: HttpRequest, uuid) -> HttpResponse:
    version = _process_version(request, uuid)
    can_manage = user_can(request.user, Capability.PROCESSES_MANAGE)
    failed: AcceptanceForm | None = None
    if request.method == "POST":
        require_that(can_manage)
        form = AcceptanceForm(request.POST)
        if form.is_valid():
            activity = StepActivity.objects.filter(
                pk=form.cleaned_data["activity"], step__version=version
            ).first()
            if activity is None:
                raise Http404
            try:
                requirement_accept(
                    actor=request.user,
                    activity=activity,
                    acceptance=form.cleaned_data["acceptance"],
                    comment=form.cleaned_data["comment"],
                    via="ui",
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Acceptance saved."))
                url = reverse("processes:acceptance", args=[version.process.uuid])
                return redirect(f"{url}?version={version.number}#req-{activity.pk}")
        failed = form

    doc = document_build(version, language=(get_language() or "de")[:2])
    rows = []
    for step in doc.steps:
        items = []
        for requirement in step.requirements:
            if failed is not None and str(failed.data.get("activity")) == str(
                requirement.activity_id
            ):
                form = failed
            else:
                form = AcceptanceForm(
                    initial={
                        "activity": requirement.activity_id,
                        "acceptance": "accepted" if requirement.accepted else "open",
                        "comment": requirement.comment,
                    },
                    auto_id=f"id_req{requirement.activity_id}_%s",
                )
            items.append((requirement, form))
        rows.append((step, items))
    return render(
        request,
        "processes/requirements_acceptance.html",
        {
            "process": version.process,
            "version": version,
            "doc": doc,
            "rows": rows,
            "can_manage": can_manage,
        },
        status=400 if failed is not None else 200,
    )


urlpatterns = [
    path("<uuid:uuid>/requirements.pdf", requirements_pdf, name="requirements_pdf"),
    path("<uuid:uuid>/requirements.docx", requirements_docx, name="requirements_docx"),
    path("<uuid:uuid>/acceptance/", acceptance, name="acceptance"),
]
