"""A real single-node Apache Kafka (KRaft, broker + controller) for local runs and tests.

The server jars come from Maven Central (pom.xml beside this file) into a cache outside
the repository, once (jars). The JVM is found and its command line built in java; the
broker's properties and log configuration are written by config; process starts,
probes and stops it. `python -m tools.broker start|stop|status|fetch` is its CLI.
"""


class BrokerError(RuntimeError):
    """The local broker cannot be fetched, started or reached."""
