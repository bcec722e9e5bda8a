import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('care', '0001_initial'),
        ('clinics', '0001_initial'),
        ('monitoring', '0002_signal_types_baseline'),
    ]

    operations = [
        migrations.CreateModel(
            name='RepairAction',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('acknowledged', 'Acknowledged it with the client'), ('explored', "Explored the client's view"), ('renegotiated_goals', 'Renegotiated goals'), ('adjusted_tasks', 'Adjusted tasks or pace'), ('changed_approach', 'Changed approach'), ('consulted_supervision', 'Consulted supervision'), ('other', 'Something else')], max_length=24)),
                ('showed_as', models.CharField(choices=[('withdrawal', 'Withdrawal (going quiet, holding back, missing sessions)'), ('confrontation', 'Confrontation (a complaint or disagreement)'), ('not_sure', 'Not sure')], default='not_sure', max_length=16)),
                ('note', models.TextField(blank=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='clinics.staffmember')),
                ('session', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='repair_actions', to='care.session')),
                ('signal', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='repair_actions', to='monitoring.signal')),
            ],
            options={
                'ordering': ['created_at', 'pk'],
            },
        ),
    ]
