"""axe-core on the staff pages (the Streams dashboard, dead letters) and the site's
404; the third-party API docs page is checked and reported, and does not fail the run.
The visitor's and the account pages are checked in test_accounts.py and
test_login_mid_job.py, on the way through their flows."""

import uuid

import pytest

pytestmark = [pytest.mark.kafka, pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "staff-clap-2026"


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_superuser("operator", "op@example.com", PASSWORD)


def test_staff_pages_have_no_violations(
    staff, live_server, isolated_kafka, accessibility, artifacts
):
    from playwright.sync_api import expect

    base = live_server.url
    context, audit = accessibility
    page = context.new_page()
    page.goto(f"{base}/accounts/login/?next=/admin/streams/")
    page.get_by_label("Username").fill("operator")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/admin/streams/")
    expect(page.get_by_role("heading", name="Streams", level=1)).to_be_visible()
    audit.check(page, "Streams dashboard")
    page.get_by_role("link", name="Dead letters").click()
    expect(page.get_by_role("heading", name="Dead letters", level=1)).to_be_visible()
    audit.check(page, "dead letters")
    assert page.goto(f"{base}/claps/{uuid.uuid4()}/").status == 404
    audit.check(page, "not found")

    page.goto(f"{base}/api/docs/")
    page.wait_for_selector(".swagger-ui .information-container")
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()  # token auth
    reported = audit.check(page, "API docs (third-party, reported only)", fail=False)
    print("API docs:", [v["id"] for v in reported])

    audit.save(artifacts / "accessibility-staff.json")
    assert audit.failures() == []
