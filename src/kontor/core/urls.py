from django.contrib.auth import views as auth_views
from django.urls import path

from kontor.core import account_views, admin_views, search_views, views
from kontor.core import customfield_views as cf_views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", search_views.search_page, name="search"),
    path("i18n/language/", account_views.language_switch, name="language_switch"),
    path("settings/", account_views.profile, name="profile"),
    path("settings/tokens/", account_views.token_list, name="token_list"),
    path("settings/tokens/<int:pk>/revoke/", account_views.token_revoke, name="token_revoke"),
    path("admin/", admin_views.admin_home, name="admin_home"),
    path("admin/roles/", admin_views.role_matrix, name="role_matrix"),
    path("admin/users/", admin_views.user_list, name="user_list"),
    path("admin/users/new/", admin_views.user_create, name="user_create"),
    path("admin/users/<uuid:uuid>/", admin_views.user_edit, name="user_edit"),
    path(
        "admin/users/<uuid:uuid>/deactivate/",
        admin_views.user_deactivate,
        name="user_deactivate",
    ),
    path(
        "admin/users/<uuid:uuid>/reactivate/",
        admin_views.user_reactivate,
        name="user_reactivate",
    ),
    path(
        "admin/users/<uuid:uuid>/reset-two-factor/",
        admin_views.user_reset_two_factor,
        name="user_reset_two_factor",
    ),
    path(
        "admin/users/<uuid:uuid>/send-password-link/",
        admin_views.user_send_password_link,
        name="user_send_password_link",
    ),
    path("admin/teams/", admin_views.team_list, name="team_list"),
    path("admin/teams/<uuid:uuid>/", admin_views.team_edit, name="team_edit"),
    path("admin/audit/", admin_views.audit_list, name="audit_list"),
    path("admin/custom-fields/", cf_views.customfield_list, name="customfield_list"),
    path("admin/custom-fields/new/", cf_views.customfield_create, name="customfield_create"),
    path("admin/custom-fields/<int:pk>/", cf_views.customfield_edit, name="customfield_edit"),
    path(
        "admin/custom-fields/<int:pk>/archive/",
        cf_views.customfield_archive,
        name="customfield_archive",
    ),
    path(
        "admin/custom-fields/<int:pk>/restore/",
        cf_views.customfield_restore,
        name="customfield_restore",
    ),
    path("admin/custom-fields/<int:pk>/move/", cf_views.customfield_move, name="customfield_move"),
]
for key in ("sales", "service", "marketing", "analytics"):
    urlpatterns.append(
        path(f"{key}/", views.module_placeholder, {"key": key}, name=f"module_{key}")
    )

# Under /accounts/, outside the "core" namespace so Django's auth views find their names.
account_urlpatterns = [
    path("login/", account_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/reset/",
        account_views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "password/change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("two-factor/setup/", account_views.two_factor_setup, name="two_factor_setup"),
    path("two-factor/verify/", account_views.two_factor_verify, name="two_factor_verify"),
    path("two-factor/disable/", account_views.two_factor_disable, name="two_factor_disable"),
]
