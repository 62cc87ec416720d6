"""E-mail templates under /mail/templates/: the list, create, edit, archive/restore.

Personal templates are written by their author (activities.edit), shared ones by
roles with mail.manage; the services decide, these views only show what they say."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kontor.core.access import user_can
from kontor.core.forms import add_service_errors
from kontor.core.permissions import Capability
from kontor.mail import merge
from kontor.mail.forms.outgoing import TemplateForm
from kontor.mail.models import EmailTemplate
from kontor.mail.services import templates


def _require_use(request: HttpRequest) -> None:
    if not templates.may_use_templates(request.user):
        raise PermissionDenied


@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    _require_use(request)
    show_archived = request.GET.get("archived") == "1"
    rows = (
        templates.templates_visible_to(request.user)
        .filter(archived=show_archived)
        .select_related("owner")
    )
    items = [{"template": t, "can_edit": templates.can_edit(request.user, t)} for t in rows]
    return render(
        request,
        "mail/template_list.html",
        {
            "items": items,
            "show_archived": show_archived,
            "can_create": templates.can_create(request.user, shared=False)
            or templates.can_create(request.user, shared=True),
        },
    )


def _form_page(request, form, *, template: EmailTemplate | None, conflict=None) -> HttpResponse:
    return render(
        request,
        "mail/template_form.html",
        {
            "form": form,
            "template": template,
            "conflict": conflict,
            "field_groups": merge.available_fields(actor=request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def template_create(request: HttpRequest) -> HttpResponse:
    may_share = user_can(request.user, Capability.MAIL_MANAGE)
    if not (templates.can_create(request.user, shared=False) or may_share):
        raise PermissionDenied
    if request.method == "GET":
        return _form_page(request, TemplateForm(may_share=may_share), template=None)
    form = TemplateForm(request.POST, may_share=may_share)
    if form.is_valid():
        data = form.cleaned_data
        try:
            template = templates.template_create(
                actor=request.user,
                name=data["name"],
                subject=data["subject"],
                body=data["body"],
                language=data["language"],
                shared=bool(data.get("shared")),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied:
            form.add_error(None, _("Your role does not allow this."))
        else:
            messages.success(request, _("Template saved."))
            return redirect("mail:template_edit", uuid=template.uuid)
    return _form_page(request, form, template=None)


@login_required
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, uuid) -> HttpResponse:
    _require_use(request)
    template = templates.template_get(user=request.user, uuid=uuid)
    if not templates.can_edit(request.user, template):
        raise PermissionDenied
    if request.method == "GET":
        initial = {
            "name": template.name,
            "language": template.language,
            "subject": template.subject,
            "body": template.body,
            "version": template.version,
        }
        return _form_page(request, TemplateForm(initial=initial, editing=True), template=template)
    form = TemplateForm(request.POST, editing=True)
    conflict = None
    if form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version", None)
        try:
            template = templates.template_update(
                actor=request.user, template=template, data=data, version=version
            )
        except templates.EditConflict as exc:
            conflict = exc.current
            # The next save overwrites theirs, knowingly.
            form.data = form.data.copy()
            form.data["version"] = str(exc.current.version)
            form.add_error(None, str(exc))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("mail:template_edit", uuid=template.uuid)
    return _form_page(request, form, template=template, conflict=conflict)


@login_required
@require_POST
def template_archive(request: HttpRequest, uuid) -> HttpResponse:
    _require_use(request)
    template = templates.template_get(user=request.user, uuid=uuid)
    archived = request.POST.get("archived", "1") == "1"
    templates.template_archive(actor=request.user, template=template, archived=archived)
    messages.success(request, _("Template archived.") if archived else _("Template restored."))
    return redirect("mail:template_list")


urlpatterns: list = [
    path("templates/", template_list, name="template_list"),
    path("templates/new/", template_create, name="template_create"),
    path("templates/<uuid:uuid>/", template_edit, name="template_edit"),
    path("templates/<uuid:uuid>/archive/", template_archive, name="template_archive"),
]
