from django.http import Http404, HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, UnsupportedMediaType
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from webapp.claps import selectors, services
from webapp.claps.api.csrf import enforce_csrf_for_cookie_owners
from webapp.claps.api.requests import (
    IDEMPOTENCY_KEY,
    JSONObjectParser,
    bad_request_for_media_type,
    fingerprint,
    idempotency_key,
    json_body,
)
from webapp.claps.api.serializers import ClapJobSerializer, ClapRequestSerializer, job_data
from webapp.claps.api.throttling import SubmitThrottle
from webapp.claps.models import ClapJob, Status
from webapp.claps.owners import owner_of
from webapp.claps.publisher import PublishError

NOT_YOURS = OpenApiResponse(description="No such job among the caller's jobs.")


@extend_schema_view(
    list=extend_schema(
        responses={
            200: ClapJobSerializer(many=True),
            404: OpenApiResponse(description="No such page."),
        }
    ),
    retrieve=extend_schema(responses={200: ClapJobSerializer, 404: NOT_YOURS}),
)
class ClapJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Clap jobs of the caller (a signed-in user or the browser session)."""

    serializer_class = ClapJobSerializer
    parser_classes = [JSONObjectParser]
    permission_classes = [AllowAny]  # anonymous visitors own jobs through their session

    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no caller
            return ClapJob.objects.none()
        return selectors.jobs_of(owner_of(self.request))

    def get_object(self):
        # One answer for another owner's job, an unknown id and a malformed one (DRF's
        # own messages differ between the last two).
        try:
            return super().get_object()
        except Http404:
            raise NotFound from None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        enforce_csrf_for_cookie_owners(request)

    def get_throttles(self):
        return [SubmitThrottle()] if self.action == "create" else []

    def handle_exception(self, exc):
        if isinstance(exc, UnsupportedMediaType):
            exc = bad_request_for_media_type(exc)
        return super().handle_exception(exc)

    @extend_schema(
        request=ClapRequestSerializer,
        responses={
            202: ClapJobSerializer,
            200: OpenApiResponse(
                ClapJobSerializer, description="The job this Idempotency-Key already made."
            ),
            400: OpenApiResponse(description="Bad input: the body says which field and why."),
            403: OpenApiResponse(description="A session-cookie request without a CSRF token."),
            409: OpenApiResponse(description="The Idempotency-Key was used for another body."),
            429: OpenApiResponse(description="Too many submissions; see Retry-After."),
        },
        parameters=[IDEMPOTENCY_KEY],
    )
    def create(self, request):
        """Submit a clap job. Accepted (202) even while Kafka is down: it is published later.

        With an Idempotency-Key, a retry of the same request by the same owner within
        24 hours answers 200 with the job the first one made, and creates nothing."""
        body = json_body(request)
        form = ClapRequestSerializer(data=body)
        form.is_valid(raise_exception=True)
        owner = owner_of(request)
        key = idempotency_key(request)
        if key is None:
            job = services.clap_submit(owner=owner, **form.validated_data)
            return Response(job_data(job), status=status.HTTP_202_ACCEPTED)
        try:
            job, created = services.clap_submit_once(
                owner=owner,
                key=key,
                fingerprint=fingerprint(form.validated_data),
                **form.validated_data,
            )
        except services.IdempotencyConflict as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        answer = status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK
        return Response(job_data(job), status=answer)

    @extend_schema(
        request=None,
        responses={
            202: ClapJobSerializer,
            403: OpenApiResponse(description="A session-cookie request without a CSRF token."),
            404: NOT_YOURS,
            409: OpenApiResponse(description="The job already finished."),
            503: OpenApiResponse(description="Kafka did not confirm the request; try again."),
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a queued or running job; a running job stops at its next clap."""
        try:
            job = services.clap_cancel(job=self.get_object())
        except services.JobStateConflict as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        except PublishError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response(job_data(job), status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        responses={(200, "audio/wav"): OpenApiResponse(description="WAV audio"), 404: NOT_YOURS}
    )
    @action(detail=True, methods=["get"], url_path="applause.wav", url_name="applause")
    def applause(self, request, pk=None):
        """The applause of a done job, as WAV audio."""
        job = self.get_object()
        wav = getattr(job, "applause", None) if job.status == Status.DONE else None
        if wav is None:
            raise Http404("no applause yet")
        response = HttpResponse(wav.audio(), content_type="audio/wav")
        response["Cache-Control"] = "private, max-age=86400"
        return response
