"""Two-factor login with an authenticator app (TOTP, via django-otp).

A user has at most one confirmed authenticator. A session that logged in with the
password of such a user must also enter a code (``verify``) before it reaches any
page; a user whose role demands two-factor login and who has no authenticator yet
is sent to pair one (``setup``). Wrong codes are throttled by django-otp: after the
n-th wrong code in a row the next attempt is refused for 2**(n-1) seconds.
"""

import math

from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

VERIFY = "verify"
SETUP = "setup"
OK = "ok"


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def has_confirmed_device(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def required_by_role(user) -> bool:
    return user.role is not None and user.role.require_two_factor


def two_factor_state(user) -> str:
    """'verify' when the user has an authenticator but this session has not used it,
    'setup' when the role demands one that the user has not set up yet, else 'ok'.
    Call it only for a session that is not verified yet."""
    if has_confirmed_device(user):
        return VERIFY
    if required_by_role(user):
        return SETUP
    return OK


def pending_device(user) -> TOTPDevice:
    """The authenticator being paired: made on first use, reused until confirmed so
    that reloading the page does not change the QR code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def wait_seconds(device: TOTPDevice) -> int:
    """Seconds until ``device`` accepts another code after wrong ones; 0 if it does now."""
    allowed, info = device.verify_is_allowed()
    if allowed:
        return 0
    locked_until = (info or {}).get("locked_until")
    if locked_until is None:
        return 1
    return max(1, math.ceil((locked_until - timezone.now()).total_seconds()))


def check_code(device: TOTPDevice, code: str) -> tuple[bool, int]:
    """(verified, seconds to wait). A throttled device does not look at the code."""
    wait = wait_seconds(device)
    if wait:
        return False, wait
    return device.verify_token(code.strip()), 0
