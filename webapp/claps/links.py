"""The URLs of a job's own pages and files, from routes reversed once.

The relay puts the applause's URL on every `done` it sends, and each job the API
shows carries two links: with reverse() walking the URL resolver's patterns each
time, that was a visible share of a web process's CPU at the spike's rate.
"""

from functools import cache

from django.urls import get_script_prefix, reverse

_MARK = "00000000-0000-0000-0000-000000000000"  # any id the <uuid:pk> converter takes


@cache
def _route(name: str) -> tuple[str, str]:
    """The route's path around the job's id, without the script prefix."""
    path = reverse(name, kwargs={"pk": _MARK}).removeprefix(get_script_prefix())
    head, _, tail = path.partition(_MARK)
    return head, tail


def job_url(name: str, job_id) -> str:
    """reverse(name, kwargs={"pk": job_id}), for the routes of one job."""
    head, tail = _route(name)
    return f"{get_script_prefix()}{head}{job_id}{tail}"
