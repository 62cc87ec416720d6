from django.urls import path

from kontor.customers import views

app_name = "customers"

urlpatterns = [
    path("persons/", views.person_list, name="person_list"),
    path("persons/new/", views.person_edit, name="person_create"),
    path("persons/<uuid:uuid>/", views.person_detail, name="person_detail"),
    path("persons/<uuid:uuid>/edit/", views.person_edit, name="person_edit"),
    path("persons/<uuid:uuid>/delete/", views.person_delete, name="person_delete"),
    path("organizations/", views.organization_list, name="organization_list"),
    path("organizations/new/", views.organization_edit, name="organization_create"),
    path("organizations/<uuid:uuid>/", views.organization_detail, name="organization_detail"),
    path("organizations/<uuid:uuid>/edit/", views.organization_edit, name="organization_edit"),
    path(
        "organizations/<uuid:uuid>/delete/", views.organization_delete, name="organization_delete"
    ),
]
