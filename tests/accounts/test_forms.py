"""The account pages: CSRF, errors tied to their fields, duplicate emails, reset mail."""

import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client

from tests.accounts.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    ["/accounts/login/", "/accounts/signup/", "/accounts/password-reset/"],
)
def test_forms_need_the_csrf_token(url):
    client = Client(enforce_csrf_checks=True)
    page = client.get(url)
    assert page.status_code == 200
    assert client.post(url, {"username": "x", "email": "x@example.com"}).status_code == 403


def test_sign_up_errors_are_tied_to_their_fields(carol):
    response = Client().post(
        "/accounts/signup/",
        {"username": "carol", "email": "CAROL@example.com", "password1": "a", "password2": "b"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    for field in ("username", "email", "password2"):
        tag = re.search(rf'<input[^>]*id="id_{field}"[^>]*>', html).group(0)
        assert 'aria-invalid="true"' in tag, field
        described = re.search(r'aria-describedby="([^"]+)"', tag).group(1).split()
        assert f"id_{field}_error" in described, field
        assert f'id="id_{field}_error"' in html, field
    assert "An account with this email exists" in html
    assert User.objects.count() == 1


def test_a_wrong_password_is_refused_with_a_message(carol):
    response = Client().post("/accounts/login/", {"username": "carol", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_password_reset_by_mail(carol):
    client = Client()
    response = client.post("/accounts/password-reset/", {"email": "carol@example.com"})
    assert response["Location"] == "/accounts/password-reset/sent/"
    (message,) = mail.outbox
    assert message.to == ["carol@example.com"]
    link = re.search(r"http://testserver(/accounts/password-reset/\S+/)", message.body).group(1)
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    new = "a-fresh-password-77"
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}, follow=True
    )
    assert "Password changed" in done.content.decode()
    assert Client().login(username="carol", password=new)
    assert not Client().login(username="carol", password=PASSWORD)
    # The link works once.
    assert "does not work any more" in Client().get(link, follow=True).content.decode()


def test_a_reset_for_an_unknown_email_sends_nothing_and_says_the_same():
    response = Client().post("/accounts/password-reset/", {"email": "nobody@example.com"})
    assert response["Location"] == "/accounts/password-reset/sent/"
    assert mail.outbox == []


def test_the_header_offers_login_or_the_account(carol):
    anonymous = Client().get("/").content.decode()
    assert 'href="/accounts/login/"' in anonymous and 'href="/accounts/signup/"' in anonymous
    client = Client()
    client.login(username="carol", password=PASSWORD)
    html = client.get("/").content.decode()
    assert 'href="/accounts/"' in html and 'action="/accounts/logout/"' in html
    assert client.post("/accounts/logout/")["Location"] == "/"
    assert client.get("/accounts/")["Location"].startswith("/accounts/login/")


def test_no_inline_script_style_or_handler_on_the_account_pages(carol):
    """The site's CSP allows neither; every page has one level-one heading."""
    client = Client()
    pages = ["/accounts/login/", "/accounts/signup/", "/accounts/password-reset/"]
    pages += ["/accounts/password-reset/sent/", "/accounts/password-reset/done/"]
    htmls = [client.get(url).content.decode() for url in pages]
    client.login(username="carol", password=PASSWORD)
    client.post("/accounts/", {"name": "ci"})
    htmls += [client.get(url).content.decode() for url in ("/accounts/", "/accounts/delete/")]
    for html in htmls:
        assert "<script" not in html and "style=" not in html
        assert not re.search(r"\son[a-z]+=", html)
        assert html.count("<h1") == 1
