"""The global search page, and the dropdown of the search box (an htmx partial)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from kontor.core import search

PANEL_TARGET = "global-search-results"
PANEL_LIMIT = 5  # per kind, in the dropdown
PAGE_LIMIT = 20  # per kind, on the results page
KIND_LIMIT = search.MAX_LIMIT  # on the page of one kind


@login_required
@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    kind = request.GET.get("kind", "")
    kinds = [kind] if kind in search.KINDS else None
    if request.htmx and request.htmx.target == PANEL_TARGET:
        results = search.search(user=request.user, q=q, limit=PANEL_LIMIT)
        return render(request, "core/search.html#panel", {"results": results})
    limit = KIND_LIMIT if kinds else PAGE_LIMIT
    results = search.search(user=request.user, q=q, kinds=kinds, limit=limit)
    context = {"results": results, "kind": kinds[0] if kinds else ""}
    if request.htmx:
        return render(request, "core/search.html#results", context)
    return render(request, "core/search.html", context)
