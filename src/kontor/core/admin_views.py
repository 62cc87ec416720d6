"""Administration pages: users, teams, roles and their permission matrix, audit trail.
Every page needs the admin.users capability; the writes are in kontor.core.services."""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kontor.core import audit, queries, services, two_factor
from kontor.core.access import user_can
from kontor.core.forms import TeamForm, UserCreateForm, UserForm
from kontor.core.models import AuditEntry, Role, Team, User
from kontor.core.permissions import Capability, Visibility

logger = logging.getLogger(__name__)


def _require_admin(request: HttpRequest) -> None:
    if not user_can(request.user, Capability.ADMIN_USERS):
        raise PermissionDenied


def _status(form) -> int:
    return 422 if form.is_bound and form.errors else 200


@login_required
def admin_home(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    return render(request, "core/admin_home.html")


# --- Roles ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def role_matrix(request: HttpRequest) -> HttpResponse:
    """The permission matrix: roles × capabilities, visibility and two-factor rule.
    Administrators change it here; the change is audited."""
    _require_admin(request)
    roles = list(Role.objects.order_by("id"))
    if request.method == "POST":
        updates = {
            role: {
                "visibility": request.POST.get(f"visibility-{role.pk}", role.visibility),
                "capabilities": [
                    c for c in Capability.values if request.POST.get(f"cap-{role.pk}-{c}") == "on"
                ],
                "require_two_factor": request.POST.get(f"2fa-{role.pk}") == "on",
            }
            for role in roles
        }
        try:
            services.roles_update(actor=request.user, updates=updates)
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        else:
            messages.success(request, _("The roles are saved."))
        return redirect("core:role_matrix")
    matrix = [
        {"capability": c, "cells": [(role, c.value in role.capabilities) for role in roles]}
        for c in Capability
    ]
    return render(
        request,
        "core/role_matrix.html",
        {"roles": roles, "matrix": matrix, "visibility_choices": Visibility.choices},
    )


# --- Users ------------------------------------------------------------------------------


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    return render(request, "core/user_list.html", {"users": queries.user_list()})


def _send_link(request: HttpRequest, user: User) -> bool:
    try:
        services.user_send_password_link(
            actor=request.user, user=user, domain=request.get_host(), use_https=request.is_secure()
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return False
    except OSError:  # smtplib errors included: the user exists, the mail can be sent again
        logger.exception("Could not send the password link to user %s", user.pk)
        messages.error(
            request,
            _(
                "The e-mail could not be sent. Check the mail settings, then send the "
                "link again from this page."
            ),
        )
        return False
    messages.success(
        request, _("A link to set the password was sent to %(email)s.") % {"email": user.email}
    )
    return True


@login_required
@require_http_methods(["GET", "POST"])
def user_create(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        send_link = form.cleaned_data["password_mode"] == UserCreateForm.LINK
        try:
            user = services.user_create(
                actor=request.user,
                data=form.data_for_service(),
                password=None if send_link else form.cleaned_data["password"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("User %(name)s created.") % {"name": user.username})
            if send_link:
                _send_link(request, user)
            return redirect("core:user_edit", uuid=user.uuid)
    return render(
        request, "core/user_form.html", {"form": form, "subject": None}, status=_status(form)
    )


def _user(uuid) -> User:
    return get_object_or_404(User.objects.select_related("role"), uuid=uuid)


@login_required
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, uuid) -> HttpResponse:
    _require_admin(request)
    subject = _user(uuid)
    # The form validates a copy, so the page header keeps the saved values.
    form = UserForm(request.POST or None, instance=_user(uuid))
    if request.method == "POST" and form.is_valid():
        try:
            updated = services.user_update(
                actor=request.user, user=subject, data=form.data_for_service()
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Changes saved."))
            if updated.pk == request.user.pk and not user_can(updated, Capability.ADMIN_USERS):
                return redirect("core:home")
            return redirect("core:user_edit", uuid=updated.uuid)
    return render(
        request,
        "core/user_form.html",
        {
            "form": form,
            "subject": subject,
            "is_self": subject.pk == request.user.pk,
            "has_two_factor": two_factor.has_confirmed_device(subject),
            "audit_entries": audit.entries_for(subject)[:50],
        },
        status=_status(form),
    )


def _user_action(request: HttpRequest, uuid, action, success: str) -> HttpResponse:
    _require_admin(request)
    subject = _user(uuid)
    try:
        action(actor=request.user, user=subject)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, success % {"name": subject.username})
    return redirect("core:user_edit", uuid=subject.uuid)


@login_required
@require_POST
def user_deactivate(request: HttpRequest, uuid) -> HttpResponse:
    return _user_action(
        request,
        uuid,
        services.user_deactivate,
        _("%(name)s is deactivated and can no longer log in. Their records keep them as owner."),
    )


@login_required
@require_POST
def user_reactivate(request: HttpRequest, uuid) -> HttpResponse:
    return _user_action(request, uuid, services.user_reactivate, _("%(name)s can log in again."))


@login_required
@require_POST
def user_reset_two_factor(request: HttpRequest, uuid) -> HttpResponse:
    return _user_action(
        request,
        uuid,
        services.user_reset_two_factor,
        _("The authenticator of %(name)s is removed. They set up a new one if their role asks."),
    )


@login_required
@require_POST
def user_send_password_link(request: HttpRequest, uuid) -> HttpResponse:
    _require_admin(request)
    subject = _user(uuid)
    _send_link(request, subject)
    return redirect("core:user_edit", uuid=subject.uuid)


# --- Teams ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def team_list(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            team = services.team_create(actor=request.user, data=form.data_for_service())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Team %(name)s created.") % {"name": team.name})
            return redirect("core:team_list")
    return render(
        request,
        "core/team_list.html",
        {"teams": queries.team_list(), "form": form},
        status=_status(form),
    )


@login_required
@require_http_methods(["GET", "POST"])
def team_edit(request: HttpRequest, uuid) -> HttpResponse:
    _require_admin(request)
    team = get_object_or_404(Team, uuid=uuid)
    form = TeamForm(request.POST or None, instance=get_object_or_404(Team, uuid=uuid))
    if request.method == "POST" and form.is_valid():
        try:
            services.team_update(actor=request.user, team=team, data=form.data_for_service())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("core:team_list")
    return render(
        request,
        "core/team_form.html",
        {"form": form, "team": team, "audit_entries": audit.entries_for(team)[:50]},
        status=_status(form),
    )


# --- Audit trail ------------------------------------------------------------------------


@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    # The whole trail names records of every owner, so only administrators see it;
    # others see a record's own trail on the record.
    _require_admin(request)
    entries = AuditEntry.objects.select_related("content_type")[:200]
    return render(request, "core/audit_list.html", {"entries": entries})
