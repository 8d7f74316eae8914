"""Updating many job rows in one round of statements, in the order that avoids deadlocks."""

from django.db import DEFAULT_DB_ALIAS, connections

from webapp.claps.models import ClapJob


def update_each(jobs: list[ClapJob], field_names: list[str], *, unless_set: str = "") -> None:
    """One parametrised UPDATE per row, sent with executemany, rows in primary-key
    order: every writer of many rows (the recorder, the publisher's delivery reports)
    locks them in that order, so no two of them wait for each other in a circle.
    With `unless_set`, a row whose field of that name is already set is left alone.

    Not QuerySet.bulk_update: its CASE WHEN per field costs time quadratic in the
    batch, and it was 90 % of the recorder's time at 500 events a batch."""
    if not jobs:
        return
    # The connection itself: the `connection` proxy looks it up again on every use,
    # and preparing each value of each row used it several times.
    db = connections[DEFAULT_DB_ALIAS]
    meta = ClapJob._meta
    columns = [meta.get_field(name) for name in field_names]
    quote = db.ops.quote_name
    # Identifiers come from the model and are quoted; every value is a parameter.
    sql = (
        f"UPDATE {quote(meta.db_table)} SET "  # noqa: S608
        + ", ".join(f"{quote(c.column)} = %s" for c in columns)
        + f" WHERE {quote(meta.pk.column)} = %s"
    )
    if unless_set:
        sql += f" AND {quote(meta.get_field(unless_set).column)} IS NULL"
    rows = [
        [c.get_db_prep_save(getattr(job, c.attname), db) for c in columns]
        + [meta.pk.get_db_prep_value(job.pk, db)]
        for job in sorted(jobs, key=lambda job: job.pk)
    ]
    with db.cursor() as cursor:
        cursor.executemany(sql, rows)
