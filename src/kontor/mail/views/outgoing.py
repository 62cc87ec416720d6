"""Writing e-mails from Kontor: the compose page (/mail/compose/?person=<uuid>) with
templates, merge fields, the person's notes and a live preview; the list of one's
sent e-mails (/mail/sent/) and each message's page with its status and a retry for a
failed one. The writes go through kontor.mail.services.outgoing."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kontor.core.access import get_object_for_user, user_can
from kontor.core.api.pagination import paginate
from kontor.core.forms import add_service_errors
from kontor.core.navigation import safe_next
from kontor.core.permissions import Capability
from kontor.customers.models import Person
from kontor.customers.notes import notes_of
from kontor.customers.queries import mark_organization_visibility
from kontor.mail import merge
from kontor.mail.forms.outgoing import ComposeForm
from kontor.mail.models import EmailTemplate
from kontor.mail.services import outgoing, templates

PAGE = "mail/compose.html"
SENT_PAGE_SIZE = 50


def _require_write(request: HttpRequest) -> None:
    if not user_can(request.user, Capability.ACTIVITIES_EDIT):
        raise PermissionDenied


def _person(request: HttpRequest) -> Person | None:
    uuid = request.POST.get("person") or request.GET.get("person")
    if not uuid:
        return None
    person = get_object_for_user(Person, request.user, uuid=uuid, related=("organization",))
    mark_organization_visibility([person], user=request.user)
    return person


def _template(request: HttpRequest, uuid: str) -> EmailTemplate | None:
    if not uuid:
        return None
    return templates.template_get(user=request.user, uuid=uuid)


def _template_choices(user) -> list[tuple[str, str]]:
    return [
        (str(t.uuid), t.name if t.owner_id is None else f"{t.name} ({_('personal')})")
        for t in templates.templates_to_use(user)
    ]


def _filled(request: HttpRequest, person: Person, template: EmailTemplate) -> dict:
    """The form's initial subject and text: the template rendered for the person; if
    that fails (e.g. a field the user's role may not use), the template as written,
    with the error to fix."""
    try:
        subject, body = outgoing.render_for(
            actor=request.user,
            person=person,
            subject=template.subject,
            body=template.body,
            template=template,
        )
        return {"subject": subject, "body": body, "template": str(template.uuid), "error": None}
    except ValidationError as exc:
        return {
            "subject": template.subject,
            "body": template.body,
            "template": str(template.uuid),
            "error": exc,
        }


def _filled_form(request: HttpRequest, person: Person, template_uuid: str, choices) -> ComposeForm:
    filled = _filled(request, person, _template(request, template_uuid))
    error = filled.pop("error")
    if error is None:
        return ComposeForm(initial=filled, template_choices=choices)
    form = ComposeForm(filled, template_choices=choices)
    form.is_valid()
    add_service_errors(form, error)
    return form


def _page(request: HttpRequest, person: Person | None, form: ComposeForm, status=200):
    context = {
        "person": person,
        "form": form,
        "field_groups": merge.available_fields(actor=request.user),
        "notes": list(notes_of(customer=person)[:20]) if person else [],
        "no_email": person is not None and not person.email,
        # The process item the e-mail is written for (see the mail_queued hook).
        "process_item": request.POST.get("process_item") or request.GET.get("process_item", ""),
        "next": request.POST.get("next") or request.GET.get("next", ""),
    }
    return render(request, PAGE, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def compose(request: HttpRequest) -> HttpResponse:
    _require_write(request)
    person = _person(request)
    choices = _template_choices(request.user)
    if request.method == "GET":
        form = ComposeForm(template_choices=choices)
        if person is not None and request.GET.get("template"):
            form = _filled_form(request, person, request.GET["template"], choices)
        return _page(request, person, form)
    form = ComposeForm(request.POST, template_choices=choices)
    if person is None:
        form.add_error(None, _("Choose the person to write to."))
        return _page(request, None, form)
    if form.is_valid():
        data = form.cleaned_data
        try:
            message = outgoing.mail_send(
                actor=request.user,
                person=person,
                subject=data["subject"],
                body=data["body"],
                template=_template(request, data["template"]),
                context=(
                    {"process_item": request.POST["process_item"]}
                    if request.POST.get("process_item")
                    else None
                ),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("The e-mail to %(name)s is on its way and logged in the history.")
                % {"name": person.full_name},
            )
            # Written for a process item: back to the process (its ``next``).
            return redirect(
                safe_next(request, reverse("mail:outgoing_detail", kwargs={"uuid": message.uuid}))
            )
    return _page(request, person, form)


@login_required
@require_GET
def compose_fill(request: HttpRequest) -> HttpResponse:
    """The subject and text fields filled from the chosen template (htmx)."""
    _require_write(request)
    person = _person(request)
    choices = _template_choices(request.user)
    template_uuid = request.GET.get("template", "")
    if person is None or not template_uuid:
        # "(no template)": keep what is in the fields.
        return HttpResponse(status=204)
    form = _filled_form(request, person, template_uuid, choices)
    return render(request, f"{PAGE}#fields", {"form": form, "person": person})


@login_required
@require_POST
def compose_preview(request: HttpRequest) -> HttpResponse:
    """The e-mail as the person will read it (htmx, on every pause in typing)."""
    _require_write(request)
    person = _person(request)
    context = {"person": person, "preview": None, "preview_errors": []}
    if person is not None:
        template = None
        if request.POST.get("template"):
            template = _template(request, request.POST["template"])
        try:
            context["preview"] = outgoing.render_for(
                actor=request.user,
                person=person,
                subject=request.POST.get("subject", ""),
                body=request.POST.get("body", ""),
                template=template,
            )
        except ValidationError as exc:
            context["preview_errors"] = exc.messages
    return render(request, f"{PAGE}#preview", context)


@login_required
@require_GET
def outgoing_list(request: HttpRequest) -> HttpResponse:
    """The user's own sent e-mails, newest first, with their status."""
    rows, next_cursor = paginate(
        outgoing.sent_by(request.user),
        cursor=request.GET.get("cursor"),
        limit=SENT_PAGE_SIZE,
        order=("-created_at", "-id"),
    )
    return render(
        request, "mail/compose_sent_list.html", {"rows": rows, "next_cursor": next_cursor}
    )


@login_required
@require_GET
def outgoing_detail(request: HttpRequest, uuid) -> HttpResponse:
    message = outgoing.outgoing_get(user=request.user, uuid=uuid)
    return render(
        request,
        "mail/compose_sent_detail.html",
        {"message": message, "can_retry": outgoing.can_retry(request.user, message)},
    )


@login_required
@require_POST
def outgoing_retry(request: HttpRequest, uuid) -> HttpResponse:
    message = outgoing.outgoing_get(user=request.user, uuid=uuid)
    try:
        outgoing.mail_retry(actor=request.user, message=message)
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        messages.success(request, _("The e-mail is queued again."))
    return redirect("mail:outgoing_detail", uuid=message.uuid)


urlpatterns: list = [
    path("compose/", compose, name="compose"),
    path("compose/fill/", compose_fill, name="compose_fill"),
    path("compose/preview/", compose_preview, name="compose_preview"),
    path("sent/", outgoing_list, name="outgoing_list"),
    path("sent/<uuid:uuid>/", outgoing_detail, name="outgoing_detail"),
    path("sent/<uuid:uuid>/retry/", outgoing_retry, name="outgoing_retry"),
]
