"""Sampling during a soak: the worker group's lag on the jobs topic, and the load of
the machine, once a second; the peaks are what the report shows."""

import os
import threading
import time

from confluent_kafka import KafkaException

from streams.config import KafkaConfig
from streams.lag import OffsetReader


def unread(reader: OffsetReader, group: str, topic: str) -> int:
    return sum(p.unread() for p in reader.offsets(group, topic))


class Watch:
    def __init__(self, kafka: KafkaConfig, interval: float = 1.0):
        self.kafka = kafka
        self.interval = interval
        self.peak_lag = 0
        self.peak_lag_at = 0.0
        self.peak_load = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-watch", daemon=True)

    def start(self) -> None:
        self._began = time.monotonic()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        reader = OffsetReader(self.kafka, timeout=2.0)
        try:
            while not self._stop.wait(self.interval):
                self.peak_load = max(self.peak_load, os.getloadavg()[0])
                try:
                    lag = unread(reader, self.kafka.worker_group, self.kafka.topics.jobs)
                except (KafkaException, LookupError):
                    continue  # the broker is restarting: no sample
                if lag > self.peak_lag:
                    self.peak_lag, self.peak_lag_at = lag, time.monotonic() - self._began
        finally:
            reader.close()
