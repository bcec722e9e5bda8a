"""Open-text answers encrypted at rest (docs/privacy.md): the column becomes text, and the
answers already stored are encrypted with the configured key."""

from django.db import migrations

import alliance.web.crypto

ENCRYPT = alliance.web.crypto.encrypt_columns({"checkins_administration": ["answers"]})


class Migration(migrations.Migration):

    dependencies = [
        ("checkins", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="administration",
            name="answers",
            field=alliance.web.crypto.EncryptedJSONField(blank=True, null=True),
        ),
        migrations.RunPython(*ENCRYPT),
    ]
