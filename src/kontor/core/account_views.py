"""Views of one's own account: login, language, profile, API tokens, two-factor login."""

import base64
import io

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from kontor.core.access import user_can
from kontor.core.api.auth import token_create
from kontor.core.api.auth import token_revoke as revoke
from kontor.core.models import TokenScope, User
from kontor.core.permissions import Capability


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True


def _safe_next(request: HttpRequest, fallback: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or fallback
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; remembered on the user and in a cookie."""
    language = request.POST.get("language", "")
    response = redirect(_safe_next(request, request.META.get("HTTP_REFERER") or "/"))
    if language not in dict(settings.LANGUAGES):
        return response
    if request.user.is_authenticated:
        User.objects.filter(pk=request.user.pk).update(language=language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax"
    )
    return response


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "language", "time_zone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from kontor.core.models.users import time_zone_choices

        self.fields["time_zone"] = forms.ChoiceField(
            label=gettext_lazy("time zone"), choices=time_zone_choices()
        )


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your settings are saved."))
        return redirect("core:profile")
    has_2fa = TOTPDevice.objects.filter(user=request.user, confirmed=True).exists()
    return render(request, "core/profile.html", {"form": form, "has_two_factor": has_2fa})


class TokenForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("name"), max_length=100)
    scope = forms.ChoiceField(label=gettext_lazy("scope"), choices=TokenScope.choices)


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    if not user_can(request.user, Capability.API_TOKENS):
        raise PermissionDenied
    form = TokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        _token, new_token = token_create(
            user=request.user, name=form.cleaned_data["name"], scope=form.cleaned_data["scope"]
        )
        form = TokenForm()
    tokens = request.user.api_tokens.all()
    return render(
        request, "core/token_list.html", {"form": form, "tokens": tokens, "new_token": new_token}
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(request.user.api_tokens, pk=pk)
    revoke(token=token)
    messages.success(request, _("The token is revoked."))
    return redirect("core:token_list")


class OtpForm(forms.Form):
    code = forms.RegexField(
        label=gettext_lazy("Code from your authenticator app"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": gettext_lazy("Enter the six digits your app shows.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Pair an authenticator app: show a QR code, confirm with the first code."""
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="authenticator", confirmed=False)
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"].strip()):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            messages.success(request, _("Two-factor login is now on."))
            return redirect("core:profile")
        form.add_error("code", _("That code is not right. Check the time on your phone."))
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "form": form,
            "qr": _qr_svg(device.config_url),
            "secret": base64.b32encode(device.bin_key).decode(),
        },
    )


@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"].strip()
        for device in TOTPDevice.objects.filter(user=request.user, confirmed=True):
            if device.verify_token(code):
                otp_login(request, device)
                return redirect(_safe_next(request, "/"))
        form.add_error("code", _("That code is not right. Check the time on your phone."))
    return render(request, "registration/two_factor_verify.html", {"form": form})


@login_required
@require_POST
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    role = request.user.role
    if role is not None and role.require_two_factor:
        messages.error(request, _("Your role requires two-factor login."))
        return redirect("core:profile")
    TOTPDevice.objects.filter(user=request.user).delete()
    messages.success(request, _("Two-factor login is off."))
    return redirect("core:profile")
