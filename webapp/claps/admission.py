"""Admission of submissions: per owner, per client address and for the whole site.

Each limit is a count per fixed window ("120/min": at most 120 in each whole minute),
kept in the database, so every web process (and pod) shares it; one statement counts
a submission against all three. A refused submission gets how long until the window
that refused it ends (the Retry-After of its 429). The client address is
webapp.core.client_address's.
"""

import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import F

from webapp.claps.models import AdmissionCount
from webapp.core.client_address import client_key

PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


@dataclass(frozen=True)
class Limit:
    scope: str  # what is counted, in words
    key: str  # whose count
    allowed: int
    period: int  # seconds


@dataclass(frozen=True)
class Refusal:
    scope: str
    wait: int  # seconds until the refusing window ends

    def __str__(self) -> str:
        return f"too many submissions {self.scope}"


def parse_rate(rate: str) -> tuple[int, int]:
    """(count, seconds) of DRF's "N/sec|min|hour|day" (first letter is enough)."""
    count, _, unit = rate.partition("/")
    seconds = PERIODS.get(unit) or PERIODS.get(unit[:1])
    if not count.isdigit() or not seconds:
        raise ValueError(f"not a rate: {rate!r}; write e.g. 120/min")
    return int(count), seconds


def limits_for(request, owner: str) -> list[Limit]:
    chosen = [
        ("per owner", f"owner:{owner}", settings.CLAP_SUBMIT_RATE),
        ("per client address", f"address:{client_key(request)}", settings.CLAP_ADDRESS_RATE),
        ("for the whole site", "site", settings.CLAP_ADMISSION_RATE),
    ]
    return [Limit(scope, key, *parse_rate(rate)) for scope, key, rate in chosen if rate]


def admit(request, owner: str) -> Refusal | None:
    """Count the submission against every limit; the refusal with the longest wait."""
    now = time.time()
    windows = {}
    for limit in limits_for(request, owner):
        window = int(now // limit.period)
        windows[f"{limit.key}|{limit.period}|{window}"] = (limit, (window + 1) * limit.period)
    if not windows:  # every limit switched off
        return None
    counts = _count({key: ends for key, (_, ends) in windows.items()})
    refusals = [
        Refusal(limit.scope, max(1, math.ceil(ends - now)))
        for key, (limit, ends) in windows.items()
        if counts[key] > limit.allowed
    ]
    if refusals:
        # A refused submission uses no budget: else one client over its own limit,
        # still sending, would spend the whole site's and lock everybody out.
        _uncount(list(windows))
    return max(refusals, key=lambda r: r.wait, default=None)


def _count(windows: dict[str, float]) -> dict[str, int]:
    """Add one to each window's count (created at 1); the counts after."""
    table = connection.ops.quote_name(AdmissionCount._meta.db_table)
    key, count, expires = (
        connection.ops.quote_name(AdmissionCount._meta.get_field(f).column)
        for f in ("key", "count", "expires_at")
    )
    rows = ", ".join(["(%s, 1, %s)"] * len(windows))
    # One upsert for every limit (SQLite >= 3.35 and PostgreSQL): names are the
    # model's, quoted; every value is a parameter.
    sql = (
        f"INSERT INTO {table} ({key}, {count}, {expires}) VALUES {rows} "  # noqa: S608
        f"ON CONFLICT ({key}) DO UPDATE SET {count} = {table}.{count} + 1 "
        f"RETURNING {key}, {count}"
    )
    params = [value for k, ends in windows.items() for value in (k, int(ends))]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def _uncount(keys: list[str]) -> None:
    AdmissionCount.objects.filter(key__in=keys).update(count=F("count") - 1)


def forget_expired() -> int:
    """Delete the counts of windows that have ended; returns how many."""
    deleted, _ = AdmissionCount.objects.filter(expires_at__lt=int(time.time())).delete()
    return deleted
