"""Signal explanations, data and dismissal reasons, and repair notes encrypted at rest
(docs/privacy.md); the values already stored are encrypted with the configured key."""

from django.db import migrations

import alliance.web.crypto

ENCRYPT = alliance.web.crypto.encrypt_columns({
    "monitoring_signal": ["data", "explanation", "dismiss_reason"],
    "monitoring_repairaction": ["note"],
})


class Migration(migrations.Migration):

    dependencies = [
        ("monitoring", "0003_repair_action"),
    ]

    operations = [
        migrations.AlterField(
            model_name="repairaction",
            name="note",
            field=alliance.web.crypto.EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="signal",
            name="data",
            field=alliance.web.crypto.EncryptedJSONField(default=dict),
        ),
        migrations.AlterField(
            model_name="signal",
            name="dismiss_reason",
            field=alliance.web.crypto.EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="signal",
            name="explanation",
            field=alliance.web.crypto.EncryptedTextField(),
        ),
        migrations.RunPython(*ENCRYPT),
    ]
