"""Reading a batch from a Kafka consumer without waiting to fill it."""

import logging

from confluent_kafka import Consumer, KafkaError, Message


def poll_batch(consumer: Consumer, timeout: float, size: int, log: logging.Logger) -> list[Message]:
    """Block up to `timeout` for the first message only, then take what has already
    arrived, up to `size`: consume(size, timeout) alone would sit out its timeout to
    fill a batch at low rates. Error messages are logged (end of partition aside) and
    left out."""
    first = consumer.poll(timeout)
    if first is None:
        return []
    batch = []
    for msg in [first, *consumer.consume(size - 1, timeout=0)]:
        error = msg.error()
        if error is None:
            batch.append(msg)
        elif error.code() != KafkaError._PARTITION_EOF:
            log.warning("consumer error: %s", error)
    return batch
