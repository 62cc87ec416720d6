"""Incoming e-mail in the UI: the inbox at /mail/ (the review queue and recently
filed mail), a message's page with "file to person…", "ignore" and "mark private",
and the mailboxes (/mail/mailboxes/) with "test connection" and "poll now".
Reads come from kontor.mail.queries, writes go through kontor.mail.services.incoming."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kontor.core.access import get_object_for_user, user_can
from kontor.core.forms import add_service_errors
from kontor.core.permissions import Capability
from kontor.core.search import search
from kontor.customers.models import Person
from kontor.mail import imap, queries, tasks
from kontor.mail.forms.incoming import FileToForm, MailboxForm, PersonSearchForm
from kontor.mail.inbound import sanitize_html
from kontor.mail.models import MailboxKind, MailStatus
from kontor.mail.services import incoming

REVIEW_PAGE_SIZE = 100
PERSON_HITS = 10


def _url_or_none(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _may_ignore(user) -> bool:
    return user_can(user, Capability.ACTIVITIES_EDIT) or user_can(user, Capability.MAIL_MANAGE)


def _errors(request: HttpRequest, exc: ValidationError) -> None:
    for error in exc.messages:
        messages.error(request, error)


# --- The inbox and messages -----------------------------------------------------------


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    user = request.user
    queue = list(queries.review_queue(user)[: REVIEW_PAGE_SIZE + 1])
    context = {
        "can_review": queries.can_review(user),
        "queue": queue[:REVIEW_PAGE_SIZE],
        "more": len(queue) > REVIEW_PAGE_SIZE,
        "recent": queries.recently_filed(user),
        "can_manage_mailboxes": queries.can_manage_mailboxes(user),
        "can_write": user_can(user, Capability.ACTIVITIES_EDIT),
        "can_ignore": _may_ignore(user),
    }
    return render(request, "mail/inbox.html", context)


def _person_hits(request: HttpRequest, q: str) -> list:
    if not q:
        return []
    results = search(user=request.user, q=q, kinds=["person"], limit=PERSON_HITS)
    return [hit for group in results.groups for hit in group.hits]


def _message_context(request: HttpRequest, message) -> dict:
    user = request.user
    search_form = PersonSearchForm(request.GET or None)
    q = search_form.cleaned_data["q"] if search_form.is_valid() else ""
    activity = message.activity
    waiting = message.activity_id is None and message.status == MailStatus.REVIEW
    return {
        "message": message,
        # Cleaned on arrival already; cleaned again here so that no row stored by an
        # older version or written around the importer reaches the page unsanitised
        # (the template shows it with |safe).
        "html_body": sanitize_html(message.html_body) if message.html_body else "",
        "activity": activity,
        "activity_url": _url_or_none("activities:activity_detail", activity.uuid)
        if activity
        else None,
        "attachments": [
            {
                "attachment": a,
                "url": _url_or_none("activities:attachment_download", activity.uuid, a.uuid),
            }
            for a in queries.attachments_of(message)
        ],
        "waiting": waiting,
        "can_file": waiting and user_can(user, Capability.ACTIVITIES_EDIT),
        "can_ignore": waiting and _may_ignore(user),
        "can_mark_private": activity is not None
        and user_can(user, Capability.ACTIVITIES_EDIT)
        and (not activity.private or activity.author_id == user.pk),
        "search_form": search_form,
        "q": q,
        "hits": _person_hits(request, q),
    }


@login_required
@require_GET
def message_detail(request: HttpRequest, uuid) -> HttpResponse:
    message = queries.message_get(user=request.user, uuid=uuid)
    return render(request, "mail/message_detail.html", _message_context(request, message))


@login_required
@require_GET
def message_persons(request: HttpRequest, uuid) -> HttpResponse:
    """The person picker's hits (htmx, as the user types)."""
    message = queries.message_get(user=request.user, uuid=uuid)
    return render(
        request, "mail/message_detail.html#person_hits", _message_context(request, message)
    )


@login_required
@require_POST
def message_file(request: HttpRequest, uuid) -> HttpResponse:
    message = queries.message_get(user=request.user, uuid=uuid)
    form = FileToForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a person."))
        return redirect("mail:message_detail", uuid=message.uuid)
    person = get_object_for_user(Person, request.user, uuid=form.cleaned_data["person"])
    try:
        incoming.message_file_to(actor=request.user, message=message, person=person)
    except ValidationError as exc:
        _errors(request, exc)
        return redirect("mail:message_detail", uuid=message.uuid)
    messages.success(request, _("Filed in the history of %(name)s.") % {"name": person})
    return redirect("mail:inbox")


@login_required
@require_POST
def message_ignore(request: HttpRequest, uuid) -> HttpResponse:
    message = queries.message_get(user=request.user, uuid=uuid)
    try:
        incoming.message_ignore(actor=request.user, message=message)
    except ValidationError as exc:
        _errors(request, exc)
        return redirect("mail:message_detail", uuid=message.uuid)
    messages.success(request, _("The message was ignored."))
    return redirect("mail:inbox")


@login_required
@require_POST
def message_private(request: HttpRequest, uuid) -> HttpResponse:
    message = queries.message_get(user=request.user, uuid=uuid)
    private = request.POST.get("private") == "1"
    try:
        incoming.mail_mark_private(actor=request.user, message=message, private=private)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(
            request,
            _("Only you can see this e-mail now.")
            if private
            else _("Everyone who may see the customer can see this e-mail now."),
        )
    return redirect("mail:message_detail", uuid=message.uuid)


# --- Mailboxes ------------------------------------------------------------------------


def _require_manage(request: HttpRequest) -> None:
    if not queries.can_manage_mailboxes(request.user):
        raise PermissionDenied


@login_required
@require_GET
def mailbox_list(request: HttpRequest) -> HttpResponse:
    _require_manage(request)
    return render(
        request,
        "mail/mailbox_list.html",
        {
            "mailboxes": list(queries.mailboxes_managed_by(request.user)),
            "may_manage_team": user_can(request.user, Capability.MAIL_MANAGE),
            "may_add": queries.can_add_mailbox(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def mailbox_create(request: HttpRequest) -> HttpResponse:
    _require_manage(request)
    if not queries.can_add_mailbox(request.user):
        messages.error(request, _("Only an administrator may set up mailboxes."))
        return redirect("mail:mailbox_list")
    may_manage_team = user_can(request.user, Capability.MAIL_MANAGE)
    form = MailboxForm(request.POST or None, may_manage_team=may_manage_team)
    if request.method == "POST" and form.is_valid():
        try:
            mailbox = incoming.mailbox_create(
                actor=request.user,
                kind=form.cleaned_data.get("kind") or MailboxKind.PERSONAL,
                password=form.cleaned_data["password"],
                **form.values(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Mailbox %(name)s added.") % {"name": mailbox.name})
            return redirect("mail:mailbox_list")
    return render(request, "mail/mailbox_form.html", {"form": form, "mailbox": None})


@login_required
@require_http_methods(["GET", "POST"])
def mailbox_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manage(request)
    mailbox = queries.mailbox_get(user=request.user, pk=pk)
    may_manage_team = user_can(request.user, Capability.MAIL_MANAGE)
    form = MailboxForm(request.POST or None, instance=mailbox, may_manage_team=may_manage_team)
    if request.method == "POST" and form.is_valid():
        try:
            incoming.mailbox_update(
                actor=request.user,
                mailbox=mailbox,
                password=form.cleaned_data["password"],
                **form.values(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("mail:mailbox_list")
    mailbox.refresh_from_db()
    return render(request, "mail/mailbox_form.html", {"form": form, "mailbox": mailbox})


@login_required
@require_POST
def mailbox_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manage(request)
    mailbox = queries.mailbox_get(user=request.user, pk=pk)
    incoming.mailbox_delete(actor=request.user, mailbox=mailbox)
    messages.success(request, _("Mailbox %(name)s removed.") % {"name": mailbox.name})
    return redirect("mail:mailbox_list")


@login_required
@require_POST
def mailbox_test(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manage(request)
    mailbox = queries.mailbox_get(user=request.user, pk=pk)
    try:
        count = imap.test_connection(mailbox)
    except imap.MailboxError as exc:
        messages.error(request, _("%(name)s: %(error)s") % {"name": mailbox.name, "error": exc})
    else:
        messages.success(
            request,
            _("%(name)s: connected; the folder holds %(count)s messages.")
            % {"name": mailbox.name, "count": count},
        )
    return redirect("mail:mailbox_list")


@login_required
@require_POST
def mailbox_poll(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manage(request)
    mailbox = queries.mailbox_get(user=request.user, pk=pk)
    transaction.on_commit(lambda: tasks.poll_mailbox.enqueue(mailbox.pk))
    messages.success(
        request,
        _("%(name)s will be polled in a moment; reload to see the result.")
        % {"name": mailbox.name},
    )
    return redirect("mail:mailbox_list")


urlpatterns: list = [
    path("", inbox, name="inbox"),
    path("messages/<uuid:uuid>/", message_detail, name="message_detail"),
    path("messages/<uuid:uuid>/persons/", message_persons, name="message_persons"),
    path("messages/<uuid:uuid>/file/", message_file, name="message_file"),
    path("messages/<uuid:uuid>/ignore/", message_ignore, name="message_ignore"),
    path("messages/<uuid:uuid>/private/", message_private, name="message_private"),
    path("mailboxes/", mailbox_list, name="mailbox_list"),
    path("mailboxes/new/", mailbox_create, name="mailbox_create"),
    path("mailboxes/<int:pk>/", mailbox_edit, name="mailbox_edit"),
    path("mailboxes/<int:pk>/delete/", mailbox_delete, name="mailbox_delete"),
    path("mailboxes/<int:pk>/test/", mailbox_test, name="mailbox_test"),
    path("mailboxes/<int:pk>/poll/", mailbox_poll, name="mailbox_poll"),
]
