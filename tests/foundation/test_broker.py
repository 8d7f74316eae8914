import io
import json
import os
import sys
import uuid

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from streams.topics import ensure_topics
from tools.broker import BrokerError, jars, java
from tools.broker.process import LocalBroker
from tools.ports import free_port
from tools.processes import ProcessGroup, pid_alive
from tools.waiting import wait_until

pytestmark = pytest.mark.kafka


def test_round_trip_through_clap_jobs(kafka):
    ensure_topics(kafka)
    key = str(uuid.uuid4()).encode()
    producer = Producer(kafka.producer())
    delivered = []
    producer.produce(
        kafka.topics.jobs,
        key=key,
        value=b'{"hello": 1}',
        on_delivery=lambda err, msg: delivered.append((err, msg)),
    )
    producer.flush(10)
    err, msg = delivered[0]
    assert err is None

    consumer = Consumer(kafka.consumer(f"test-{uuid.uuid4()}"))
    consumer.assign([TopicPartition(kafka.topics.jobs, msg.partition(), msg.offset())])
    got = consumer.poll(10)
    consumer.close()
    assert got is not None and got.error() is None
    assert (got.key(), got.value()) == (key, b'{"hello": 1}')


def test_a_running_broker_is_reused(kafka_broker):
    if kafka_broker is None:
        pytest.skip("the run uses an existing cluster")
    pid = kafka_broker.running_pid()
    assert kafka_broker.start() is False
    assert kafka_broker.running_pid() == pid


def test_missing_java_says_what_to_install(monkeypatch):
    monkeypatch.setattr(java.shutil, "which", lambda name: None)
    with pytest.raises(
        BrokerError, match="install Java 17\\+ and Maven, or set KAFKA_BOOTSTRAP_SERVERS"
    ):
        java.require_java()


def test_missing_maven_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(jars.shutil, "which", lambda name: None)
    with pytest.raises(BrokerError, match="Maven not found: install Java 17\\+ and Maven"):
        jars.fetch_jars(tmp_path)


def test_a_pid_that_is_not_the_brokers_is_not_trusted(tmp_path):
    # After a reboot the pid in broker.json may belong to anything: this process, say.
    broker = LocalBroker(data_dir=tmp_path)
    (tmp_path / "broker.json").write_text(json.dumps({"pid": os.getpid(), "port": 1}))
    assert broker.running_pid() is None


RUN = """
import signal, sys
from tools.broker.process import broker_unless_configured
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # leaves the block, as a run does
with broker_unless_configured(lambda line: print(line, flush=True)):
    print("using it", flush=True)
    signal.pause()
"""


def test_the_broker_runs_started_goes_with_the_last_of_them(tmp_path):
    """Two runs share the dev broker; the one that started it leaves first."""
    port = free_port()
    env = {
        **os.environ,
        "LOCAL_KAFKA_DATA": str(tmp_path / "kafka"),
        "LOCAL_KAFKA_PORT": str(port),
        "KAFKA_BOOTSTRAP_SERVERS": "",
    }
    broker = LocalBroker(data_dir=tmp_path / "kafka", port=port, controller_port=port + 1)
    group = ProcessGroup(out := io.StringIO())
    try:
        group.start("first", [sys.executable, "-c", RUN], env)
        wait_until(lambda: "first | using it" in out.getvalue(), 120, "the first run")
        group.start("second", [sys.executable, "-c", RUN], env)
        wait_until(lambda: "second | using it" in out.getvalue(), 60, "the second run")
        assert "reusing the already running local Kafka" in out.getvalue()
        pid = broker.running_pid()

        group.stop("first")  # the run that started it leaves
        wait_until(lambda: "first | exited with code 0" in out.getvalue(), 30, "its exit")
        assert "leaving the local Kafka to the 1 other run(s)" in out.getvalue()
        assert broker.running_pid() == pid
        group.stop("second")
        wait_until(lambda: "second | exited with code 0" in out.getvalue(), 60, "its exit")
        assert "stopped the local Kafka" in out.getvalue()
        assert broker.running_pid() is None and not pid_alive(pid)
    finally:
        group.stop_all(timeout=30)
        broker.stop()
