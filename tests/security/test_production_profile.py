import secrets
import subprocess
import sys

PROD = {
    "PATH": "/usr/bin:/bin",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "claps.example.org",
}


def _check_deploy(**env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env={**PROD, "SECRET_KEY": secrets.token_urlsafe(50), **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_check_deploy_is_clean_in_the_production_profile():
    result = _check_deploy(METRICS_TOKEN=secrets.token_hex(16))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_of_an_open_metrics_endpoint():
    result = _check_deploy()
    assert result.returncode != 0
    assert "clapstream.W001" in result.stderr and "METRICS_TOKEN is empty" in result.stderr


def test_browser_security_headers(client):
    response = client.get("/healthz")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_api_docs_need_no_inline_script(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assert b"<script>" not in page.content.replace(b" ", b"")
