"""Re-encrypt every encrypted value with the first key, after a key rotation.

    alliance manage reencrypt

Put the new key first in ALLIANCE_ENCRYPTION_KEYS (or the key file), keep the old one after
it, run this, then remove the old key.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from alliance.web import crypto


class Command(BaseCommand):
    help = ("Re-encrypt the free text stored encrypted with the first configured key (after "
            "putting a new key first). Example: alliance manage reencrypt")

    def handle(self, *args, **options):
        quote = connection.ops.quote_name
        total = 0
        with transaction.atomic(), connection.cursor() as cursor:
            for model in apps.get_models():
                table = model._meta.db_table
                for field in model._meta.local_fields:
                    if not isinstance(field, crypto.EncryptedTextField | crypto.EncryptedJSONField):
                        continue
                    column = quote(field.column)
                    # Raw SQL: values are rotated as tokens, never decrypted into objects.
                    cursor.execute(f"SELECT id, {column} FROM {quote(table)} "
                                   f"WHERE {column} IS NOT NULL AND {column} <> ''")
                    for pk, token in cursor.fetchall():
                        cursor.execute(f"UPDATE {quote(table)} SET {column} = %s WHERE id = %s",
                                       [crypto.rotate(token), pk])
                        total += 1
        self.stdout.write(f"Re-encrypted {total} values with the first key.")
