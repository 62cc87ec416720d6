"""Two-factor login with an authenticator app (TOTP, via django-otp)."""

from django_otp.plugins.otp_totp.models import TOTPDevice


def has_confirmed_device(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def two_factor_state(user) -> str:
    """'verify' when the user has an authenticator but this session has not used it,
    'setup' when the role demands one that the user has not set up yet, else 'ok'."""
    if has_confirmed_device(user):
        return "verify"
    if user.role is not None and user.role.require_two_factor:
        return "setup"
    return "ok"
