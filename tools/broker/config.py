"""The broker's files in its data directory: server.properties and log4j2.properties."""

from pathlib import Path

# Rolled at 50 MB, two old files kept: `make run`'s broker lives for months, and at
# INFO it logs a line per partition each time it starts.
LOG4J = """\
status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = {log}
appender.file.filePattern = {log}.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 50MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 2
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.kafka-server.name = kafka.server.KafkaServer
logger.kafka-server.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
"""


def server_properties(data_dir: Path, port: int, controller_port: int) -> str:
    c = controller_port
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{c}",
            f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{c}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
            "inter.broker.listener.name=PLAINTEXT",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            f"log.dirs={data_dir / 'logs'}",
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


def write_config(data_dir: Path, port: int, controller_port: int, log_file: Path) -> Path:
    """Write both files; return the server.properties path."""
    props = data_dir / "server.properties"
    props.write_text(server_properties(data_dir, port, controller_port))
    (data_dir / "log4j2.properties").write_text(LOG4J.format(log=log_file))
    return props
