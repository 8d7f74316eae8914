"""The built image, run as the manifests run it: the web site, `check --deploy`, a job
through web, worker and recorder containers, and a prompt stop on SIGTERM."""

import http.cookiejar
import json
import re
import secrets
import urllib.error
import urllib.request

import pytest

from tests.deploy.locks import normalized, requirement_pins
from tools.deploy.manifests import BASE, build, one
from tools.ports import free_port
from tools.sandbox import private_kafka, process_env
from tools.waiting import wait_until

pytestmark = pytest.mark.kafka

SECRET = secrets.token_urlsafe(50)


def _grace(name: str) -> int:
    deployment = one(build(BASE), "Deployment", f"clapstream-{name}")
    return deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]


def _site_env(port: int, **extra) -> dict[str, str]:
    return {
        "SECRET_KEY": SECRET,
        "ALLOWED_HOSTS": "127.0.0.1",
        "BEHIND_TLS": "false",  # plain HTTP here; TLS ends at the ingress in a cluster
        "DATABASE_URL": "sqlite:////data/clapstream.sqlite3",
        **extra,
    }


def _kafka_env(config) -> dict[str, str]:
    """The test's topics and groups (its database is the containers' own)."""
    env = process_env(config)
    env.pop("DATABASE_URL", None)
    return env


def _web(engine, env, port, data):
    server = ["python", "-m", "webapp.server", "-b", "127.0.0.1", "-p", str(port)]
    command = [*server, "webapp.asgi:application"]
    return engine.run("web", env, *command, data=data)


class Client:
    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str, body: dict | None = None) -> tuple[int, bytes, dict]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base + path, data=data, headers={"Content-Type": "application/json"}
        )
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), dict(exc.headers)
        except OSError:
            return 0, b"", {}

    def up(self) -> bool:
        return self.get("/healthz")[0] == 200


def test_the_runtime_carries_the_lock_and_no_build_leftovers(engine):
    state, out = engine.once(
        {},
        "python",
        "-c",
        "import importlib.metadata as m; "
        "print('\\n'.join(f'{d.name} {d.version}' for d in m.distributions()))",
    )
    assert state["exit_code"] == 0, out
    installed = dict(line.split() for line in out.strip().splitlines())
    assert {normalized(name): v for name, v in installed.items()} == requirement_pins(
        "runtime.lock"
    )
    state, out = engine.once(
        {}, "sh", "-c", "find /app /opt/venv -name '*.egg-info' -o -name build -o -name pip"
    )
    assert (state["exit_code"], out.strip()) == (0, "")


def test_web_read_only_as_its_user_waits_for_migrations_and_serves_static(engine, kafka, data_dir):
    port = free_port()
    env = _site_env(port, KAFKA_BOOTSTRAP_SERVERS=kafka.bootstrap_servers)
    web = _web(engine, env, port, data_dir)
    client = Client(port)
    wait_until(client.up, 60, "the web container to answer /healthz")
    assert engine("exec", web, "id", "-u").stdout.strip() == "10001"
    assert engine("exec", web, "touch", "/app/x", check=False).returncode != 0  # read-only

    status, body, _ = client.get("/readyz?check=database")
    assert status == 503
    assert json.loads(body)["failing"] == ["database"]  # why: in the log, not the answer
    logs = engine("logs", web)
    assert "not ready: database: unapplied migrations: " in logs.stdout + logs.stderr
    state, out = engine.once(env, "python", "manage.py", "migrate", "--noinput", data=data_dir)
    assert state["exit_code"] == 0, out
    # Ready within READINESS_REUSE_MS (1 s): the answer before the migrations is reused.
    wait_until(lambda: client.get("/readyz?check=database")[0] == 200, 10, "ready once migrated")
    assert client.get("/readyz")[0] == 200  # the database and Kafka

    status, page, _ = client.get("/")
    assert status == 200
    stylesheet = re.search(rb'href="(/static/[^"]+\.css)"', page)[1].decode()
    status, css, headers = client.get(stylesheet)
    assert status == 200 and css
    assert headers["Content-Type"].startswith("text/css")
    assert "max-age=315360000" in headers.get("Cache-Control", "")  # hashed: cached for good


def test_check_deploy_is_clean_in_the_production_profile(engine):
    env = {"SECRET_KEY": SECRET, "ALLOWED_HOSTS": "claps.example.org", "METRICS_TOKEN": SECRET}
    state, out = engine.once(
        env, "python", "manage.py", "check", "--deploy", "--fail-level", "WARNING"
    )
    assert state["exit_code"] == 0, out
    assert "no issues" in out


def test_a_job_goes_through_web_worker_and_recorder_containers(engine, kafka, data_dir):
    config = private_kafka(kafka, partitions=2, prefix="img")
    port = free_port()
    env = {**_site_env(port), **_kafka_env(config)}
    state, out = engine.once(env, "python", "manage.py", "migrate", "--noinput", data=data_dir)
    assert state["exit_code"] == 0, out
    web = _web(engine, env, port, data_dir)
    worker_env = {**_kafka_env(config), "WORKER_ID": "img-worker", "CLAP_WORK_MS": "20"}
    worker = engine.run("worker", worker_env, "python", "-m", "worker")
    recorder = engine.run("recorder", env, "python", "manage.py", "record_events", data=data_dir)
    client = Client(port)
    wait_until(client.up, 60, "the web container to answer")

    status, body, _ = client.get("/api/claps/", {"claps": 3, "note": "image"})
    assert status == 202, body
    job = json.loads(body)

    def done():
        status, body, _ = client.get(f"/api/claps/{job['id']}/")
        return status == 200 and json.loads(body)["status"] == "done"

    wait_until(done, 90, "the job to be done")
    for name, container in (("web", web), ("worker", worker), ("recorder", recorder)):
        grace = _grace(name)
        took, state = engine.stop(container, grace)
        assert state["exit_code"] != 137, f"{name} was killed: {engine.logs(container)[-2000:]}"
        assert took < grace, f"{name} took {took:.0f} s of its {grace} s"
