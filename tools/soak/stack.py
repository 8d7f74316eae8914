"""The soak's system: a private broker, a PostgreSQL cluster, and the site's processes
(web on daphne, recorder, workers), all real, with the faults the soak inflicts.

The recorder reaches the database through a CuttableProxy, so its database can be
taken away while the web site keeps using it. Faults only stop processes; a
supervisor thread plays the kubelet: it starts whatever exited again (with a growing
delay when it keeps crashing), and kills a worker whose probes fail, as the worker's
manifest has them: a startup probe until its first success, then the liveness probe.
"""

import http.client
import os
import secrets
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from streams.config import KafkaConfig
from tools.broker.process import LocalBroker
from tools.ports import free_port
from tools.postgres import TempPostgres
from tools.processes import ProcessGroup
from tools.sandbox import process_env
from tools.soak.proxy import CuttableProxy
from tools.web import ASGI_APP, DAPHNE_OPTIONS, SERVER

PY = sys.executable


class SoakStack:
    PROBE_SECONDS = 5.0
    LIVENESS_SECONDS = 20  # the manifest's 60 s, compressed like the rest of the soak
    STARTUP_SECONDS = 60  # the manifest's startup probe allows 180 s, compressed alike

    def __init__(self, root: Path, *, workers: int, work_ms: list[int], log):
        self.root = root
        self.broker = LocalBroker(root / "broker", port=free_port(), controller_port=free_port())
        self.kafka = KafkaConfig(bootstrap_servers=self.broker.bootstrap)
        self.postgres = TempPostgres(root / "postgres")
        self.proxy = CuttableProxy(self.postgres.port)
        self.group = ProcessGroup(log)
        self.web_port = free_port()
        self.workers = [f"worker-{n}" for n in range(1, workers + 1)]
        self.work_ms = work_ms
        self.crashes: Counter[str] = Counter()  # exits nobody asked for
        self.liveness_kills: Counter[str] = Counter()
        self.hung_on_sigterm: Counter[str] = Counter()
        self._planned: set[str] = set()
        self._next_probe = 0.0
        self._starting: dict[int, float] = {}  # worker pid: its first failed startup probe
        self._started: set[int] = set()  # worker pids whose startup probe passed
        self._secret = secrets.token_urlsafe(40)
        self._lock = threading.Lock()  # planned restarts vs the supervisor
        self._stopping = threading.Event()

    @property
    def env(self) -> dict[str, str]:
        return {
            **process_env(self.kafka),
            "DJANGO_SETTINGS_MODULE": "webapp.settings",
            "DATABASE_URL": self.postgres.url(),
            "KAFKA_SECURITY_PROTOCOL": "PLAINTEXT",
            "DEBUG": "false",
            "SECRET_KEY": self._secret,
            "ALLOWED_HOSTS": "127.0.0.1",
            "BEHIND_TLS": "false",
            "CLAP_SUBMIT_RATE": "100000/min",
            "CLAP_ADDRESS_RATE": "",  # every simulated client is on the loopback address
        }

    def start(self) -> None:
        self.postgres.start()
        self.proxy.start()
        self.broker.start()
        for argv in (["migrate", "--noinput"], ["ensure_topics"]):
            child = self.group.start(argv[0], [PY, "manage.py", *argv], self.env)
            if child.proc.wait() != 0:
                raise RuntimeError(f"manage.py {' '.join(argv)} failed; see the soak log")
            self.group.stop(argv[0])
        daphne = [*SERVER, "-b", "127.0.0.1", "-p", str(self.web_port), *DAPHNE_OPTIONS]
        self.group.start("web", [*daphne, ASGI_APP], self.env)
        self.group.start(
            "recorder",
            [PY, "manage.py", "record_events"],
            {**self.env, "DATABASE_URL": self.postgres.url(self.proxy.port)},
        )
        for n, name in enumerate(self.workers):
            self.group.start(
                name,
                [PY, "-m", "worker"],
                {
                    **self.env,
                    "WORKER_ID": name,  # dynamic group membership, as in the manifests
                    "CLAP_WORK_MS": str(self.work_ms[n % len(self.work_ms)]),
                    "WORKER_HEARTBEAT_FILE": str(self.root / f"{name}.alive"),
                    "WORKER_LIVENESS_SECONDS": str(self.LIVENESS_SECONDS),
                },
            )
        self.wait_web()
        threading.Thread(target=self._supervise, name="supervisor", daemon=True).start()

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            self.group.stop_all(timeout=30)
        self.proxy.close()
        self.broker.stop()
        self.postgres.stop()

    # -- faults: they only stop processes; the supervisor starts them again ------------

    def kill_worker(self, name: str) -> None:
        """kill -9; the supervisor starts it again at once, as the kubelet would."""
        with self._lock:
            self._planned.add(name)
            self.group.children[name].proc.kill()

    def restart_web(self, grace: float = 30.0) -> float:
        """SIGTERM the web process, SIGKILL it after `grace` seconds as Kubernetes
        would, and wait until its successor answers; seconds without a web process."""
        began = time.monotonic()
        with self._lock:
            self._planned.add("web")
            proc = self.group.children["web"].proc
            proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.hung_on_sigterm["web"] += 1
            proc.kill()
        self.wait_web()
        return time.monotonic() - began

    def restart_broker(self, pause: float) -> float:
        """Stop the broker cleanly, leave it down `pause` seconds, start it on the same
        data and ports; seconds down."""
        began = time.monotonic()
        self.broker.stop()
        time.sleep(pause)
        self.broker.start()
        return time.monotonic() - began

    def cut_recorder_database(self, seconds: float) -> None:
        self.proxy.cut()
        try:
            time.sleep(seconds)
        finally:
            self.proxy.heal()

    # -- helpers ----------------------------------------------------------------------

    def wait_web(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            conn = http.client.HTTPConnection("127.0.0.1", self.web_port, timeout=2)
            try:
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            finally:
                conn.close()
            time.sleep(0.2)
        raise RuntimeError(f"the web process did not answer within {timeout:.0f} s")

    def _supervise(self) -> None:
        """Play the kubelet. Children are started from this long-lived thread only:
        their parent-death signal fires when the thread that started them ends."""
        restart_at: dict[str, float] = {}
        while not self._stopping.wait(0.5):
            now = time.monotonic()
            if now >= self._next_probe:
                self._probe_workers()
                self._next_probe = now + self.PROBE_SECONDS
            with self._lock:
                if self._stopping.is_set():
                    return
                for child in list(self.group.children.values()):
                    if child.running:
                        continue
                    name = child.name
                    if name in self._planned:
                        self._planned.discard(name)
                    elif name not in restart_at:
                        self.crashes[name] += 1
                        # Crash-looping: wait longer each time, as the kubelet does.
                        restart_at[name] = now + min(2.0 ** (self.crashes[name] - 1), 8.0)
                    if now < restart_at.get(name, 0.0):
                        continue
                    restart_at.pop(name, None)
                    self.group.start(name, child.argv, child.env)

    def _probe_workers(self) -> None:
        """The probes of the worker's manifest, both `python -m worker.liveness`. Until a
        new process first passes, a failure only counts once STARTUP_SECONDS are over:
        it may still be waiting for its group to take it in (after a broker restart,
        until the sessions of the members killed before it expire), and it has no
        heartbeat file before that (it removes its predecessor's when it starts)."""
        for name in self.workers:
            with self._lock:
                child = self.group.children.get(name)
            if child is None or not child.running:
                continue
            pid = child.proc.pid
            probe = subprocess.run(
                [PY, "-m", "worker.liveness"],
                env={**os.environ, **child.env},
                capture_output=True,
                check=False,
            )
            passed = probe.returncode == 0
            if pid not in self._started:
                if passed:
                    self._started.add(pid)
                    continue
                first_failed = self._starting.setdefault(pid, time.monotonic())
                if time.monotonic() - first_failed < self.STARTUP_SECONDS:
                    continue
            if not passed:
                with self._lock:
                    self.liveness_kills[name] += 1
                    self._planned.add(name)
                    child.proc.kill()
