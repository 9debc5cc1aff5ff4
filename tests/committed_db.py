"""Committed rows in the throwaway test database, for tests that involve other processes.

A live server thread, a ``db_worker`` or a ``manage.py`` child process has its own database
connection and cannot see rows inside a test's transaction. These tests commit for real; the
database is afterwards returned to its state before (flush + the serialized snapshot, as
Django's ``serialized_rollback`` does: flush alone would also drop Wagtail's root page), and
the id sequences are moved past the restored rows for the tests that follow.
"""

from __future__ import annotations

from contextlib import contextmanager

# ``TASKS`` for committing set-up that must not index as it publishes (the dummy backend drops
# every enqueued task): the test decides when and how the index is built.
NO_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@contextmanager
def ensure_test_database():
    """Make sure the test database exists, also when no selected test uses ``db``.

    pytest-django creates it only for tests that use ``db``/``django_db``; tests with committed
    rows must not run inside a transaction, so when they run alone we create it here.
    """
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    if connection.settings_dict["NAME"] == connection.creation._get_test_db_name():
        yield
        return
    config = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    try:
        yield
    finally:
        teardown_databases(config, verbosity=0)


@contextmanager
def committed_database(django_db_blocker):
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection

    with django_db_blocker.unblock():
        snapshot = connection.creation.serialize_db_to_string()
        try:
            yield
        finally:
            call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)
            connection.creation.deserialize_db_from_string(snapshot)
            _reset_sequences(connection)
            cache.clear()


def _reset_sequences(connection):
    """Move the id sequences past the restored rows (flush restarted them at 1)."""
    from django.apps import apps
    from django.core.management.color import no_style

    statements = connection.ops.sequence_reset_sql(no_style(), apps.get_models())
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
