"""Administration pages: users, teams, roles and their permission matrix, audit trail."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kontor.core import audit
from kontor.core.access import user_can
from kontor.core.models import AuditAction, AuditEntry, Role, Team, User
from kontor.core.permissions import Capability, Visibility


def _require_admin(request: HttpRequest) -> None:
    if not user_can(request.user, Capability.ADMIN_USERS):
        raise PermissionDenied


@login_required
def admin_home(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    return render(request, "core/admin_home.html")


@login_required
def role_matrix(request: HttpRequest) -> HttpResponse:
    """The permission matrix: roles × capabilities, visibility and two-factor rule.
    Administrators change it here; the change is audited."""
    _require_admin(request)
    roles = list(Role.objects.all())
    if request.method == "POST":
        for role in roles:
            before = audit.snapshot(role)
            visibility = request.POST.get(f"visibility-{role.pk}", role.visibility)
            if visibility in Visibility.values:
                role.visibility = visibility
            role.capabilities = [
                c for c in Capability.values if request.POST.get(f"cap-{role.pk}-{c}") == "on"
            ]
            role.require_two_factor = request.POST.get(f"2fa-{role.pk}") == "on"
            role.save()
            audit.record(
                actor=request.user, action=AuditAction.UPDATE, instance=role, before=before
            )
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


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    users = User.objects.select_related("role").prefetch_related("teams")
    return render(request, "core/user_list.html", {"users": users})


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name", "lead"]


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        team = form.save()
        audit.record(actor=request.user, action=AuditAction.CREATE, instance=team)
        messages.success(request, _("Team created."))
        return redirect("core:team_list")
    teams = Team.objects.select_related("lead").prefetch_related("members")
    return render(request, "core/team_list.html", {"teams": teams, "form": form})


@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    # The whole trail names records of every owner, so only administrators see it;
    # others see a record's own trail on the record.
    _require_admin(request)
    entries = AuditEntry.objects.select_related("content_type")[:200]
    return render(request, "core/audit_list.html", {"entries": entries})
