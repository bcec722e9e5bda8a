"""Reading the keys that encrypt free text at rest (see docs/privacy.md).

Kept apart from `alliance.web.crypto` (the model fields) because the settings read the
keys before Django is set up.

Keys come from ALLIANCE_ENCRYPTION_KEYS (comma-separated) or from the file named by
ALLIANCE_ENCRYPTION_KEY_FILE (one key a line, or comma-separated), never from the database:
a copy of the database alone does not reveal what clients wrote. The first key encrypts;
every key decrypts, so a new key goes first and the old one stays after it until the
stored values have been re-encrypted (`alliance manage reencrypt`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from alliance.web.env import env_str

KEYS_VARIABLE = "ALLIANCE_ENCRYPTION_KEYS"
FILE_VARIABLE = "ALLIANCE_ENCRYPTION_KEY_FILE"
GENERATE = ("python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'")

# Development only (ALLIANCE_DEBUG=true without a key), like the development secret key:
# anyone can read this, so it protects nothing.
DEVELOPMENT_KEY = "ZGV2ZWxvcG1lbnQtb25seS1rZXktbm90LXNlY3JldCE="


def parse_keys(text: str, source: str) -> list[str]:
    """The keys in `text` (separated by commas or line breaks), each checked."""
    keys = [key for key in re.split(r"[\s,]+", text) if key]
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            # Never echo the value: it may be a real key with a typo.
            raise ImproperlyConfigured(
                f"{source}: key {number} is not a Fernet key (32 bytes in url-safe base64, "
                f"44 characters); generate one with: {GENERATE}") from None
    return keys


def encryption_keys(*, debug: bool, environ: Mapping[str, str] | None = None) -> list[str]:
    """The configured keys, first one encrypting; [] when none is set outside debug mode
    (the system check `alliance.E001` then stops the server with how to make one)."""
    text = env_str(KEYS_VARIABLE, environ=environ)
    path = env_str(FILE_VARIABLE, environ=environ)
    if text is not None and path is not None:
        raise ImproperlyConfigured(f"set {KEYS_VARIABLE} or {FILE_VARIABLE}, not both")
    if path is not None:
        try:
            text = Path(path).expanduser().read_text(encoding="utf-8")
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{FILE_VARIABLE}={path!r}: cannot read it ({exc.strerror})") from None
        keys = parse_keys(text, f"{FILE_VARIABLE}={path!r}")
        if not keys:
            raise ImproperlyConfigured(f"{FILE_VARIABLE}={path!r} holds no key")
        return keys
    if text is not None:
        return parse_keys(text, KEYS_VARIABLE)
    return [DEVELOPMENT_KEY] if debug else []
