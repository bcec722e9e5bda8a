"""Goal and task wording and the goal history encrypted at rest (docs/privacy.md); the
texts already stored are encrypted with the configured key."""

from django.db import migrations

import alliance.web.crypto

ENCRYPT = alliance.web.crypto.encrypt_columns({
    "goals_goal": ["text"],
    "goals_goalevent": ["old_text", "new_text"],
    "goals_task": ["what", "how_often"],
})


class Migration(migrations.Migration):

    dependencies = [
        ("goals", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="goal",
            name="text",
            field=alliance.web.crypto.EncryptedTextField(max_length=300),
        ),
        migrations.AlterField(
            model_name="goalevent",
            name="new_text",
            field=alliance.web.crypto.EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="goalevent",
            name="old_text",
            field=alliance.web.crypto.EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="task",
            name="how_often",
            field=alliance.web.crypto.EncryptedTextField(blank=True, max_length=120),
        ),
        migrations.AlterField(
            model_name="task",
            name="what",
            field=alliance.web.crypto.EncryptedTextField(max_length=300),
        ),
        migrations.RunPython(*ENCRYPT),
    ]
