from django.urls import include, path

from kontor.api import api
from kontor.api_docs import api_docs
from kontor.core import views as core_views
from kontor.core.urls import account_urlpatterns

urlpatterns = [
    path("", include("kontor.core.urls")),
    path("accounts/", include(account_urlpatterns)),
    path("customers/", include("kontor.customers.urls")),
    path("", include("kontor.activities.urls")),
    path("mail/", include("kontor.mail.urls")),
    path("processes/", include("kontor.processes.urls")),
    path("api/v1/", api.urls),
    path("api/docs", api_docs, name="api_docs"),
    path("api/<path:rest>", core_views.api_not_found),
    path("healthz", core_views.healthz, name="healthz"),
]

handler400 = "kontor.core.views.bad_request"
handler403 = "kontor.core.views.forbidden"
handler404 = "kontor.core.views.not_found"
handler500 = "kontor.core.views.server_error"
