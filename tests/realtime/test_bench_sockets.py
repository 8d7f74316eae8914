"""The socket benchmark's machinery works, on a tiny scale (it measures nothing here)."""

import pytest

from tools.bench.sockets import SocketBench
from webapp.claps.models import ClapJob

pytestmark = [pytest.mark.kafka, pytest.mark.django_db(transaction=True)]


def test_the_socket_benchmark_opens_receives_and_cleans_up(kafka):
    with SocketBench(kafka, sockets=3, per_session=2) as bench:
        run = bench.run(rate=9, seconds=1)
    assert (run.opened, run.still_open, run.sent, len(run.delays)) == (3, 3, 9, 9)
    assert run.rss_after_kib > 0 and run.cpu_seconds > 0
    assert not ClapJob.objects.exists()
