from functools import cache

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from streams import messages
from webapp.claps.links import job_url
from webapp.claps.models import ClapJob, Status
from webapp.realtime.paths import socket_path


class _StrictJSON:
    """Only the JSON type the schema promises: DRF alone turns 0 into "0" and "5" into 5."""

    json_type: type

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, self.json_type):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(_StrictJSON, serializers.IntegerField):
    json_type = int


class StrictCharField(_StrictJSON, serializers.CharField):
    json_type = str


class ClapRequestSerializer(serializers.Serializer):
    claps = StrictIntegerField(min_value=1, max_value=messages.MAX_CLAPS, default=1)
    note = StrictCharField(
        max_length=messages.MAX_NOTE, allow_blank=True, default="", trim_whitespace=False
    )


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()


class LinksSerializer(serializers.Serializer):
    page = serializers.CharField()
    socket = serializers.CharField()


class ClapJobSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()
    result_url = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()

    class Meta:
        model = ClapJob
        fields = [
            "id",
            "status",
            "claps",
            "note",
            "progress",
            "attempts",
            "partition",
            "offset",
            "worker",
            "created_at",
            "published_at",
            "started_at",
            "finished_at",
            "cancel_requested_at",
            "error",
            "result_url",
            "links",
        ]
        read_only_fields = fields

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, job) -> dict:
        return {"done": job.done, "total": job.claps}

    @extend_schema_field(LinksSerializer)
    def get_links(self, job) -> dict:
        return {"page": job_url("job-page", job.id), "socket": socket_path(job.id)}

    def get_result_url(self, job) -> str | None:
        if job.status != Status.DONE:
            return None
        return job_url("clap-applause", job.id)

    def get_error(self, job) -> str | None:
        return job.error if job.status == Status.FAILED else None


@cache
def _job_serializer() -> ClapJobSerializer:
    return ClapJobSerializer()


def job_data(job: ClapJob) -> dict:
    """ClapJobSerializer(job).data, from one serializer built once: DRF builds a
    serializer's fields on each instance, which was most of a socket snapshot's cost."""
    return _job_serializer().to_representation(job)
