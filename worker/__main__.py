"""`python -m worker`: run one clap worker until SIGTERM/SIGINT."""

import logging
import sys

from streams import logs, tracing
from streams.config import kafka_config
from streams.envvars import ConfigError
from streams.gcpause import freeze_startup_objects
from streams.logthrottle import Throttle
from worker.app import Worker
from worker.metrics import Metrics
from worker.settings import WorkerSettings

log = logging.getLogger("worker")


def main() -> int:
    try:
        settings = WorkerSettings.from_env()
        kafka = kafka_config()
    except ConfigError as exc:
        logging.basicConfig()
        log.error("bad configuration: %s", exc)
        return 2
    logs.configure("worker", settings.log_level, settings.log_format)
    # A broker outage is said once, then every 30 s, not at every reconnection attempt.
    throttle = Throttle("worker.kafka")
    for handler in logging.getLogger().handlers:
        handler.addFilter(throttle)
    tracing.enable_from_env("worker")
    metrics = Metrics()
    if settings.metrics_port:
        metrics.serve(settings.metrics_port)
    worker = Worker(settings, kafka, metrics)
    freeze_startup_objects()
    return worker.run()


if __name__ == "__main__":
    sys.exit(main())
