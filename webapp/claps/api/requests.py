"""Strict request bodies: a JSON object of bounded size, or a 400 that says why."""

from django.conf import settings
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
        data = super().parse(stream, media_type, parser_context)
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
