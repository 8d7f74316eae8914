import signal
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from prometheus_client import start_http_server

from streams import logs, tracing
from streams.envvars import env_float, env_str
from streams.heartbeat import Heartbeat
from webapp.claps.recorder import Recorder

HEARTBEAT_FILE = "/tmp/clapstream-recorder.alive"  # noqa: S108 - a probe file, not data


class Command(BaseCommand):
    help = "Record job events from Kafka into the database; republish the outbox."

    def handle(self, *args, **options):
        self.shutdown = False
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        sweep_interval = env_float("OUTBOX_SWEEP_SECONDS", 5.0, minimum=0.1)
        heartbeat = Heartbeat(Path(env_str("RECORDER_HEARTBEAT_FILE", HEARTBEAT_FILE)))
        logs.set_process("recorder")
        tracing.enable_from_env("recorder")
        recorder = Recorder()
        if settings.RECORDER_METRICS_PORT:
            start_http_server(settings.RECORDER_METRICS_PORT, registry=recorder.metrics.registry)
        self.stdout.write("recording events")
        try:
            while not self.shutdown:
                recorder.record_step()
                recorder.maybe_sweep(sweep_interval)
                if recorder.db_failures == 0:  # a recorder that cannot write is not healthy
                    heartbeat.beat()
        finally:
            recorder.close()
        self.stdout.write("recorder stopped")

    def _on_signal(self, *_):
        self.shutdown = True
