"""Where a job's socket and an owner's feed live: the routing serves them and the API
links to them."""

SOCKET_PREFIX = "ws/claps/"


def socket_path(job_id) -> str:
    return f"/{SOCKET_PREFIX}{job_id}/"


FEED_PATH = f"/{SOCKET_PREFIX}"
