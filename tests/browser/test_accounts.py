"""Accounts in headless Chromium against a live site, axe-core checking every page on
the way: sign up, log out and in, reset a password through the mail, create an API
token and use it over HTTP and in the API docs, revoke it, delete the account."""

import json
import re
import urllib.error
import urllib.request

import pytest
from django.core import mail

from tests.support.browser import off_the_loop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-clap-2026"


def api(base, path, token=None, body=None) -> tuple[int, dict]:
    """An HTTP request as a script would send it (no cookies)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def fill(page, **fields):
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)


def swagger_with_the_token(browser, base, token, job_id):
    """The browsable docs authorize with the token and list the account's jobs, in a
    browser with no session: only the token speaks for the user."""
    from playwright.sync_api import expect

    docs = browser.new_context()
    page = docs.new_page()
    page.goto(f"{base}/api/docs/")
    page.get_by_role("button", name="Authorize").first.click()
    scheme = page.locator(".auth-container").filter(has_text="tokenAuth")
    scheme.locator("input").fill(f"Token {token}")
    scheme.get_by_role("button", name="Apply credentials").click()
    scheme.get_by_role("button", name="Close").click()
    page.locator("#operations-claps-claps_list .opblock-summary-control").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    answer = page.locator(".live-responses-table .response")
    expect(answer.locator(".response-col_status")).to_have_text(re.compile("^200"))
    expect(answer.locator(".response-col_description")).to_contain_text(job_id)
    docs.close()


def test_an_account_from_sign_up_to_deletion(live_server, fake_publisher, accessibility, artifacts):
    from playwright.sync_api import expect

    from webapp.claps.models import ClapJob

    base = live_server.url
    context, audit = accessibility
    page = context.new_page()

    # An anonymous clap, then sign up: the job comes along.
    page.goto(f"{base}/")
    audit.check(page, "home")
    page.get_by_label("Number of claps").fill("4")
    page.get_by_role("button", name="Clap!").click()
    page.wait_for_url(re.compile(r"/claps/[0-9a-f-]{36}/$"))
    job_url = page.url
    audit.check(page, "job page")
    page.get_by_role("link", name="Sign up").click()
    expect(page.get_by_role("heading", level=1, name="Sign up")).to_be_visible()
    audit.check(page, "sign up")
    fill(page, Username="erin", Email="erin@example.com")
    fill(page, Password=PASSWORD, **{"Password confirmation": "not the same"})
    page.get_by_role("button", name="Create my account").click()
    error = page.locator("#id_password2_error")
    expect(error).to_contain_text(re.compile("password fields didn.t match"))
    assert "id_password2_error" in page.get_by_label("Password confirmation").get_attribute(
        "aria-describedby"
    )
    audit.check(page, "sign up with errors")
    fill(page, Password=PASSWORD, **{"Password confirmation": PASSWORD})
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_text("Welcome, erin!")).to_be_visible()
    audit.check(page, "home, signed in")
    job_id = job_url.rstrip("/").rsplit("/", 1)[1]
    expect(page.locator(f'a[href="/claps/{job_id}/"]')).to_be_visible()
    user_id = off_the_loop(lambda: ClapJob.objects.get(id=job_id).owner)
    assert user_id.startswith("user:")

    # Log out, then in again.
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    assert page.goto(job_url).status == 404
    page.goto(f"{base}/accounts/login/")
    audit.check(page, "log in")
    fill(page, Username="erin", Password="wrong password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username")
    audit.check(page, "log in with an error")

    # Forgot the password: the reset link comes by mail.
    page.get_by_role("link", name="Forgot your password?").click()
    audit.check(page, "password reset")
    fill(page, Email="erin@example.com")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", level=1, name="Check your mail")).to_be_visible()
    audit.check(page, "password reset sent")
    (message,) = mail.outbox
    link = re.search(r"https?://\S+/accounts/password-reset/\S+/", message.body).group(0)
    page.goto(link)
    expect(page.get_by_role("heading", level=1, name="Choose a new password")).to_be_visible()
    audit.check(page, "choose a new password")
    new_password = "another-long-clap-77"
    fill(page, **{"New password": new_password, "New password confirmation": new_password})
    page.get_by_role("button", name="Set my password").click()
    expect(page.get_by_role("heading", level=1, name="Password changed")).to_be_visible()
    audit.check(page, "password changed")
    page.get_by_role("link", name="Log in").last.click()
    fill(page, Username="erin", Password=new_password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="erin")).to_be_visible()
    assert page.goto(job_url).status == 200  # the job is the account's, in any session

    # An API token: created on the account page, shown once, used, revoked.
    page.goto(f"{base}/accounts/")
    audit.check(page, "account")
    fill(page, **{"Token name": "nightly script"})
    page.get_by_role("button", name="Create a token").click()
    token = page.get_by_label("Token", exact=True).input_value()
    assert token.startswith("cs_")
    audit.check(page, "account with a new token")
    page.screenshot(path=artifacts / "account.png", full_page=True)
    status, created = api(base, "/api/claps/", token, {"claps": 2, "note": "from a script"})
    assert status == 202, created
    status, listed = api(base, "/api/claps/", token)
    assert status == 200 and {j["id"] for j in listed["results"]} == {job_id, created["id"]}
    assert api(base, f"/api/claps/{created['id']}/")[0] == 404  # no token: not yours
    swagger_with_the_token(context.browser, base, token, job_id)
    page.reload()
    row = page.get_by_role("row", name=re.compile("nightly script"))
    expect(row).to_contain_text(re.compile(r"Last used|UTC"))
    assert token not in page.content()
    row.get_by_role("button", name="Revoke nightly script").click()
    expect(page.get_by_text("Token revoked")).to_be_visible()
    status, refused = api(base, "/api/claps/", token)
    assert status == 401, refused

    # Deleting the account takes its jobs along.
    page.get_by_role("link", name="Delete my account…").click()
    audit.check(page, "delete the account")
    fill(page, **{"Your password": new_password})
    page.get_by_role("button", name="Delete my account and my jobs").click()
    expect(
        page.get_by_text("Your account is deleted, with 2 job(s) and 0 token(s)")
    ).to_be_visible()
    assert off_the_loop(lambda: ClapJob.objects.filter(owner=user_id).count()) == 0

    audit.save(artifacts / "accessibility-accounts.json")
    assert audit.failures() == []
