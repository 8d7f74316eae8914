"""Strict request bodies: a JSON object of bounded size, or a 400 that says why."""

import hashlib
import json
import re

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.parsers import JSONParser


class JSONObjectParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        request = parser_context["request"]
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > settings.CLAP_API_MAX_BODY:
            raise ParseError(
                f"request body too large: {length} bytes, at most {settings.CLAP_API_MAX_BODY}"
            )
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:  # json's answer to deep nesting; DRF makes it a 500
            raise ParseError("JSON parse error - nested too deeply") from None
        if not isinstance(data, dict):
            raise ParseError(f"request body must be a JSON object, not {type(data).__name__}")
        return data


def json_body(request) -> dict:
    """The request's JSON object; DRF never calls a parser for an empty body."""
    if not int(request.META.get("CONTENT_LENGTH") or 0):
        raise ParseError('request body is missing: send a JSON object such as {"claps": 5}')
    return request.data


def bad_request_for_media_type(exc: UnsupportedMediaType) -> ParseError:
    return ParseError(f"{exc.detail} Send Content-Type: application/json.")


IDEMPOTENCY_HEADER = "Idempotency-Key"
_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII
IDEMPOTENCY_KEY = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    str,
    OpenApiParameter.HEADER,
    description="Any unique string (1-255 visible ASCII characters, e.g. a UUID): a "
    "retry with the same key and body within 24 h returns the first job (200).",
)


def idempotency_key(request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is not None and not _KEY.fullmatch(key):
        raise ParseError(
            f"{IDEMPOTENCY_HEADER} must be 1 to 255 visible ASCII characters, e.g. a UUID"
        )
    return key


def fingerprint(request: dict) -> str:
    """The SHA-256 of the request as validated (defaults filled in, unknown fields out):
    the same request spelled another way is the same request."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
