from pathlib import Path

from django.conf import settings
from prometheus_client import start_http_server

from streams import tracing
from webapp.claps.recorder import Recorder
from webapp.core.loops import LoopCommand


class Command(LoopCommand):
    help = "Record job events from Kafka into the database; republish the outbox."
    name = "recorder"

    def heartbeat_file(self) -> Path:
        return Path(settings.RECORDER_HEARTBEAT_FILE)

    def open(self) -> None:
        tracing.enable_from_env(self.name)
        self.recorder = Recorder()
        if settings.RECORDER_METRICS_PORT:
            start_http_server(
                settings.RECORDER_METRICS_PORT, registry=self.recorder.metrics.registry
            )

    def step(self) -> bool:
        self.recorder.record_step()
        self.recorder.maybe_sweep(settings.OUTBOX_SWEEP_SECONDS)
        # A recorder that loops is alive, even while the database is away: it reads
        # the events again once the database is back, and a restart would not bring
        # that sooner (the probe would crash-loop it, and back-off delay it after).
        return True

    def close(self) -> None:
        self.recorder.close()
