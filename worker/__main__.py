"""`python -m worker`: run one clap worker until SIGTERM/SIGINT."""

import logging
import sys

from streams.config import kafka_config
from streams.envvars import ConfigError
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
    logging.basicConfig(
        level=settings.log_level,
        format=f"%(asctime)s %(levelname)s [{settings.worker_id}] %(name)s: %(message)s",
    )
    # A broker outage is said once, then every 30 s, not at every reconnection attempt.
    throttle = Throttle("worker.kafka")
    for handler in logging.getLogger().handlers:
        handler.addFilter(throttle)
    metrics = Metrics()
    if settings.metrics_port:
        metrics.serve(settings.metrics_port)
    return Worker(settings, kafka, metrics).run()


if __name__ == "__main__":
    sys.exit(main())
