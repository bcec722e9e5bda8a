from django.apps import AppConfig


class WebConfig(AppConfig):
    """The site itself: base templates and static files shared by every area."""

    name = "alliance.web"
    label = "web"
    verbose_name = "Alliance web"

    def ready(self):
        # System checks that stop a production server with a weak CSP or cacheable pages.
        from alliance.web import checks  # noqa: F401
        from alliance.web import redact

        # One-time tokens never reach a log: gunicorn's access log, Django's, any other.
        redact.install()
        from django.db.backends.signals import connection_created

        connection_created.connect(_private_sqlite, dispatch_uid="alliance-private-sqlite")


def _private_sqlite(sender, connection, **kwargs):
    # SQLite creates the file with the umask's rights (usually 0644): client data must be
    # readable by the server's user only. Once per connection, which each process keeps.
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():
        from alliance.web.private_files import tighten_sqlite

        tighten_sqlite(connection.settings_dict["NAME"])
