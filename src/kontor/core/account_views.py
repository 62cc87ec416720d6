"""Views of one's own account: login, language, profile, API tokens, two-factor login."""

import base64
import io

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from kontor.core import services, two_factor
from kontor.core.access import user_can
from kontor.core.api.auth import token_create
from kontor.core.api.auth import token_revoke as revoke
from kontor.core.forms import OtpForm, PasswordResetForm, ProfileForm, TokenForm
from kontor.core.models import User
from kontor.core.navigation import back_to_referer, safe_next
from kontor.core.permissions import Capability


class LoginView(auth_views.LoginView):
    """Password login. django-axes counts failures per user name and address (the
    form passes the request to authenticate()); the second factor, if any, is asked
    by TwoFactorRequiredMiddleware on the next request."""

    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    """Same answer whether or not the address belongs to an account."""

    form_class = PasswordResetForm


def _safe_next(request: HttpRequest, fallback: str = "/") -> str:
    return safe_next(request, fallback)


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; remembered on the user and in a cookie."""
    language = request.POST.get("language", "")
    response = redirect(back_to_referer(request))
    if language not in dict(settings.LANGUAGES):
        return response
    if request.user.is_authenticated:
        User.objects.filter(pk=request.user.pk).update(language=language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax"
    )
    return response


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    # A copy: validating a model form writes into its instance, and request.user
    # must keep the saved values while an invalid form is shown again.
    form = ProfileForm(request.POST or None, instance=User.objects.get(pk=request.user.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.profile_update(user=request.user, data=form.data_for_service())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Your settings are saved."))
            return redirect("core:profile")
    return render(
        request,
        "core/profile.html",
        {
            "form": form,
            "has_two_factor": two_factor.has_confirmed_device(request.user),
            "two_factor_required": two_factor.required_by_role(request.user),
        },
        status=422 if form.is_bound and form.errors else 200,
    )


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


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _verify_url(request: HttpRequest) -> str:
    return f"{settings.TWO_FACTOR_VERIFY_URL}?{urlencode({'next': _safe_next(request, '/')})}"


def _code_refused(form: OtpForm, wait: int) -> int:
    """Put the reason a code was refused on the form; returns the response status."""
    if wait:
        form.add_error(
            "code",
            ngettext(
                "Too many wrong codes. Please wait %(seconds)d second, then try again.",
                "Too many wrong codes. Please wait %(seconds)d seconds, then try again.",
                wait,
            )
            % {"seconds": wait},
        )
        return 429
    form.add_error("code", _("That code is not right. Check the time on your phone."))
    return 422


@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Pair an authenticator app: show a QR code, confirm with the first code."""
    if two_factor.has_confirmed_device(request.user):
        # Pairing a second authenticator would let a session that only knows the
        # password skip the code of the first one.
        if not request.user.is_verified():
            return redirect(_verify_url(request))
        messages.info(request, _("Two-factor login is already on."))
        return redirect("core:profile")
    device = two_factor.pending_device(request.user)
    form = OtpForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            verified, wait = two_factor.check_code(device, form.cleaned_data["code"])
            if verified:
                services.two_factor_confirm(user=request.user, device=device)
                otp_login(request, device)
                messages.success(request, _("Two-factor login is now on."))
                return redirect("core:profile")
            status = _code_refused(form, wait)
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "form": form,
            "qr": _qr_svg(device.config_url),
            "secret": base64.b32encode(device.bin_key).decode(),
            "required": two_factor.required_by_role(request.user),
        },
        status=status,
    )


@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The second step of the login: the code from the authenticator app."""
    next_url = _safe_next(request, "/")
    if request.user.is_verified():
        return redirect(next_url)
    device = two_factor.confirmed_device(request.user)
    if device is None:
        if two_factor.required_by_role(request.user):
            return redirect(settings.TWO_FACTOR_SETUP_URL)
        return redirect(next_url)
    form = OtpForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            verified, wait = two_factor.check_code(device, form.cleaned_data["code"])
            if verified:
                otp_login(request, device)
                return redirect(next_url)
            status = _code_refused(form, wait)
    return render(
        request,
        "registration/two_factor_verify.html",
        {"form": form, "next": next_url},
        status=status,
    )


@login_required
@require_POST
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    if two_factor.has_confirmed_device(request.user) and not request.user.is_verified():
        # Only a session that has entered a code may turn the codes off.
        return redirect(_verify_url(request))
    try:
        services.two_factor_disable(user=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("core:profile")
    messages.success(request, _("Two-factor login is off."))
    return redirect("core:profile")
