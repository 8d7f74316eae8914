import uuid

from django.db import models

from streams import messages
from webapp.claps.owners import feed_of


class Status(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL_STATUSES = frozenset(Status(kind) for kind in messages.FINAL_TYPES)


class ClapJob(models.Model):
    """A clap job. The row is also the outbox: published_at stays NULL until Kafka
    acknowledged the job message, and the sweeper publishes such rows again."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # "user:<pk>" or "anon:<random>" (kept in the session; at login its jobs become the user's).
    owner = models.CharField(max_length=80)
    claps = models.PositiveSmallIntegerField(default=1)
    note = models.CharField(max_length=messages.MAX_NOTE, blank=True)
    fail_at_clap = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Fault injection: this clap raises (demos and tests)."
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.QUEUED)
    done = models.PositiveSmallIntegerField(default=0, help_text="Claps done so far.")
    attempts = models.PositiveIntegerField(default=0, help_text="Times a worker picked it up.")
    partition = models.IntegerField(null=True, blank=True)
    offset = models.BigIntegerField(null=True, blank=True)
    worker = models.CharField(max_length=120, blank=True)
    error = models.TextField(blank=True)
    last_seq = models.BigIntegerField(default=0, help_text="Newest event applied.")
    traceparent = models.CharField(
        max_length=55,
        blank=True,
        help_text="W3C trace context of the request that submitted it: the job's trace.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    published_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Throughput figures and /metrics count recently finished jobs by status.
            models.Index(fields=["status", "finished_at"], name="claps_finished_idx"),
            # An owner's jobs, newest first (the home page, the API's list): without it
            # the database walks every owner's jobs by created_at to find them.
            models.Index(fields=["owner", "-created_at", "-id"], name="claps_owner_recent_idx"),
            models.Index(
                fields=["created_at"],
                condition=models.Q(published_at__isnull=True),
                name="claps_unpublished_idx",
            ),
        ]

    def __str__(self):
        return f"{self.claps} claps ({self.status}) {self.id}"

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    def to_message(self) -> messages.JobRequest:
        return messages.JobRequest(
            id=str(self.id),
            claps=self.claps,
            note=self.note,
            submitted_at=self.created_at.timestamp(),
            fail_at_clap=self.fail_at_clap,
            feed=feed_of(self.owner),
        )


class Applause(models.Model):
    """The result of a done job: a WAV clip, kept apart so job queries never load it.

    Stored deflated, as the worker made it (streams.messages.deflate): a clip is mostly
    silence, and writing clips whole was most of PostgreSQL's work per job."""

    job = models.OneToOneField(
        ClapJob, on_delete=models.CASCADE, primary_key=True, related_name="applause"
    )
    wav = models.BinaryField()  # deflated, unless `deflated` is False
    deflated = models.BooleanField(default=True)  # False: a row stored whole, before 0005

    def __str__(self):
        return f"applause of {self.job_id}"

    @classmethod
    def of(cls, job_id, audio: bytes) -> "Applause":
        return cls(job_id=job_id, wav=messages.deflate(audio))

    def audio(self) -> bytes:
        """The WAV file."""
        return messages.inflate(self.wav) if self.deflated else bytes(self.wav)


class Transition(models.Model):
    """The recorder's log of status changes: a job's timeline, and the proof that no
    job was completed twice."""

    job = models.ForeignKey(ClapJob, on_delete=models.CASCADE, related_name="transitions")
    status = models.CharField(max_length=10, choices=Status)
    seq = models.BigIntegerField()
    at = models.DateTimeField()
    worker = models.CharField(max_length=120, blank=True)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["job", "seq"]

    def __str__(self):
        return f"{self.job_id} -> {self.status}"


class AdmissionCount(models.Model):
    """Submissions counted in one window of one admission limit (webapp.claps.admission)."""

    key = models.CharField(max_length=200, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.BigIntegerField(db_index=True, help_text="Unix time the window ends.")

    def __str__(self):
        return f"{self.key}: {self.count}"


class IdempotencyKey(models.Model):
    """A submission's Idempotency-Key: the same key from the same owner within a day
    answers with the same job; the body's fingerprint tells a retry from a mistake."""

    owner = models.CharField(max_length=80)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request body.")
    job = models.ForeignKey(ClapJob, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            # Two requests racing with one key: the second insert fails and it answers
            # with the first one's job.
            models.UniqueConstraint(fields=["owner", "key"], name="claps_idempotency_once"),
        ]

    def __str__(self):
        return f"{self.key} of {self.owner} -> {self.job_id}"
