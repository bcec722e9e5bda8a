"""Encryption of free text at rest: model fields whose values the database holds only as
Fernet tokens (AES-128-CBC with HMAC-SHA256, `cryptography`), with keys kept outside it.

What clients and therapists write (open answers, goal and task wording, notes, feedback,
the explanations that quote them) is readable through the ORM and unreadable in the
database file, a dump or a backup without the key. Scores, dates and choices stay plain:
the signal engine and the dashboards query them.

Keys: `settings.ENCRYPTION_KEYS` (read by `alliance.web.privacy.keys`). The first key
encrypts; all of them decrypt (`MultiFernet`), so rotating means putting a new key first.

An encrypted value cannot be searched or compared in SQL (each encryption of the same text
differs), so these fields accept only `isnull` and comparison with the empty string; any
other lookup is an error rather than a filter that silently matches nothing. The empty
string is stored as it is, so that "no reason given" stays checkable by a constraint.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver
from django.db.models.lookups import Exact, IsNull

from alliance.web.privacy.keys import FILE_VARIABLE, GENERATE, KEYS_VARIABLE


class EncryptionKeyError(ImproperlyConfigured):
    """No key is configured, or none of the keys decrypts a stored value."""


@functools.lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


#: The keys object of the current settings. Looking the keys up in the settings for every
#: value cost more than decrypting it (a clinic's recomputation decrypts a hundred thousand
#: values), so it is kept here and dropped when the setting changes (`setting_changed`:
#: tests and rotation checks that override ENCRYPTION_KEYS).
_current: MultiFernet | None = None


def fernet() -> MultiFernet:
    global _current
    if _current is not None:
        return _current
    keys = tuple(getattr(settings, "ENCRYPTION_KEYS", None) or ())
    if not keys:
        raise EncryptionKeyError(
            f"no encryption key: set {KEYS_VARIABLE} or {FILE_VARIABLE} (see docs/privacy.md); "
            f"generate a key with: {GENERATE}")
    _current = _fernet(keys)
    return _current


@receiver(setting_changed)
def _keys_changed(setting, **kwargs) -> None:
    global _current
    if setting == "ENCRYPTION_KEYS":
        _current = None
        _fingerprint_key.cache_clear()


def encrypt(text: str) -> str:
    return fernet().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError):
        raise EncryptionKeyError(
            "a stored value cannot be decrypted with the configured encryption keys: the key "
            "that encrypted it is missing or wrong. When rotating, keep the old key after "
            f"the new one in {KEYS_VARIABLE} (or {FILE_VARIABLE}).") from None


class Sealed(str):
    """A value already encrypted by `seal`: the encrypted fields store it as it is.

    For code that needs the token it writes (see `fingerprint`) without encrypting twice.
    """


def seal(text: str) -> Sealed:
    """`text` as the encrypted fields store it ("" stays "")."""
    return Sealed(encrypt(text) if text else "")


def json_text(value, *, allow_nan: bool = True) -> str:
    """The JSON text `EncryptedJSONField` encrypts for `value` (with allow_nan=False, a
    ValueError for NaN or infinity instead of JSON that only Python reads back)."""
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, allow_nan=allow_nan)


@functools.lru_cache(maxsize=1)
def _fingerprint_key() -> bytes:
    fernet()  # no key: the same clear error
    first = settings.ENCRYPTION_KEYS[0]
    return hmac.digest(base64.urlsafe_b64decode(first), b"alliance fingerprint", "sha256")


def fingerprint(*parts: str) -> str:
    """A keyed digest (HMAC-SHA256 with a key derived from the first encryption key) of
    text that is stored encrypted: equal texts give equal fingerprints, and without the
    key a fingerprint tells nothing about the text (a plain hash of a short answer could
    be guessed). Another first key gives other fingerprints."""
    message = "\x1f".join(parts).encode("utf-8", "surrogatepass")
    return hmac.new(_fingerprint_key(), message, hashlib.sha256).hexdigest()[:40]


def is_encrypted(value: str) -> bool:
    """Whether `value` is a token one of the configured keys decrypts."""
    try:
        fernet().decrypt(value.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError):
        return False
    return True


def rotate(token: str) -> str:
    """The same value encrypted with the first key (for re-encryption after a rotation)."""
    return fernet().rotate(token.encode("ascii")).decode("ascii")


class EmptyOnlyExact(Exact):
    """`field=""` (and `field=None`) only: equality with text cannot be computed in SQL."""

    def get_prep_lookup(self):
        if self.rhs not in ("", None) and not hasattr(self.rhs, "resolve_expression"):
            raise FieldError(f"{self.lhs.target.name} is encrypted at rest: it can only be "
                             "compared with the empty string or tested for NULL")
        return super().get_prep_lookup()


_LOOKUPS = {"exact": EmptyOnlyExact, "isnull": IsNull}


class _Encrypted:
    """What both encrypted fields share: stored as text, searchable not at all."""

    def get_lookup(self, lookup_name):
        if lookup_name in _LOOKUPS:
            return _LOOKUPS[lookup_name]
        raise FieldError(f"{self.name} is encrypted at rest: it cannot be searched with "
                         f"__{lookup_name}")

    def get_transform(self, lookup_name):
        return None

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        if self.db_index or self.unique:
            errors.append(checks.Error("an encrypted field cannot be indexed or unique",
                                       obj=self, id="alliance.E002"))
        return errors


class EncryptedTextField(_Encrypted, models.TextField):
    """Text stored as a Fernet token; "" and NULL are stored as they are."""

    description = "Text encrypted at rest"

    def get_prep_value(self, value):
        if isinstance(value, Sealed):
            return str(value)
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)


class EncryptedJSONField(_Encrypted, models.TextField):
    """A JSON value stored as an encrypted text column; None is stored as NULL."""

    description = "JSON encrypted at rest"

    def get_prep_value(self, value):
        if isinstance(value, Sealed):
            return str(value)
        if value is None:
            return None
        return encrypt(json_text(value))

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return json.loads(decrypt(value))

    def to_python(self, value):
        return value

    def value_to_string(self, obj):
        return json.dumps(self.value_from_object(obj), cls=DjangoJSONEncoder)


@checks.register(checks.Tags.security)
def check_encryption_key(app_configs, **kwargs):
    """Production settings refuse to start without a key (development has a built-in one)."""
    if getattr(settings, "ENCRYPTION_KEYS", None):
        return []
    return [checks.Error(
        "No encryption key for free text at rest.",
        hint=f"Set {KEYS_VARIABLE} (comma-separated Fernet keys, the first encrypts) or "
             f"{FILE_VARIABLE} (a file outside the database holding them). Generate a key "
             f"with: {GENERATE} — and keep it safe: without it the stored text is lost.",
        id="alliance.E001")]


# -- Migrations: encrypt what is plain, decrypt on the way back -------------------------------

def encrypt_columns(table_columns: dict[str, list[str]]):
    """A RunPython pair that encrypts the plain values of the given columns (and back).

    Raw SQL on purpose: a migration must not depend on the fields' current Python code, and
    a value already encrypted (a re-run, a partly converted copy) is left alone.
    """
    def forward(apps, schema_editor):
        _convert(schema_editor.connection, table_columns,
                 lambda value: None if is_encrypted(value) else encrypt(value))

    def backward(apps, schema_editor):
        _convert(schema_editor.connection, table_columns,
                 lambda value: decrypt(value) if is_encrypted(value) else None)

    forward.table_columns = backward.table_columns = table_columns
    return forward, backward


def _convert(connection, table_columns, change) -> None:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, columns in table_columns.items():
            for column in columns:
                cursor.execute(f"SELECT id, {quote(column)} FROM {quote(table)} "
                               f"WHERE {quote(column)} IS NOT NULL AND {quote(column)} <> ''")
                for pk, value in cursor.fetchall():
                    new = change(value)
                    if new is not None:
                        cursor.execute(f"UPDATE {quote(table)} SET {quote(column)} = %s "
                                       "WHERE id = %s", [new, pk])
