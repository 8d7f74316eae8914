import logging
import signal
import threading
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from streams import logs
from webapp.dashboard.sampler import Sampler

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Sample consumer lag and topic offsets every SAMPLE_INTERVAL seconds for the dashboards."

    def handle(self, *args, **options):
        self.shutdown = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.shutdown.set())
        logs.set_process("sampler")
        interval = settings.SAMPLE_INTERVAL
        heartbeat = (
            Path(settings.SAMPLER_HEARTBEAT_FILE) if settings.SAMPLER_HEARTBEAT_FILE else None
        )
        sampler = Sampler(
            retention=timedelta(hours=settings.SAMPLE_RETENTION_HOURS),
            timeout=min(5.0, interval),
        )
        self.stdout.write(f"sampling every {interval:g} s")
        try:
            while not self.shutdown.is_set():
                started = time.monotonic()
                sampler.sample_step()
                if heartbeat is not None:
                    self._touch(heartbeat)
                self.shutdown.wait(max(0.0, interval - (time.monotonic() - started)))
        finally:
            sampler.close()
        self.stdout.write("sampler stopped")

    @staticmethod
    def _touch(path: Path) -> None:
        try:
            path.touch()
        except OSError as exc:
            log.warning("cannot touch the heartbeat file %s: %s", path, exc)
