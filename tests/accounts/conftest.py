import pytest
from django.contrib.auth.models import User
from django.test import Client

PASSWORD = "clap-along-2026"


@pytest.fixture(autouse=True)
def no_kafka(fake_publisher):
    """Accounts never wait on Kafka: submissions go to the fake publisher."""
    return fake_publisher


@pytest.fixture
def carol(db):
    return User.objects.create_user("carol", "carol@example.com", PASSWORD)


def logged_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client
