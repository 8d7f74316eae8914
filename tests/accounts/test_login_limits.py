"""Login attempts are limited per account and per client address (429, Retry-After)."""

from ipaddress import ip_network

import pytest
from django.test import Client

from tests.accounts.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def attempt(username, password="wrong", address="10.0.0.1", **headers):
    return Client(REMOTE_ADDR=address, **headers).post(
        "/accounts/login/", {"username": username, "password": password}
    )


def test_an_account_is_limited_whatever_the_address(carol, settings):
    settings.LOGIN_RATE_PER_ACCOUNT = "3/min"
    for n in range(3):
        assert attempt("carol", address=f"10.0.0.{n}").status_code == 200
    refused = attempt("Carol", password=PASSWORD, address="10.0.0.9")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert "Too many attempts" in refused.content.decode()
    assert 'value="Carol"' in refused.content.decode()  # what was typed, kept
    assert PASSWORD not in refused.content.decode()
    assert "_auth_user_id" not in refused.wsgi_request.session
    # Another account from the same addresses is not affected.
    assert attempt("dave", address="10.0.0.1").status_code == 200


def test_an_address_is_limited_whatever_the_account(carol, settings):
    settings.LOGIN_RATE_PER_ADDRESS = "3/min"
    for name in ("a", "b", "c"):
        assert attempt(name).status_code == 200
    assert attempt("carol", password=PASSWORD).status_code == 429
    assert attempt("carol", password=PASSWORD, address="10.0.0.2").status_code == 302


def test_forwarded_for_is_ignored_unless_a_proxy_is_trusted(carol, settings):
    settings.LOGIN_RATE_PER_ADDRESS = "2/min"
    for n in range(2):
        attempt(f"u{n}", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert attempt("u9", HTTP_X_FORWARDED_FOR="192.0.2.9").status_code == 429

    settings.TRUSTED_PROXIES = [ip_network("10.0.0.0/24")]
    for n in range(2):
        attempt(f"v{n}", address="10.0.0.5", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 198.51.100.1")
    # Behind a trusted proxy, the client is the nearest address not one of ours.
    assert attempt("v9", address="10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.9").status_code == 200
    assert attempt("v9", address="10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429


def test_an_ipv6_client_counts_as_its_64(carol, settings):
    settings.LOGIN_RATE_PER_ADDRESS = "2/min"
    for n in (1, 2):
        assert attempt(f"w{n}", address=f"2001:db8:5:5::{n}").status_code == 200
    assert attempt("carol", password=PASSWORD, address="2001:db8:5:5::3").status_code == 429
    assert attempt("carol", password=PASSWORD, address="2001:db8:5:6::1").status_code == 302


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/accounts/signup/", {"username": "x", "email": "x@example.com"}),
        ("/accounts/password-reset/", {"email": "x@example.com"}),
    ],
)
def test_sign_up_and_reset_are_limited_per_address(url, data, settings):
    settings.LOGIN_RATE_PER_ADDRESS = "2/min"
    client = Client(REMOTE_ADDR="10.0.0.7")
    for _ in range(2):
        assert client.post(url, data).status_code in (200, 302)
    refused = client.post(url, data)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert 'value="x@example.com"' in refused.content.decode()


def test_a_look_alike_name_counts_as_the_account(carol, settings):
    settings.LOGIN_RATE_PER_ACCOUNT = "2/min"
    # Full-width and mathematical letters: the login form reads both as "carol" (NFKC).
    for name in ("\uff43arol", "\U0001d41carol"):
        assert attempt(name).status_code == 200
    assert attempt("carol", password=PASSWORD).status_code == 429


def test_the_admin_login_is_limited_like_the_site_login(carol, settings):
    carol.is_staff = True
    carol.save()
    settings.LOGIN_RATE_PER_ACCOUNT = "3/min"
    assert attempt("carol").status_code == 200  # the site's login and the admin's share it
    for _ in range(2):
        response = Client(REMOTE_ADDR="10.0.0.1").post(
            "/admin/login/", {"username": "carol", "password": "wrong"}
        )
        assert response.status_code == 200
    refused = Client(REMOTE_ADDR="10.0.0.1").post(
        "/admin/login/", {"username": "carol", "password": PASSWORD, "next": "/admin/"}
    )
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "_auth_user_id" not in refused.wsgi_request.session


def test_a_signed_in_user_sent_back_to_the_login_goes_home(carol):
    client = Client()
    client.login(username="carol", password=PASSWORD)
    response = client.get("/accounts/login/?next=/accounts/login/")
    assert response.status_code == 302
    assert response["Location"] == "/"  # LOGIN_REDIRECT_URL, not a redirection loop
