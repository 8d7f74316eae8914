"""What schemathesis does not send: raw bytes in any content type, odd header values
and odd cookies. The API answers them all without a server error."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from tests.fakes import FakePublisher
from tests.fuzz.strategies import encoded, job_dicts, json_values

pytestmark = pytest.mark.django_db

# Header bytes as WSGI hands them over: each byte one latin-1 character.
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=60)
content_types = (
    st.sampled_from(
        ["application/json", "application/json; charset=latin-1", "text/plain", "", "*/*"]
    )
    | header_text
)
bodies = st.binary(max_size=600) | encoded(json_values) | encoded(job_dicts)
requests = st.fixed_dictionaries(
    {"body": bodies, "content_type": content_types},
    optional={
        "HTTP_AUTHORIZATION": header_text.map("Token {}".format) | header_text,
        "HTTP_ACCEPT": header_text,
        "HTTP_COOKIE": header_text,
        "HTTP_X_CSRFTOKEN": header_text,
        "HTTP_ORIGIN": header_text,
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(request=requests, path=st.sampled_from(["/api/claps/", "/api/claps/x/cancel/"]))
def test_raw_submissions_never_get_a_server_error(monkeypatch, request, path):
    monkeypatch.setattr("webapp.claps.services.publisher", FakePublisher)
    client = APIClient(raise_request_exception=False)
    request = dict(request)
    body, content_type = request.pop("body"), request.pop("content_type")
    response = client.generic("POST", path, body, content_type=content_type, **request)
    assert response.status_code < 500, response.content[:300]
