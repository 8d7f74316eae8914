"""The soak's load: jobs submitted over HTTP at a steady pace by many owners, and a
few malformed messages put straight on the jobs topic.

Each owner is a user with an API token (no session cookie, so no CSRF dance). What
the site did not accept (refused connections while the web restarts, timeouts, 5xx)
is retried until accepted; every answer is counted by kind.
"""

import http.client
import itertools
import json
import random
import threading
import time
import uuid
from collections import Counter

from confluent_kafka import Producer
from django.contrib.auth.models import User

from streams.config import KafkaConfig
from webapp.accounts.models import ApiToken
from webapp.accounts.tokens import new_token

CLAP_COUNTS = (1, 1, 2, 3, 5, 8, 13)


def create_owners(count: int, using: str) -> list[str]:
    """`count` users with API tokens; returns the tokens."""
    users = User.objects.using(using).bulk_create(
        [User(username=f"soak-{n}", password="!") for n in range(count)]  # noqa: S106 - unusable
    )
    tokens = [new_token() for _ in users]
    ApiToken.objects.using(using).bulk_create(
        ApiToken(user=user, name="soak", **fields)
        for user, (_, fields) in zip(users, tokens, strict=True)
    )
    return [token for token, _ in tokens]


class Submitter:
    TIMEOUT = 10.0
    RETRY_SECONDS = 0.2
    GIVE_UP_AFTER = 300  # attempts of one job: a minute of retries

    def __init__(self, port: int, tokens: list[str], *, jobs: int, seconds: float, seed: int):
        self.port = port
        self.tokens = tokens
        self.jobs = jobs
        self.interval = seconds / jobs
        rng = random.Random(seed)  # noqa: S311 - reproducible, not secret
        self.claps = [rng.choice(CLAP_COUNTS) for _ in range(jobs)]
        self.accepted: dict[str, int] = {}  # job id -> claps
        self.answers: Counter[str] = Counter()
        self._next = itertools.count()
        self._lock = threading.Lock()

    def run(self, threads: int) -> None:
        self._began = time.monotonic()
        pool = [threading.Thread(target=self._submit_all, daemon=True) for _ in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()

    def _submit_all(self) -> None:
        conn = None
        while (i := next(self._next)) < self.jobs:
            time.sleep(max(0.0, self._began + i * self.interval - time.monotonic()))  # pacing
            body = json.dumps({"claps": self.claps[i], "note": f"soak {i}"})
            headers = {
                "Content-Type": "application/json",
                "Authorization": f"Token {self.tokens[i % len(self.tokens)]}",
            }
            for _ in range(self.GIVE_UP_AFTER):
                conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, self.TIMEOUT)
                kind, job = self._post(conn, body, headers)
                self._count(kind, job, self.claps[i])
                if kind == "202" or not _retryable(kind):
                    break
                if kind in ("refused", "broken", "timeout"):
                    conn.close()
                    conn = None
                time.sleep(self.RETRY_SECONDS)
            else:
                self._count("gave up", None, 0)
        if conn:
            conn.close()

    @staticmethod
    def _post(conn, body: str, headers: dict) -> tuple[str, str | None]:
        try:
            conn.request("POST", "/api/claps/", body, headers)
            response = conn.getresponse()
            payload = response.read()
        except ConnectionRefusedError:
            return "refused", None
        except TimeoutError:
            return "timeout", None
        except (OSError, http.client.HTTPException):
            return "broken", None
        if response.status == 202:
            return "202", json.loads(payload)["id"]
        return str(response.status), None

    def _count(self, kind: str, job: str | None, claps: int) -> None:
        with self._lock:
            self.answers[kind] += 1
            if job is not None:
                self.accepted[job] = claps


def _retryable(kind: str) -> bool:
    return kind in ("refused", "broken", "timeout", "429") or kind.startswith("5")


POISON = (
    b"\xff\xfe not utf-8",
    b"not json",
    b"[1, 2, 3]",
    b'{"v": 1}',
    b'{"v": 2, "id": "00000000-0000-4000-8000-000000000000", "claps": 1}',
    b'{"v": 1, "id": "not-a-uuid", "claps": 3}',
    b'{"v": 1, "id": "00000000-0000-4000-8000-000000000000", "claps": 1000}',
    None,
)


def inject_poison(kafka: KafkaConfig, count: int) -> None:
    """Put `count` malformed messages on the jobs topic: each must end in the DLQ."""
    producer = Producer(kafka.producer())
    for n in range(count):
        key = str(uuid.uuid4()).encode() if n % 2 else b"poison"
        producer.produce(kafka.topics.jobs, key=key, value=POISON[n % len(POISON)])
    if producer.flush(30):
        raise RuntimeError("the poison messages were not delivered")
