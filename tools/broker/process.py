"""The local broker's process: started detached once its storage is formatted, probed
until it answers, stopped with SIGTERM (a clean shutdown). Its pid is kept in
<data>/broker.json and its log in <data>/broker.log."""

import base64
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
        if state and pid_alive(state["pid"]):
            return state["pid"]
        return None

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

    def start(self, timeout: float = 90.0) -> bool:
        """Start the broker and wait until it answers. Returns False if it was already up."""
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
        self._state_file.write_text(json.dumps({"pid": proc.pid, "port": self.port}))
        try:
            self.wait_ready(timeout)
        except BrokerError:
            self.stop()
            raise
        return True

    def wait_ready(self, timeout: float) -> None:
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
            if not self.running_pid():
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
    dev broker's, started if needed and stopped afterwards if this started it. The
    address is also put in the environment, for subprocesses."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield os.environ["KAFKA_BOOTSTRAP_SERVERS"]
        return
    broker = dev_broker()
    started = broker.start()
    say(
        f"{'started' if started else 'reusing the already running'} local Kafka at "
        f"{broker.bootstrap} (log {broker.log_file})"
    )
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = broker.bootstrap
    try:
        yield broker.bootstrap
    finally:
        if started:
            broker.stop()
            say("stopped the local Kafka")
