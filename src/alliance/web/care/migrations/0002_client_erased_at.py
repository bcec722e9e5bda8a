"""A client whose data were erased keeps their records under a pseudonym (docs/privacy.md)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('care', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='client',
            name='erased_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
