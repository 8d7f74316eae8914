"""Fakes for unit tests; the real broker is used wherever the behaviour lives there."""


class FakePublisher:
    """Stands in for webapp.claps.publisher.Publisher where a test is about input or
    pages, not Kafka: remembers what it was asked to publish."""

    def __init__(self):
        self.jobs = []
        self.cancels = []

    def publish_job(self, job):
        self.jobs.append(job.id)

    def publish_cancel(self, job):
        self.cancels.append(str(job.id))
