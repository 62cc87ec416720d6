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
    if not user_can(request.user, Capability.CUSTOMERS_EDIT):
        raise PermissionDenied
    form = VCardImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > vcard.MAX_FILE_SIZE:
            form.add_error("file", _("The file is larger than 2 MB."))
        else:
            try:
                result = vcard.person_import_vcards(actor=request.user, content=upload.read())
            except vcard.VCardError as exc:
                for message in exc.messages:
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
