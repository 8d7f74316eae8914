from django.conf import settings
from django.db import models

from streams.lag import PartitionOffsets


class Sample(models.Model):
    """One sampling of a consumer group on its topic."""

    at = models.DateTimeField()
    group = models.CharField(max_length=255)
    topic = models.CharField(max_length=255)

    class Meta:
        abstract = True
        indexes = [models.Index(fields=["group", "topic", "at"]), models.Index(fields=["at"])]


class PartitionSample(Sample):
    """Where a group stood on one partition at one sampling: the dashboards' source,
    so a page load never has to ask Kafka for offsets."""

    partition = models.IntegerField()
    first = models.BigIntegerField(help_text="First retained offset (low watermark).")
    log_end = models.BigIntegerField(help_text="Log-end offset (high watermark).")
    committed = models.BigIntegerField(null=True, help_text="NULL: the group never committed.")
    moved_at = models.DateTimeField(
        null=True, help_text="When the committed offset was last seen to change (NULL: not seen)."
    )
    owner = models.CharField(
        max_length=255, blank=True, help_text="Client id of the member holding the partition."
    )

    def __str__(self):
        return f"{self.group} {self.topic}[{self.partition}] at {self.at:%H:%M:%S}"

    @property
    def offsets(self) -> PartitionOffsets:
        return PartitionOffsets(self.partition, self.first, self.log_end, self.committed)


class GroupSample(Sample):
    """A group's totals over its topic's partitions at one sampling: the charts' source."""

    log_end = models.BigIntegerField(help_text="Sum of log-end offsets: messages produced.")
    position = models.BigIntegerField(
        help_text="Sum of the group's positions (log end minus unread): messages consumed."
    )
    members = models.IntegerField(null=True, help_text="NULL: Kafka did not describe the group.")
    state = models.CharField(max_length=40, blank=True)

    def __str__(self):
        return f"{self.group} on {self.topic} at {self.at:%H:%M:%S}"

    @property
    def lag(self) -> int:
        return self.log_end - self.position


class DeadLetterAction(models.Model):
    """What an operator did with one dead letter; a letter is handled at most once."""

    class Action(models.TextChoices):
        REQUEUE = "requeue"
        DISCARD = "discard"

    topic = models.CharField(max_length=255)
    partition = models.IntegerField()
    offset = models.BigIntegerField()
    key = models.CharField(max_length=255, blank=True, help_text="The letter's key: the job id.")
    action = models.CharField(max_length=10, choices=Action)
    resubmitted_as = models.UUIDField(
        null=True, blank=True, help_text="The new job a requeued failed job became."
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["topic", "partition", "offset"], name="dead_letter_handled_once"
            )
        ]
        ordering = ["-at"]

    def __str__(self):
        return f"{self.action} {self.topic}[{self.partition}]@{self.offset}"
