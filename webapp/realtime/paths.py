"""Where a job's socket lives: the routing serves it and the API links to it."""

SOCKET_PREFIX = "ws/claps/"


def socket_path(job_id) -> str:
    return f"/{SOCKET_PREFIX}{job_id}/"
