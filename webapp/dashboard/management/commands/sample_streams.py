from datetime import timedelta
from pathlib import Path

from django.conf import settings

from webapp.core.loops import LoopCommand
from webapp.dashboard.sampler import Sampler


class Command(LoopCommand):
    help = "Sample consumer lag and topic offsets every SAMPLE_INTERVAL seconds for the dashboards."
    name = "sampler"

    def interval(self) -> float:
        return settings.SAMPLE_INTERVAL

    def heartbeat_file(self) -> Path | None:
        return Path(settings.SAMPLER_HEARTBEAT_FILE) if settings.SAMPLER_HEARTBEAT_FILE else None

    def open(self) -> None:
        self.sampler = Sampler(
            retention=timedelta(hours=settings.SAMPLE_RETENTION_HOURS),
            timeout=min(5.0, settings.SAMPLE_INTERVAL),
        )

    def step(self) -> bool:
        self.sampler.sample_step()
        return True  # a sampler that loops is alive, even while Kafka is away

    def close(self) -> None:
        self.sampler.close()
