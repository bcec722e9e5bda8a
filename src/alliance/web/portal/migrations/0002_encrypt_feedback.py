"""What clients write in the portal encrypted at rest (docs/privacy.md); the feedback
already stored is encrypted with the configured key."""

from django.db import migrations

import alliance.web.crypto

ENCRYPT = alliance.web.crypto.encrypt_columns({"portal_clientfeedback": ["text"]})


class Migration(migrations.Migration):

    dependencies = [
        ("portal", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="clientfeedback",
            name="text",
            field=alliance.web.crypto.EncryptedTextField(max_length=4000),
        ),
        migrations.RunPython(*ENCRYPT),
    ]
