"""The site's server (webapp/server.py): daphne, with every request body left to the site."""

import json
import urllib.error
import urllib.request

import pytest

from tests.support.pipeline import start_web

pytestmark = [pytest.mark.kafka]


def _post(url: str, body: bytes, content_type: str) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": content_type}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_a_body_twisted_would_refuse_reaches_the_site_and_gets_its_answer(stack):
    base = start_web(stack)
    # Not the parts its boundary promises: Twisted's own form parsing answers this with
    # a bare 400 and hangs up, before the site sees the request.
    status, body = _post(f"{base}/api/claps/", b"claps=5", "multipart/form-data; boundary=x")
    assert status == 400
    detail = json.loads(body)["detail"]
    assert "multipart/form-data" in detail and "application/json" in detail


def test_form_and_json_bodies_reach_the_site(stack):
    base = start_web(stack)
    status, body = _post(
        f"{base}/api/claps/", b"claps=5&note=x", "application/x-www-form-urlencoded"
    )
    assert status == 400
    assert "application/x-www-form-urlencoded" in json.loads(body)["detail"]
    status, body = _post(
        f"{base}/api/claps/", json.dumps({"claps": 5}).encode(), "application/json"
    )
    assert (status, json.loads(body)["claps"]) == (202, 5)
