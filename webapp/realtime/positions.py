"""A queued job's place in line: its offset on clap.jobs minus the workers' committed
offset on that partition (the deli-counter ticket of the talk's demo).

Look-ups run one at a time on a thread of their own: each is a round trip to the
group coordinator, and a burst of queued sockets must not take every thread the
server has for database work.
"""

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from confluent_kafka import KafkaException
from django.conf import settings

from streams.lag import OffsetReader

log = logging.getLogger(__name__)
_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="queue-position")
_local = threading.local()


async def position(partition: int, offset: int) -> int | None:
    """Messages ahead of the job on its partition, or None when Kafka does not answer."""
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(_executor, _position, partition, offset)
    except (KafkaException, LookupError) as exc:
        log.info("no queue position for partition %s: %s", partition, exc)
        return None


def _position(partition: int, offset: int) -> int:
    kafka = settings.KAFKA
    reader = getattr(_local, "reader", None)
    # One configuration per process, except in tests, which swap it.
    if reader is None or reader.kafka is not kafka:
        if reader is not None:
            reader.close()
        reader = _local.reader = OffsetReader(kafka, timeout=2.0)
    return reader.position(kafka.worker_group, kafka.topics.jobs, partition, offset)
