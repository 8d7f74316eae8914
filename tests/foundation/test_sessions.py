"""The session backend (webapp.core.sessions): Django's table and rules, a plain read."""

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from webapp.core.sessions import SessionStore

pytestmark = pytest.mark.django_db


def saved(**data) -> str:
    session = SessionStore()
    session.update(data)
    session.create()
    return session.session_key


def test_it_reads_what_it_and_django_wrote():
    ours = saved(clap_owner="a1", n=3)
    theirs = DjangoStore()
    theirs["clap_owner"] = "b2"
    theirs.create()
    assert SessionStore(ours).load() == {"clap_owner": "a1", "n": 3}
    assert SessionStore(theirs.session_key).load() == {"clap_owner": "b2"}
    assert DjangoStore(ours).load() == SessionStore(ours).load()


def test_an_expired_session_is_empty_and_gets_a_new_key_when_saved():
    key = saved(clap_owner="a1")
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(1))
    session = SessionStore(key)
    assert session.load() == {}
    session["clap_owner"] = "new"
    session.save()
    assert session.session_key != key  # never revives the expired key


def test_a_deleted_session_is_gone_for_every_reader():
    key = saved(clap_owner="a1")
    SessionStore(key).delete()  # logout
    assert SessionStore(key).load() == {}
    assert not Session.objects.filter(session_key=key).exists()


@pytest.mark.parametrize("key", [None, "short", "x" * 40])
def test_unknown_keys_are_empty(key):
    assert SessionStore(key).load() == {}


def test_the_site_uses_it(client):
    client.get("/api/claps/")  # makes the anonymous owner in the session
    assert client.session.__class__ is SessionStore
    assert "clap_owner" in SessionStore(client.cookies["sessionid"].value).load()
