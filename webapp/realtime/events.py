"""What a socket receives: the job's snapshot and its live events, as JSON objects.

Every message has a `type` and the job's `seq`, so a client drops the stale ones. The
applause itself never travels over a socket: `done` carries its URL.
"""

from streams import messages
from webapp.claps.api.serializers import job_data
from webapp.claps.links import job_url
from webapp.claps.models import ClapJob

TYPE_OF = {messages.RUNNING: "status", messages.PROGRESS: "progress"}


def group_of(job_id: str) -> str:
    """The Channels group of a job's sockets (ASCII, well under 100 characters)."""
    return f"clap-{job_id}"


def feed_group_of(feed: str) -> str:
    """The Channels group of an owner's feeds (`webapp.claps.owners.feed_of`)."""
    return f"feed-{feed}"


def snapshot_of(job: ClapJob) -> dict:
    """The job as the API shows it, stamped with the newest event applied."""
    return {"type": "snapshot", "seq": job.last_seq, **job_data(job)}


def message_of(event: messages.JobEvent) -> dict:
    message = {
        "type": TYPE_OF.get(event.type, event.type),
        "seq": event.seq,
        "at": event.at,
        "id": event.job,
        "status": event.type if event.type != messages.PROGRESS else messages.RUNNING,
        "worker": event.worker,
    }
    if event.type in (messages.RUNNING, messages.PROGRESS, messages.DONE):
        message["progress"] = {"done": event.done or 0, "total": event.total}
    if event.type == messages.RUNNING:
        message.update(partition=event.partition, offset=event.offset)
    elif event.type == messages.DONE:
        message["result_url"] = job_url("clap-applause", event.job)
    elif event.type in (messages.FAILED, messages.CANCELLED):
        message["error"] = event.error
    return message


def position_message(job_id: str, seq: int, partition: int, offset: int, ahead: int) -> dict:
    return {
        "type": "position",
        "seq": seq,
        "id": job_id,
        "partition": partition,
        "offset": offset,
        "position": ahead,
    }


def is_final(message: dict) -> bool:
    return message["type"] in messages.FINAL_TYPES or (
        message["type"] == "snapshot" and message["status"] in messages.FINAL_TYPES
    )
