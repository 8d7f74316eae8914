"""The consumer groups the dashboard watches, each on the topic it consumes, and how
each reads a partition it never committed on. The sampler, the pages and /metrics
share them."""


def sampled_pairs(kafka) -> list[tuple[str, str]]:
    """(group, topic): the workers on the jobs, the recorder on the events."""
    return [(kafka.worker_group, kafka.topics.jobs), (kafka.recorder_group, kafka.topics.events)]


def reset_policy(kafka, group: str) -> str:
    return kafka.consumer(group)["auto.offset.reset"]
