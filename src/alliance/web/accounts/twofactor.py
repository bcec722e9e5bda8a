"""TOTP devices (django-otp): enrolment, verification and reset by an administrator."""

from __future__ import annotations

import base64
import io
import re

import qrcode
import qrcode.image.svg
from django.db import transaction
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from alliance.web.accounts import sessions

DEVICE_NAME = "Authenticator app"


def device_of(user) -> TOTPDevice | None:
    """The user's confirmed device, if they enrolled one."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_device(user) -> TOTPDevice:
    """The unconfirmed device being enrolled (a new secret the first time)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def secret_text(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an app by hand."""
    text = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as an SVG QR code, drawn here (no image service, no script)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage,
                        box_size=8, border=2)
    out = io.BytesIO()
    image.save(out)
    svg = out.getvalue().decode("utf-8")
    svg = svg[svg.index("<svg"):]  # without the XML declaration, for inline use
    # A fixed on-screen size, a name for screen readers, and a white ground so that the code
    # scans in a dark theme too (attributes, not inline styles: the CSP allows no inline CSS).
    svg = re.sub(r'width="[^"]+" height="[^"]+"',
                 'width="220" height="220" role="img" '
                 'aria-label="QR code to scan with your authenticator app"', svg, count=1)
    return re.sub(r"(<svg[^>]*>)", r'\1<rect width="100%" height="100%" fill="#fff"/>', svg,
                  count=1)


def _clean(code: str) -> str:
    return "".join((code or "").split())


@transaction.atomic
def confirm(request, device: TOTPDevice, code: str) -> bool:
    """Confirm a pending device with a code from the app; it replaces any earlier device."""
    if not device.verify_token(_clean(code)):
        return False
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    otp_login(request, device)
    return True


def verify(request, device: TOTPDevice, code: str) -> bool:
    """Check a code at sign-in (django-otp throttles repeated failures per device)."""
    if not device.verify_token(_clean(code)):
        return False
    otp_login(request, device)
    return True


def throttled(device: TOTPDevice) -> bool:
    allowed, _ = device.verify_is_allowed()
    return not allowed


@transaction.atomic
def reset(user) -> int:
    """Remove the user's devices and sign them out: they enrol again at their next sign-in."""
    removed, _ = TOTPDevice.objects.filter(user=user).delete()
    sessions.end_all(user)
    return removed
