"""vCard export of a person and import of .vcf files."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from kontor.core.access import user_can
from kontor.core.permissions import Capability
from kontor.customers import queries, vcard
from kontor.customers.forms import VCardImportForm


@login_required
@require_GET
def person_vcard(request: HttpRequest, uuid) -> HttpResponse:
    if not user_can(request.user, Capability.CUSTOMERS_VIEW):
        raise PermissionDenied
    person = queries.person_get(user=request.user, uuid=uuid)
    return vcard.http_response(person, request.GET.get("version"))


@login_required
@require_http_methods(["GET", "POST"])
def person_import_vcard(request: HttpRequest) -> HttpResponse:
    """Upload a .vcf file; cards that look like existing persons are listed, not
    imported, each with a box to tick: "Import anyway" posts the ticked cards
    (``cards``, as the result page carries them) without the duplicate check."""
    if not user_can(request.user, Capability.CUSTOMERS_EDIT):
        raise PermissionDenied
    anyway = request.method == "POST" and "import_anyway" in request.POST
    form = VCardImportForm(None if anyway else request.POST or None, request.FILES or None)
    result = None
    content = None
    if anyway:
        try:
            content = vcard.cards_from_b64(request.POST.getlist("cards"))
        except vcard.VCardError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            if not content:
                messages.error(request, _("Tick the cards to import anyway."))
                content = None
    elif request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > vcard.MAX_FILE_SIZE:
            form.add_error("file", _("The file is larger than 2 MB."))
        else:
            content = upload.read()
    if content is not None:
        try:
            result = vcard.person_import_vcards(
                actor=request.user, content=content, allow_duplicates=anyway
            )
        except vcard.VCardError as exc:
            for message in exc.messages:
                if anyway:  # no file field to show it at
                    messages.error(request, message)
                else:
                    form.add_error("file", message)
        else:
            created = len(result.created)
            messages.success(
                request,
                ngettext("%(count)s person imported.", "%(count)s persons imported.", created)
                % {"count": created},
            )
            if not result.skipped:
                return redirect("customers:person_list")
    return render(
        request,
        "customers/vcard_import.html",
        {"form": form, "result": result},
        status=422 if request.method == "POST" and form.errors else 200,
    )
