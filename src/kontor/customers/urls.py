from django.urls import path

from kontor.customers import views
from kontor.customers.views import buying_center, equipment, records, vcard
from kontor.customers.views import duplicates as duplicate_views
from kontor.customers.views import notes as note_views

app_name = "customers"

urlpatterns = [
    path("persons/<uuid:uuid>/notes/", note_views.person_notes, name="person_notes"),
    path(
        "organizations/<uuid:uuid>/notes/", note_views.organization_notes, name="organization_notes"
    ),
    path("notes/<int:pk>/edit/", note_views.note_edit, name="note_edit"),
    path("notes/<int:pk>/delete/", note_views.note_delete, name="note_delete"),
    path("duplicates/", duplicate_views.duplicate_list, name="duplicate_list"),
    path(
        "duplicates/<int:pk>/dismiss/", duplicate_views.duplicate_dismiss, name="duplicate_dismiss"
    ),
    path("duplicates/scan/", duplicate_views.duplicate_scan_start, name="duplicate_scan_start"),
    path(
        "duplicates/scan/<int:pk>/",
        duplicate_views.duplicate_scan_progress,
        name="duplicate_scan_progress",
    ),
    path(
        "duplicates/scan/<int:pk>/cancel/",
        duplicate_views.duplicate_scan_cancel,
        name="duplicate_scan_cancel",
    ),
    path(
        "duplicates/scan/<int:pk>/retry/",
        duplicate_views.duplicate_scan_retry,
        name="duplicate_scan_retry",
    ),
    path(
        "duplicates/check/persons/",
        duplicate_views.person_duplicate_check,
        name="person_duplicate_check",
    ),
    path(
        "duplicates/check/organizations/",
        duplicate_views.organization_duplicate_check,
        name="organization_duplicate_check",
    ),
    path(
        "duplicates/merges/<str:kind>/<uuid:uuid>/",
        duplicate_views.merge_history,
        name="merge_history",
    ),
    path(
        "persons/<uuid:uuid>/merge/<uuid:other>/", duplicate_views.person_merge, name="person_merge"
    ),
    path(
        "organizations/<uuid:uuid>/merge/<uuid:other>/",
        duplicate_views.organization_merge,
        name="organization_merge",
    ),
    path("persons/", views.person_list, name="person_list"),
    path("lists/<str:entity_name>/bulk/", views.bulk_action, name="bulk_action"),
    path("lists/<str:entity_name>/views/", views.saved_view_save, name="saved_view_save"),
    path("lists/views/<int:pk>/delete/", views.saved_view_delete, name="saved_view_delete"),
    path("lists/jobs/<int:pk>/", views.bulk_job, name="bulk_job"),
    path("lists/jobs/<int:pk>/cancel/", views.bulk_job_cancel, name="bulk_job_cancel"),
    path("lists/jobs/<int:pk>/retry/", views.bulk_job_retry, name="bulk_job_retry"),
    path("persons/new/", views.person_edit, name="person_create"),
    path("persons/<uuid:uuid>/", views.person_detail, name="person_detail"),
    path("persons/<uuid:uuid>/edit/", views.person_edit, name="person_edit"),
    path("persons/<uuid:uuid>/delete/", views.person_delete, name="person_delete"),
    path("organizations/", views.organization_list, name="organization_list"),
    path("organizations/new/", views.organization_edit, name="organization_create"),
    path("organizations/suggest/", views.lists.organization_suggest, name="organization_suggest"),
    path("organizations/<uuid:uuid>/", views.organization_detail, name="organization_detail"),
    path("organizations/<uuid:uuid>/edit/", views.organization_edit, name="organization_edit"),
    path(
        "organizations/<uuid:uuid>/delete/", views.organization_delete, name="organization_delete"
    ),
]

# The 360° view's sections, the buying center, equipment and vCards.
urlpatterns += [
    path(
        "persons/<uuid:uuid>/sections/<slug:section>/",
        records.person_section,
        name="person_section",
    ),
    path(
        "organizations/<uuid:uuid>/sections/<slug:section>/",
        records.organization_section,
        name="organization_section",
    ),
    path(
        "persons/<uuid:uuid>/contact-roles/new/",
        buying_center.person_contact_role_edit,
        name="person_contact_role_create",
    ),
    path(
        "persons/<uuid:uuid>/contact-roles/<int:pk>/edit/",
        buying_center.person_contact_role_edit,
        name="person_contact_role_edit",
    ),
    path(
        "persons/<uuid:uuid>/contact-roles/<int:pk>/delete/",
        buying_center.person_contact_role_delete,
        name="person_contact_role_delete",
    ),
    path(
        "organizations/<uuid:uuid>/contact-roles/new/",
        buying_center.organization_contact_role_edit,
        name="organization_contact_role_create",
    ),
    path(
        "organizations/<uuid:uuid>/contact-roles/<int:pk>/edit/",
        buying_center.organization_contact_role_edit,
        name="organization_contact_role_edit",
    ),
    path(
        "organizations/<uuid:uuid>/contact-roles/<int:pk>/delete/",
        buying_center.organization_contact_role_delete,
        name="organization_contact_role_delete",
    ),
    path(
        "persons/<uuid:uuid>/equipment/new/",
        equipment.person_equipment_edit,
        name="person_equipment_create",
    ),
    path(
        "persons/<uuid:uuid>/equipment/<int:pk>/edit/",
        equipment.person_equipment_edit,
        name="person_equipment_edit",
    ),
    path(
        "persons/<uuid:uuid>/equipment/<int:pk>/delete/",
        equipment.person_equipment_delete,
        name="person_equipment_delete",
    ),
    path(
        "organizations/<uuid:uuid>/equipment/new/",
        equipment.organization_equipment_edit,
        name="organization_equipment_create",
    ),
    path(
        "organizations/<uuid:uuid>/equipment/<int:pk>/edit/",
        equipment.organization_equipment_edit,
        name="organization_equipment_edit",
    ),
    path(
        "organizations/<uuid:uuid>/equipment/<int:pk>/delete/",
        equipment.organization_equipment_delete,
        name="organization_equipment_delete",
    ),
    path("persons/<uuid:uuid>/vcard/", vcard.person_vcard, name="person_vcard"),
    path("persons/import-vcard/", vcard.person_import_vcard, name="person_import_vcard"),
]
