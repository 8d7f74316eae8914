"""Every URL of the admin and of the dashboards in it, found by walking the URL
configuration (so a page added later is covered too), is for staff only: anyone
else, signed in or not, is sent to the admin login."""

import pytest
from django.contrib.auth.models import User
from django.urls import get_resolver, reverse

pytestmark = pytest.mark.django_db

PUBLIC = {"admin:login", "admin:logout"}
SAMPLE_ARGS = {"app_label": "claps"}  # anything else: "1"


def staff_urls() -> list[str]:
    urls = set()
    for namespace, (prefix, resolver) in get_resolver().namespace_dict.items():
        if not prefix.startswith("admin/"):
            continue
        for name in filter(lambda n: isinstance(n, str), resolver.reverse_dict):
            if f"{namespace}:{name}" in PUBLIC:
                continue
            for possibility, *_ in resolver.reverse_dict.getlist(name):
                for template, params in possibility:
                    urls.add(f"/{prefix}{template % {p: SAMPLE_ARGS.get(p, '1') for p in params}}")
    return sorted(urls)


STAFF_URLS = staff_urls()


def test_the_walk_finds_the_admin_and_the_dashboards():
    assert {"/admin/", "/admin/streams/", "/admin/streams/data.json"} <= set(STAFF_URLS)


@pytest.fixture
def member(client):
    client.force_login(User.objects.create(username="member"))  # no password: no hashing
    return client


@pytest.fixture
def staff(client):
    client.force_login(User.objects.create(username="boss", is_staff=True, is_superuser=True))
    return client


def _sent_to_login(response) -> bool:
    if response.status_code == 302:
        return response.url.startswith(reverse("admin:login"))
    return response.status_code == 403


@pytest.mark.parametrize("url", STAFF_URLS)
@pytest.mark.parametrize("who", ["anonymous", "member"])
def test_only_staff_get_in(request, client, who, url):
    visitor = request.getfixturevalue("member") if who == "member" else client
    assert _sent_to_login(visitor.get(url)), url
    assert _sent_to_login(visitor.post(url, {})), url


@pytest.mark.kafka  # the dashboards read the broker
@pytest.mark.parametrize("url", STAFF_URLS)
def test_staff_get_no_server_error(kafka, staff, url):
    assert staff.get(url).status_code < 500
