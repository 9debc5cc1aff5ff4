"""Statements that need planner settings of their own, sent in one round trip.

Full-text candidates need the sequential scan switched off, HNSW candidates pgvector's scan
settings. ``SET LOCAL`` (``set_config(…, true)``) lasts until the end of the transaction, so
each used to run in a transaction of its own: BEGIN, the settings, the statement, COMMIT, four
round trips for one result. A simple-protocol query string of several statements runs as one
implicit transaction, so the settings and the statement travel together and the settings end
with it. Inside an open transaction (an atomic block, as in tests) they last until its end,
as ``SET LOCAL`` always did there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.db import connection


def fetch_with_settings(sql: str, params: Sequence, settings: Mapping[str, str]) -> list[tuple]:
    """Rows of ``sql`` run with ``settings`` (name -> value) local to it.

    Django's PostgreSQL backend binds parameters on the client side (its default; the
    settings never switch on ``server_side_binding``), so a string of several statements
    reaches the server as one simple query; its first result is that of the ``set_config``
    call, the second that of ``sql``.
    """
    names = list(settings)
    prefix = "SELECT " + ", ".join("set_config(%s, %s, true)" for _name in names)
    values = [item for name in names for item in (name, str(settings[name]))]
    with connection.cursor() as cursor:
        cursor.execute(prefix + "; " + sql, [*values, *params])
        if not cursor.nextset():
            raise RuntimeError("the statement after the planner settings returned no result")
        return cursor.fetchall()
