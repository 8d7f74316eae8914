"""The local autoscaler against the real broker: lag starts workers, no lag stops them."""

import io

import pytest

from streams.keda import KedaScaling
from streams.lag import OffsetReader
from tests.support.kafka import produce_jobs
from tests.support.pipeline import env_for
from tools.autoscale.scaler import LocalAutoscaler, ReplicaPlanner
from tools.processes import ProcessGroup
from tools.waiting import wait_until

pytestmark = pytest.mark.kafka


@pytest.fixture
def autoscaler(isolated_kafka):
    processes = ProcessGroup(io.StringIO())
    scaler = LocalAutoscaler(
        ReplicaPlanner(KedaScaling(lag_threshold=10, min_replicas=0, max_replicas=12), window=1),
        OffsetReader(isolated_kafka),
        processes,
        group=isolated_kafka.worker_group,
        topic=isolated_kafka.topics.jobs,
        env={**env_for(isolated_kafka), "CLAP_WORK_MS": "0"},
    )
    yield scaler
    scaler.close()
    print(processes._out.getvalue()[-10000:])  # shown when the test failed


def read_and_scale(autoscaler):
    """A step that read the lag (a fresh topic's leaders may not be known yet)."""
    return wait_until(autoscaler.step, timeout=30, interval=0.2, what="a lag reading")


def test_scales_from_zero_to_the_partition_count_and_back(autoscaler, isolated_kafka):
    assert read_and_scale(autoscaler).target == 0
    assert autoscaler.workers() == []

    produce_jobs(isolated_kafka, 100)
    plan = read_and_scale(autoscaler)
    assert plan.keda.total_lag == 100
    assert plan.target == 4  # ceil(100 / 10) = 10, capped at the 4 partitions
    assert autoscaler.workers() == ["worker-1", "worker-2", "worker-3", "worker-4"]
    assert all(c.running for c in autoscaler.processes.children.values())

    def scaled_down():
        autoscaler.step()
        return autoscaler.workers() == []

    wait_until(scaled_down, timeout=120, interval=0.5, what="the lag to drain and workers to stop")
    assert autoscaler.processes.children == {}
