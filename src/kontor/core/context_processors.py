from django.urls import reverse

from kontor.core.access import user_can
from kontor.core.navigation import nav_modules, settings_links


def shell(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    path = request.path
    nav = []
    for module in nav_modules():
        if module.capability is not None and not user_can(user, module.capability):
            continue
        url = reverse(module.url_name)
        nav.append(
            {"key": module.key, "label": module.label, "url": url, "active": path.startswith(url)}
        )
    # A function: the template calls it only on the page that shows the links.
    return {"nav_modules": nav, "settings_links": settings_links}
