"""The Streams pages are for staff only; /metrics asks for its token when one is set."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

pytestmark = pytest.mark.django_db

DASHBOARD_URLS = ["streams", "live", "data", "dead_letters"]


@pytest.fixture
def member(client):
    client.force_login(User.objects.create_user("member", password="not-staff-123"))
    return client


def _sent_to_login(response) -> bool:
    return response.status_code == 403 or (
        response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    )


@pytest.mark.parametrize("name", DASHBOARD_URLS)
@pytest.mark.parametrize("who", ["anonymous", "member"])
def test_only_staff_see_the_dashboard(request, client, name, who):
    visitor = request.getfixturevalue("member") if who == "member" else client
    url = reverse(f"dashboard:{name}")
    assert _sent_to_login(visitor.get(url))
    assert _sent_to_login(visitor.post(url, {"partition": 0, "offset": 0, "action": "discard"}))


def test_the_admin_index_links_the_dashboard(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert f'href="{reverse("dashboard:streams")}"' in page
    assert f'href="{reverse("dashboard:dead_letters")}"' in page


def test_metrics_ask_for_the_bearer_token_when_one_is_set(client, settings):
    settings.METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Basic s3cret-token").status_code == 401
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert response.status_code == 200
    assert b"clapstream_clap_jobs" in response.content


def test_metrics_are_open_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 200
