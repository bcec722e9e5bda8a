"""The database itself rejects changing or deleting audit events.

SQLite: BEFORE UPDATE/DELETE triggers that abort. PostgreSQL: a trigger function that raises,
for UPDATE and DELETE of a row and for TRUNCATE of the table.

The model becomes unmanaged: Django's `flush` (and the test suite's between transactional
tests) empties only managed tables, so it leaves the trail alone instead of failing on the
triggers. A later change to the table is therefore written as SQL in a migration.
"""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only: DELETE refused'); END""",
]
SQLITE_REVERSE = ["DROP TRIGGER IF EXISTS audit_event_no_update",
                  "DROP TRIGGER IF EXISTS audit_event_no_delete"]

POSTGRESQL = [
    """CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
           RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP;
       END $$""",
    """CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event
       FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()""",
    """CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
       FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()""",
]
POSTGRESQL_REVERSE = ["DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event",
                      "DROP TRIGGER IF EXISTS audit_event_no_change ON audit_event",
                      "DROP FUNCTION IF EXISTS audit_event_append_only()"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(_run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
                             _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE})),
        migrations.AlterModelOptions(
            name="event",
            options={"managed": False, "ordering": ["-id"]},
        ),
    ]
