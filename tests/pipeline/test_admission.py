"""Admission of submissions: per owner, per client address (proxy headers only from a
trusted proxy) and for the whole site, counted in the database; Idempotency-Key."""

from datetime import timedelta
from ipaddress import ip_network

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from webapp.claps import admission, services
from webapp.claps.models import AdmissionCount, ClapJob, IdempotencyKey
from webapp.core.client_address import client_address, client_key

pytestmark = pytest.mark.django_db

BODY = {"claps": 2, "note": "bravo"}


@pytest.fixture(autouse=True)
def no_kafka(fake_publisher):
    """About admission; publishing is tested against the real broker."""


def _post(client, body=BODY, address="192.0.2.1", **headers):
    return client.post("/api/claps/", body, format="json", REMOTE_ADDR=address, **headers)


def test_one_address_is_limited_whatever_its_sessions(settings):
    settings.CLAP_ADDRESS_RATE = "3/min"
    codes = [_post(APIClient()).status_code for _ in range(4)]  # a new owner each time
    refused = _post(APIClient())
    assert codes == [202, 202, 202, 429]
    assert 0 < int(refused["Retry-After"]) <= 60
    assert "per client address" in refused.json()["detail"]
    assert _post(APIClient(), address="192.0.2.2").status_code == 202  # another client
    assert ClapJob.objects.count() == 4


def test_the_whole_site_has_one_budget(settings):
    settings.CLAP_ADMISSION_RATE = "2/hour"
    codes = [_post(APIClient(), address=f"192.0.2.{n}").status_code for n in range(1, 4)]
    assert codes == [202, 202, 429]
    refused = _post(APIClient(), address="192.0.2.9")
    assert "for the whole site" in refused.json()["detail"]
    assert 0 < int(refused["Retry-After"]) <= 3600


def test_refused_submissions_spend_no_budget(settings):
    """One client far over its own limit must not spend the site's budget."""
    settings.CLAP_ADDRESS_RATE = "2/min"
    settings.CLAP_ADMISSION_RATE = "5/min"
    codes = [_post(APIClient()).status_code for _ in range(10)]
    assert codes == [202] * 2 + [429] * 8
    others = [_post(APIClient(), address=f"192.0.2.{n}").status_code for n in (2, 3, 4)]
    assert others == [202, 202, 202]
    assert "for the whole site" in _post(APIClient(), address="192.0.2.5").json()["detail"]
    assert ClapJob.objects.count() == 5


def test_with_every_limit_switched_off_submissions_are_admitted(settings):
    settings.CLAP_SUBMIT_RATE = settings.CLAP_ADDRESS_RATE = settings.CLAP_ADMISSION_RATE = ""
    assert [_post(APIClient()).status_code for _ in range(3)] == [202] * 3
    assert AdmissionCount.objects.count() == 0


def test_the_page_form_is_admitted_like_the_api(settings, client):
    settings.CLAP_ADDRESS_RATE = "1/min"
    first = client.post("/", {"claps": 1, "note": ""}, REMOTE_ADDR="192.0.2.5")
    second = client.post("/", {"claps": 1, "note": ""}, REMOTE_ADDR="192.0.2.5")
    assert first.status_code == 302
    assert second.status_code == 429
    assert b"Too many claps at once" in second.content


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("192.0.2.7", "", "192.0.2.7"),
        ("192.0.2.7", "203.0.113.9", "192.0.2.7"),  # not a proxy of ours: header ignored
        ("10.1.2.3", "203.0.113.9", "203.0.113.9"),
        ("10.1.2.3", "198.51.100.1, 203.0.113.9, 10.0.0.5", "203.0.113.9"),  # nearest
        ("10.1.2.3", "10.0.0.4", "10.1.2.3"),  # only our own hops: the peer
        ("10.1.2.3", "junk", "junk"),  # what the trusted proxy says, even if odd
    ],
)
def test_the_client_address(settings, peer, forwarded, client):
    settings.TRUSTED_PROXIES = [ip_network("10.0.0.0/8")]
    request = RequestFactory().post("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == client


@pytest.mark.parametrize(
    ("peer", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),  # an IPv4 client on a dual-stack socket
    ],
)
def test_the_client_key(peer, key):
    assert client_key(RequestFactory().post("/", REMOTE_ADDR=peer)) == key


def test_an_ipv6_client_cannot_rotate_into_a_new_budget(settings):
    settings.CLAP_ADDRESS_RATE = "2/min"
    statuses = [_post(APIClient(), address=f"2001:db8:7:7::{n}").status_code for n in (1, 2, 3)]
    assert statuses == [202, 202, 429]
    assert _post(APIClient(), address="2001:db8:7:8::1").status_code == 202


def test_a_spoofed_header_does_not_buy_a_new_budget(settings):
    settings.CLAP_ADDRESS_RATE = "1/min"
    assert _post(APIClient(), HTTP_X_FORWARDED_FOR="203.0.113.1").status_code == 202
    assert _post(APIClient(), HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 429


def test_ended_windows_are_forgotten():
    AdmissionCount.objects.create(key="old", count=5, expires_at=1)
    AdmissionCount.objects.create(key="new", count=5, expires_at=4_000_000_000)
    assert admission.forget_expired() == 1
    assert list(AdmissionCount.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.parametrize("rate", ["", "ten/min", "5/fortnight", "5"])
def test_rates_are_read_strictly(rate):
    with pytest.raises(ValueError, match="not a rate"):
        admission.parse_rate(rate)


def test_a_retry_with_the_same_key_gets_the_same_job():
    client = APIClient()
    first = _post(client, HTTP_IDEMPOTENCY_KEY="k-1")
    again = _post(client, body={"note": "bravo", "claps": 2}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["id"] == first.json()["id"]
    # The same request spelled another way: a default given, a field the API ignores
    # (even one no UTF-8 can hold).
    plain = _post(client, body={"claps": 1}, HTTP_IDEMPOTENCY_KEY="k-3")
    respelled = client.generic(
        "POST",
        "/api/claps/",
        '{"claps": 1, "note": "", "client": "\\ud800"}',
        content_type="application/json",
        REMOTE_ADDR="192.0.2.1",
        HTTP_IDEMPOTENCY_KEY="k-3",
    )
    assert (plain.status_code, respelled.status_code) == (202, 200)
    assert respelled.json()["id"] == plain.json()["id"]
    assert ClapJob.objects.count() == 2


def test_the_same_key_with_another_body_is_a_conflict():
    client = APIClient()
    first = _post(client, HTTP_IDEMPOTENCY_KEY="k-2")
    other = _post(client, body={"claps": 3}, HTTP_IDEMPOTENCY_KEY="k-2")
    assert other.status_code == 409
    detail = other.json()["detail"]
    assert "different request body" in detail and first.json()["id"] in detail
    assert ClapJob.objects.count() == 1


def test_keys_belong_to_their_owner():
    first = _post(APIClient(), HTTP_IDEMPOTENCY_KEY="shared")
    second = _post(APIClient(), HTTP_IDEMPOTENCY_KEY="shared")
    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json()["id"] != second.json()["id"]


def test_a_key_expires_after_a_day():
    client = APIClient()
    first = _post(client, HTTP_IDEMPOTENCY_KEY="k-3")
    IdempotencyKey.objects.update(
        created_at=IdempotencyKey.objects.get().created_at - timedelta(hours=25)
    )
    later = _post(client, HTTP_IDEMPOTENCY_KEY="k-3")
    assert later.status_code == 202 and later.json()["id"] != first.json()["id"]
    assert (
        IdempotencyKey.objects.get(key="k-3").job_id
        == ClapJob.objects.get(id=later.json()["id"]).id
    )
    assert services.forget_idempotency_keys() == 0  # the expired one was replaced


@pytest.mark.parametrize("key", ["", "x" * 256, "with space", "é"])
def test_a_malformed_key_is_a_400(key):
    response = _post(APIClient(), HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["detail"]
    assert not ClapJob.objects.exists()


def test_the_unique_key_settles_a_race(monkeypatch):
    """A concurrent request stored the key after our look-up, before our insert."""
    owner, fp = "anon:racer", "f" * 64
    winner = ClapJob.objects.create(owner=owner, claps=2)
    IdempotencyKey.objects.create(owner=owner, key="race", fingerprint=fp, job=winner)
    real_lookup, lookups = services._used_key, []

    def lookup_before_the_winner_committed(*args):
        lookups.append(args)
        return None if len(lookups) == 1 else real_lookup(*args)

    monkeypatch.setattr(services, "_used_key", lookup_before_the_winner_committed)
    job, created = services.clap_submit_once(owner=owner, key="race", fingerprint=fp, claps=2)
    assert (job.id, created) == (winner.id, False)
    assert len(lookups) == 2
    assert ClapJob.objects.filter(owner=owner).count() == 1  # ours was rolled back
