"""Navigation: the modules of the top bar and the links on "My settings", which apps
register, and where to go after a form (the ``next`` the page was given, if it stays
on this site)."""

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme


@dataclass(frozen=True)
class NavModule:
    """A module in the top bar: shown to users with ``capability`` (everyone when None),
    active on every page whose path starts with its URL."""

    key: str  # "customers", "activities", "sales" …
    label: Promise
    url_name: str
    capability: str | None = None
    order: int = 100


_modules: dict[str, NavModule] = {}


def register_nav_module(module: NavModule) -> None:
    """Add ``module`` to the top bar; call it from the app's ``AppConfig.ready()``. A
    module registered under a key already taken replaces it (an app of its own
    replaces core's placeholder page for "sales", "service" …)."""
    _modules[module.key] = module


def nav_modules() -> list[NavModule]:
    return sorted(_modules.values(), key=lambda m: (m.order, m.key))


# Links apps add to "My settings" (label, URL name), in registration order: the
# calendar subscription of activities …
_settings_links: list[tuple[Promise, str]] = []


def register_settings_link(label: Promise, url_name: str) -> None:
    if (label, url_name) not in _settings_links:
        _settings_links.append((label, url_name))


def settings_links() -> list[dict]:
    return [{"label": label, "url": reverse(name)} for label, name in _settings_links]


def on_this_site(request: HttpRequest, url: str) -> bool:
    """``url`` stays on this host (and on https if the request came by https)."""
    return bool(url) and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


def safe_next(request: HttpRequest, fallback: str) -> str:
    """``next`` from the POST or the query string when it points into this site (no
    open redirect to another host), else ``fallback``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    return target if on_this_site(request, target) else fallback


def back_to_referer(request: HttpRequest, fallback: str = "/") -> str:
    """``next``, else the page the request came from, else ``fallback`` — each only if
    it is on this site: the Referer is as much the sender's to choose as ``next``."""
    referer = request.META.get("HTTP_REFERER", "")
    return safe_next(request, referer if on_this_site(request, referer) else fallback)
