"""Local workers that follow the lag, as KEDA and the HPA would in a cluster."""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from streams.lag import OffsetReader
from webapp.ops.autoscaler import (
    LocalAutoscaler,
    ReplicaPlanner,
    interval_from_env,
    window_from_env,
)
from webapp.ops.processes import ProcessGroup


class Command(BaseCommand):
    help = (
        "Start and stop local worker processes to the count KEDA's formula gives for the "
        "lag of the worker group (KEDA_* thresholds and bounds, AUTOSCALE_INTERVAL, "
        "AUTOSCALE_STABILISATION_SECONDS)."
    )

    def handle(self, *args, **options):
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        kafka = settings.KAFKA
        scaling, interval, window = settings.KEDA, interval_from_env(), window_from_env()
        autoscaler = LocalAutoscaler(
            ReplicaPlanner(scaling, window),
            OffsetReader(kafka),
            ProcessGroup(self.stdout),
            group=kafka.worker_group,
            topic=kafka.topics.jobs,
        )
        self.stdout.write(
            f"autoscaling {kafka.worker_group} on {kafka.topics.jobs} every {interval:g} s: "
            f"lagThreshold {scaling.lag_threshold}, activation {scaling.activation_lag_threshold}"
            f", replicas {scaling.min_replicas}..{scaling.max_replicas}, "
            f"scale-down window {window:g} s"
        )
        try:
            while not stop.is_set():
                autoscaler.step()
                stop.wait(interval)
        finally:
            autoscaler.close()
        self.stdout.write("autoscaler stopped")
