"""Sessions in the database, each read with one plain query.

Every API call and socket handshake reads its session, and Django's own backend builds
an ORM query for it each time: most of the read's CPU. This backend keeps Django's
table, rows and expiry rule and writes through Django's code, so logging out or an
expired session ends it in every process at once (which signed-cookie or per-process
cached sessions would not); only the read is a plain SELECT.
"""

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone


class SessionStore(db.SessionStore):
    def load(self) -> dict:
        data = self._stored_data()
        if data is None:
            self._session_key = None  # unknown or expired: a new key when saved
            return {}
        return self.decode(data)

    def _stored_data(self) -> str | None:
        if self.session_key is None:
            return None
        connection = connections[router.db_for_read(self.model)]
        name = connection.ops.quote_name
        meta = self.model._meta
        key, data, expires = (
            name(meta.get_field(f).column) for f in ("session_key", "session_data", "expire_date")
        )
        sql = f"SELECT {data} FROM {name(meta.db_table)} WHERE {key} = %s AND {expires} > %s"  # noqa: S608 - names are the model's, quoted
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.session_key, now])
            row = cursor.fetchone()
        return row[0] if row else None
