"""The local broker's process: started detached once its storage is formatted, probed
until it answers, stopped with SIGTERM (a clean shutdown). Its pid is kept in
<data>/broker.json and its log in <data>/broker.log.

Several runs may share the dev broker (`make run` in one terminal, `make bench` in
another): each registers in <data>/users/ while it uses it, and the broker a run
started is stopped by the last run to leave, not by the first.
"""

import base64
import fcntl
import json
import logging
import os
import signal
import subprocess
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from streams.config import LOCAL_BOOTSTRAP_PORT
from streams.lifetime import die_with_parent
from tools.broker import BrokerError
from tools.broker.config import write_config
from tools.broker.jars import cache_home, fetch_jars
from tools.broker.java import java_command, require_java
from tools.ports import port_open
from tools.processes import pid_alive


@dataclass
class LocalBroker:
    data_dir: Path
    port: int = LOCAL_BOOTSTRAP_PORT
    controller_port: int = LOCAL_BOOTSTRAP_PORT + 1
    cache: Path | None = None
    tied: bool = False  # dies with the process that started it (a test session's broker)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "broker.log"

    @property
    def _state_file(self) -> Path:
        return self.data_dir / "broker.json"

    def _state(self) -> dict | None:
        try:
            return json.loads(self._state_file.read_text())
        except (OSError, ValueError):
            return None

    def running_pid(self) -> int | None:
        state = self._state()
        if state and pid_alive(state["pid"]) and self._runs_here(state["pid"]):
            return state["pid"]
        return None

    def _runs_here(self, pid: int) -> bool:
        """Whether pid is this broker's JVM, and not a process that was given the pid of
        one gone with a reboot (its command line names this data directory)."""
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return True  # no /proc to ask: the live pid will do
        # Empty while a process execs (the java launcher may exec itself) or exits.
        return not args or str(self.data_dir).encode() in args

    @contextmanager
    def _starting(self):
        """One start at a time per data directory: two would launch two JVMs on it."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.data_dir / "start.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    @contextmanager
    def used(self):
        """Register this process as a user of the broker while in the block."""
        users = self.data_dir / "users"
        users.mkdir(parents=True, exist_ok=True)
        mine = users / str(os.getpid())
        mine.touch()
        try:
            yield
        finally:
            mine.unlink(missing_ok=True)

    def other_users(self) -> list[int]:
        found = []
        for entry in (self.data_dir / "users").glob("*"):
            pid = int(entry.name) if entry.name.isdigit() else None
            if pid is None or not pid_alive(pid):
                entry.unlink(missing_ok=True)  # a run that died without leaving
            elif pid != os.getpid():
                found.append(pid)
        return found

    def started_by_a_run(self) -> bool:
        return bool((self._state() or {}).get("by_run"))

    def _write_config(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return write_config(self.data_dir, self.port, self.controller_port, self.log_file)

    def _java(self, java: str, libs: Path, *args: str) -> list[str]:
        return java_command(java, libs, self.data_dir, *args)

    def _format(self, java: str, libs: Path, props: Path) -> None:
        if (self.data_dir / "logs" / "meta.properties").exists():
            return
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        result = subprocess.run(
            self._java(
                java,
                libs,
                "kafka.tools.StorageTool",
                "format",
                "-c",
                str(props),
                # One argument: a random id may start with "-", which the tool's
                # parser would take for an option (one start in 64 failed so).
                f"--cluster-id={cluster_id}",
                "-g",
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BrokerError(f"formatting KRaft storage failed:\n{result.stdout}{result.stderr}")

    def start(self, timeout: float = 90.0, by_run: bool = False) -> bool:
        """Start the broker and wait until it answers. Returns False if it was already up.
        by_run: a run's, which the last run using it stops; else one started by hand."""
        with self._starting():
            return self._start(timeout, by_run)

    def _start(self, timeout: float, by_run: bool) -> bool:
        pid = self.running_pid()
        if pid:
            self.wait_ready(timeout)
            return False
        java = require_java()
        libs = fetch_jars(self.cache)
        for port in (self.port, self.controller_port):
            if port_open(port):
                raise BrokerError(
                    f"port {port} is taken by another process; choose other ports "
                    "(LOCAL_KAFKA_PORT) or set KAFKA_BOOTSTRAP_SERVERS to that cluster"
                )
        props = self._write_config()
        self._format(java, libs, props)
        with open(self.data_dir / "broker.out", "ab") as out:
            proc = subprocess.Popen(
                self._java(java, libs, "kafka.Kafka", str(props)),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C in a terminal must not hit it directly
                preexec_fn=die_with_parent if self.tied else None,
            )
        state = {"pid": proc.pid, "port": self.port, "by_run": by_run}
        self._state_file.write_text(json.dumps(state))
        try:
            self.wait_ready(timeout, proc)
        except BrokerError:
            self.stop()
            raise
        return True

    def wait_ready(self, timeout: float, proc: subprocess.Popen | None = None) -> None:
        """Until the broker answers; proc: the one this process just started."""
        from confluent_kafka.admin import AdminClient

        admin = AdminClient(
            {
                "bootstrap.servers": self.bootstrap,
                "log_level": 0,
                "logger": logging.getLogger("tools.broker.probe"),
            }
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (proc.poll() is not None) if proc else not self.running_pid():
                raise BrokerError(f"the broker exited during start-up; see {self.log_file}")
            try:
                admin.list_topics(timeout=1.0)
                return
            except Exception:  # noqa: BLE001 - KafkaException until the listener is up
                time.sleep(0.2)
        raise BrokerError(f"the broker did not answer within {timeout:.0f} s; see {self.log_file}")

    def stop(self, timeout: float = 30.0) -> bool:
        """SIGTERM the broker and wait for its clean shutdown. False if none was running."""
        pid = self.running_pid()
        if not pid:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_alive(pid):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)
        self._state_file.unlink(missing_ok=True)
        return True


def dev_broker() -> LocalBroker:
    """The broker of `make run`: fixed ports, data kept between runs."""
    port = int(os.environ.get("LOCAL_KAFKA_PORT", LOCAL_BOOTSTRAP_PORT))
    data = Path(os.environ.get("LOCAL_KAFKA_DATA", cache_home() / "broker-dev"))
    return LocalBroker(data_dir=data, port=port, controller_port=port + 1)


@contextmanager
def broker_unless_configured(say=print):
    """Yield the bootstrap address to use: KAFKA_BOOTSTRAP_SERVERS when set, else the
    dev broker's, started if needed. A broker a run started is stopped afterwards by
    the last run using it; one started by hand (`make broker-start`) stays. The address
    is also put in the environment, for subprocesses."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield os.environ["KAFKA_BOOTSTRAP_SERVERS"]
        return
    yield from _shared(dev_broker(), say)


def _shared(broker: LocalBroker, say):
    with broker.used():
        started = broker.start(by_run=True)
        say(
            f"{'started' if started else 'reusing the already running'} local Kafka at "
            f"{broker.bootstrap} (log {broker.log_file})"
        )
        os.environ["KAFKA_BOOTSTRAP_SERVERS"] = broker.bootstrap
        try:
            yield broker.bootstrap
        finally:
            others = broker.other_users()
            if others:
                say(f"leaving the local Kafka to the {len(others)} other run(s) using it")
            elif broker.started_by_a_run() and broker.stop():
                say("stopped the local Kafka")
