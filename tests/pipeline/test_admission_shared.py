"""Two web processes count submissions in one place: the database."""

import json
import urllib.error
import urllib.request

import pytest

from tests.support.pipeline import start_web

pytestmark = [pytest.mark.kafka]


def _post(base: str) -> int:
    request = urllib.request.Request(
        f"{base}/api/claps/",
        data=json.dumps({"claps": 1}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_two_web_processes_share_the_address_limit(stack):
    stack.env = {**stack.env, "CLAP_ADDRESS_RATE": "3/hour"}
    first, second = start_web(stack, "web-1"), start_web(stack, "web-2")
    codes = [_post(base) for base in (first, second, first, second)]
    assert codes == [202, 202, 202, 429]
    assert _post(first) == 429
