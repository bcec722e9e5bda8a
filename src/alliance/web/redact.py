"""One-time tokens never reach a log.

A check-in link (`/c/<token>/`), a client's portal sign-in link, a portal invitation, and a
staff member's set-password or password-reset link each work once: whoever reads one in a
log could use it first (answer a check-in in the client's place, sign in as them). Every
log record of the process passes through `redact` before it is formatted for any handler:
gunicorn's access log (request line, path and Referer), Django's request and error logging,
and any other logger. The token is replaced by `[redacted]`; the page stays recognisable.

Installed as the logging module's record factory (`install`), so it covers loggers and
handlers configured later too (gunicorn's own). It is in `alliance.web` and imports no
Django, so gunicorn's logger class can use it before Django is set up.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"

_SEGMENT = r"[^/\s?#\"'<>]+"
_TOKEN_IN_PATH = re.compile(
    rf"(?P<page>/c/)(?!thanks/)(?P<token>{_SEGMENT})"
    rf"|(?P<page2>/portal/sign-in/)(?!sent/)(?P<token2>{_SEGMENT})"
    rf"|(?P<page3>/(?:portal/welcome|password/set|account/password/reset)/{_SEGMENT}/)"
    rf"(?!set-password/)(?P<token3>{_SEGMENT})")


def _replace(match: re.Match) -> str:
    page = match.group("page") or match.group("page2") or match.group("page3")
    return page + REDACTED


def redact(text: str) -> str:
    """`text` with the token of every link page's path replaced by [redacted]."""
    if "/" not in text:
        return text
    return _TOKEN_IN_PATH.sub(_replace, text)


def _redact_record(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # a malformed call: leave it to the handler to report
        return record
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    return record


_installed = False


def install() -> None:
    """Redact every log record made in this process from now on (idempotent)."""
    global _installed
    if _installed:
        return
    make = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        return _redact_record(make(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True
