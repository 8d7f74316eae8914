"""A real single-node Apache Kafka (KRaft, broker + controller) for local runs and tests.

The server jars come from Maven Central (streams/kafka/pom.xml) into a cache outside
the repository, once. Storage is formatted once per data directory. The broker runs
detached, logs to <data>/broker.log and is stopped with SIGTERM (a clean shutdown).

    python -m streams.broker start|stop|status [--data-dir D] [--port P]
"""

import argparse
import base64
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from streams.config import LOCAL_BOOTSTRAP_PORT
from streams.lifetime import die_with_parent

log = logging.getLogger(__name__)

POM = Path(__file__).with_name("kafka") / "pom.xml"
KAFKA_VERSION = re.search(r"<kafka.version>(.+?)</kafka.version>", POM.read_text()).group(1)
MISSING_TOOLS = "install Java 17+ and Maven, or set KAFKA_BOOTSTRAP_SERVERS to an existing cluster"
JVM_OPTS = [
    "-Xms512m",
    "-Xmx1g",
    "-server",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:TieredStopAtLevel=1",  # C1 only: starts faster on 2 cores, ample for local work
    "-Djava.awt.headless=true",
]
LOG4J = """\
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.kafka-server.name = kafka.server.KafkaServer
logger.kafka-server.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
"""


class BrokerError(RuntimeError):
    """The local broker cannot be fetched, started or reached."""


def cache_home() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "clapstream"
    return Path(os.environ.get("CLAPSTREAM_CACHE", default))


def _java_major(java: str) -> int:
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        return 0
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def require_java() -> str:
    java = shutil.which("java")
    if not java or _java_major(java) < 17:
        raise BrokerError(f"Java 17+ not found: {MISSING_TOOLS}")
    return java


def fetch_jars(home: Path | None = None) -> Path:
    """Resolve the broker's classpath into the cache once; return the jar directory."""
    libs = (home or cache_home()) / f"kafka-{KAFKA_VERSION}" / "libs"
    done = libs / ".complete"
    if done.exists():
        return libs
    mvn = shutil.which("mvn")
    if not mvn:
        raise BrokerError(f"Maven not found: {MISSING_TOOLS}")
    print(f"fetching Apache Kafka {KAFKA_VERSION} jars into {libs} (once)", flush=True)
    libs.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            mvn,
            "-q",
            "-B",
            "-f",
            str(POM),
            "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={libs}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BrokerError(f"Maven could not fetch the Kafka jars:\n{result.stdout}{result.stderr}")
    done.touch()
    return libs


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours still "exists"; reap it and report it dead.
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        return reaped == 0
    except ChildProcessError:
        return True


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
        if state and _pid_alive(state["pid"]):
            return state["pid"]
        return None

    def _write_properties(self) -> Path:
        props = self.data_dir / "server.properties"
        c = self.controller_port
        props.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{c}",
                    f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{c}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                    "inter.broker.listener.name=PLAINTEXT",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                    f"log.dirs={self.data_dir / 'logs'}",
                    "num.partitions=1",
                    "num.network.threads=2",
                    "num.io.threads=2",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=12",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    # Defaults stay 45 s / 5 s; these minimums let a group opt in to faster
                    # failure detection (a per-group config), as the worker's tests do.
                    "group.consumer.min.session.timeout.ms=6000",
                    "group.consumer.min.heartbeat.interval.ms=500",
                    "auto.create.topics.enable=false",
                    "",
                ]
            )
        )
        (self.data_dir / "log4j2.properties").write_text(LOG4J.format(log=self.log_file))
        return props

    def _java(self, java: str, libs: Path, *args: str) -> list[str]:
        return [
            java,
            *JVM_OPTS,
            f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={self.data_dir}",
            "-cp",
            f"{libs}/*",
            *args,
        ]

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
                "-t",
                cluster_id,
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
            if _port_open(port):
                raise BrokerError(
                    f"port {port} is taken by another process; choose other ports "
                    "(LOCAL_KAFKA_PORT) or set KAFKA_BOOTSTRAP_SERVERS to that cluster"
                )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        props = self._write_properties()
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
                "logger": logging.getLogger("streams.broker.probe"),
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
        while _pid_alive(pid):
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m streams.broker",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=["start", "stop", "status", "fetch"])
    parser.add_argument("--data-dir", type=Path, help="broker data (default: the dev broker's)")
    parser.add_argument("--port", type=int, help="client port; the controller uses port + 1")
    args = parser.parse_args(argv)
    broker = dev_broker()
    if args.data_dir:
        broker.data_dir = args.data_dir
    if args.port:
        broker.port, broker.controller_port = args.port, args.port + 1
    try:
        if args.action == "fetch":
            print(f"Kafka {KAFKA_VERSION} jars in {fetch_jars()}")
        elif args.action == "start":
            began = time.monotonic()
            if broker.start():
                print(
                    f"started Kafka {KAFKA_VERSION} at {broker.bootstrap} in "
                    f"{time.monotonic() - began:.1f} s (pid {broker.running_pid()}, "
                    f"log {broker.log_file})"
                )
            else:
                print(
                    f"reusing the broker already started at {broker.bootstrap} "
                    f"(pid {broker.running_pid()})"
                )
        elif args.action == "stop":
            print("stopped the broker" if broker.stop() else "no broker was running")
        else:
            pid = broker.running_pid()
            print(f"running at {broker.bootstrap} (pid {pid})" if pid else "not running")
            return 0 if pid else 3
    except BrokerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
