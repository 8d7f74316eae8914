"""Local workers that follow the lag, as KEDA and the HPA would in a cluster.

    python -m tools.autoscale

Starts and stops local worker processes to the count KEDA's formula gives for the lag
of the worker group (KEDA_* thresholds and bounds, AUTOSCALE_INTERVAL,
AUTOSCALE_STABILISATION_SECONDS)."""

import argparse
import logging
import signal
import threading

from streams.config import kafka_config
from streams.envvars import env_str
from streams.keda import scaling_from_env
from streams.lag import OffsetReader
from tools.autoscale.scaler import (
    LocalAutoscaler,
    ReplicaPlanner,
    interval_from_env,
    window_from_env,
)
from tools.processes import ProcessGroup


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(
        prog="python -m tools.autoscale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    ).parse_args(argv)
    logging.basicConfig(
        level=env_str("LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    kafka = kafka_config()
    scaling = scaling_from_env(kafka.topics.jobs_partitions)
    interval, window = interval_from_env(), window_from_env()
    autoscaler = LocalAutoscaler(
        ReplicaPlanner(scaling, window),
        OffsetReader(kafka),
        ProcessGroup(),
        group=kafka.worker_group,
        topic=kafka.topics.jobs,
    )
    print(
        f"autoscaling {kafka.worker_group} on {kafka.topics.jobs} every {interval:g} s: "
        f"lagThreshold {scaling.lag_threshold}, activation {scaling.activation_lag_threshold}"
        f", replicas {scaling.min_replicas}..{scaling.max_replicas}, "
        f"scale-down window {window:g} s",
        flush=True,
    )
    try:
        while not stop.is_set():
            autoscaler.step()
            stop.wait(interval)
    finally:
        autoscaler.close()
    print("autoscaler stopped", flush=True)


if __name__ == "__main__":
    main()
