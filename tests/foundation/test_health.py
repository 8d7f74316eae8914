import dataclasses

import pytest
from django.core.management import call_command

from tools.ports import free_port
from webapp.core import health


@pytest.fixture
def fresh_admin():
    health._admin.cache_clear()
    yield
    health._admin.cache_clear()


@pytest.mark.kafka
@pytest.mark.django_db
def test_ready_with_database_and_broker(client, kafka, fresh_admin):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_not_ready_names_kafka_when_it_is_down(client, settings, fresh_admin):
    settings.KAFKA = dataclasses.replace(
        settings.KAFKA, bootstrap_servers=f"127.0.0.1:{free_port()}"
    )
    settings.READINESS_TIMEOUT = 0.5
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert list(body["failing"]) == ["kafka"]


def test_alive_without_any_backend(client):
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.django_db
def test_the_database_alone_can_be_checked(client, settings, fresh_admin):
    settings.KAFKA = dataclasses.replace(
        settings.KAFKA, bootstrap_servers=f"127.0.0.1:{free_port()}"
    )
    response = client.get("/readyz?check=database")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert client.get("/readyz?check=disk").status_code == 400


@pytest.mark.django_db(transaction=True)
def test_not_ready_until_every_migration_is_applied(client, caplog):
    call_command("migrate", "dashboard", "0001", verbosity=0)
    try:
        response = client.get("/readyz?check=database")
        # The path is public: the answer names the check, the log says why.
        assert (response.status_code, response.json()["failing"]) == (503, ["database"])
        assert "not ready: database: unapplied migrations: dashboard.0002" in caplog.text
    finally:
        call_command("migrate", "dashboard", verbosity=0)
    assert client.get("/readyz?check=database").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_in_development_the_answer_says_why(client, settings):
    settings.DEBUG = True
    call_command("migrate", "dashboard", "0001", verbosity=0)
    try:
        response = client.get("/readyz?check=database")
    finally:
        call_command("migrate", "dashboard", verbosity=0)
    assert response.json()["failing"] == {
        "database": "unapplied migrations: dashboard.0002_resubmitted_as"
    }


@pytest.mark.django_db
def test_a_flood_of_calls_costs_one_check_while_the_answer_is_reused(client, settings, monkeypatch):
    checked = []
    monkeypatch.setitem(health.CHECKS, "database", lambda: checked.append("database"))
    assert client.get("/readyz?check=database").status_code == 200  # checked, kept
    settings.READINESS_REUSE = 60
    answers = [client.get("/readyz?check=database").status_code for _ in range(20)]
    assert answers == [200] * 20
    assert checked == ["database"]
    settings.READINESS_REUSE = 0
    client.get("/readyz?check=database")
    assert checked == ["database", "database"]
