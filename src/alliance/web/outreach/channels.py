"""The ways a message leaves Alliance: e-mail (Django's mail settings) and a signed HTTP
POST to the clinic's text-message gateway.

A channel raises `DeliveryFailed` with a sentence the therapist can read; the message row
records it. No message holds answers or scores: the texts come from `texts`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import time
import urllib.error
import urllib.request
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from alliance.web.errors import DomainError

WEBHOOK_TIMEOUT_SECONDS = 10


class DeliveryFailed(DomainError):
    """The message could not be handed over (the reason is in words, without content)."""


def sender(clinic_name: str) -> str:
    """From: the clinic's name with the site's address ("Riverside Counselling <…>")."""
    _, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return formataddr((clinic_name, address or "alliance@localhost"))


def send_email(*, to: str, subject: str, text: str, html: str, clinic_name: str,
               reply_to: str = "") -> None:
    message = EmailMultiAlternatives(subject=subject, body=text, from_email=sender(clinic_name),
                                     to=[to], reply_to=[reply_to] if reply_to else None)
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused:
        raise DeliveryFailed("The mail server refused the address on file.") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(f"The mail server could not be reached or refused the message "
                             f"({type(exc).__name__}).") from None


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "timestamp.body", as the gateway checks it."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def post_webhook(url: str, secret: str, payload: dict) -> None:
    """POST `payload` as JSON with `X-Alliance-Timestamp` and `X-Alliance-Signature`."""
    if not url:
        raise DeliveryFailed("The clinic has no text-message gateway set up.")
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "Alliance",
        "X-Alliance-Timestamp": timestamp,
        "X-Alliance-Signature": signature(secret, timestamp, body)})
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:
        raise DeliveryFailed(f"The text-message gateway could not be reached "
                             f"({type(exc).__name__}).") from None
    if not 200 <= status < 300:
        raise DeliveryFailed(f"The text-message gateway answered {status}.")
