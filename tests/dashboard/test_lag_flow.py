"""Lag and throughput on the dashboard and /metrics follow the real broker: jobs pile
up while no worker runs, then a real worker drains them."""

import re

import pytest
from django.urls import reverse

from tests.support.kafka import commit, produce_jobs
from tools.waiting import wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.django_db(transaction=True)]
JOBS = 20


def _workers(client):
    data = client.get(reverse("dashboard:data")).json()
    return data, next(g for g in data["groups"] if g["group"].endswith("-workers"))


def _metric(text: str, name: str, **labels) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} {labels} not in /metrics")


def test_lag_piles_up_without_workers_and_drains_with_one(
    admin_client, client, isolated_kafka, sampler, stack
):
    config = isolated_kafka
    group = config.worker_group
    partitions = range(config.topics.jobs_partitions)
    commit(config, group, dict.fromkeys(partitions, 0))  # the group committed once, then left
    assert sampler.sample_step()

    waiting = produce_jobs(config, JOBS)
    assert sampler.sample_step()

    data, workers = _workers(admin_client)
    assert workers["total_lag"] == JOBS
    assert {p["offsets"]["partition"]: p["unread"] for p in workers["partitions"]} == {
        p: waiting.get(p, 0) for p in partitions
    }
    assert workers["produced_per_s"] > 0
    assert data["autoscaling"]["desired"] == min(4, -(-JOBS // 10))
    metrics = client.get("/metrics").content.decode()
    assert _metric(metrics, "clapstream_consumergroup_total_lag", group=group) == JOBS
    for p in partitions:
        lag = _metric(metrics, "clapstream_consumergroup_lag", group=group, partition=p)
        assert lag == waiting.get(p, 0)

    stack.worker("worker-1", CLAP_WORK_MS="0")

    def drained():
        sampler.sample_step()
        return _workers(admin_client)[1]["total_lag"] == 0

    wait_until(drained, timeout=30, interval=0.5, what="the worker to drain the lag")
    data, workers = _workers(admin_client)
    assert workers["consumed_per_s"] > 0
    assert workers["health"]["status"] == "OK"
    metrics = client.get("/metrics").content.decode()
    assert _metric(metrics, "clapstream_consumergroup_total_lag", group=group) == 0
    page = admin_client.get(reverse("dashboard:live")).content.decode()
    assert re.search(r"<td>worker-1[^<]*</td>", page), "the live worker is listed as a member"
    lagging = admin_client.get(reverse("dashboard:live"), {"range": "24h", "lagging": "1"})
    assert "No partition has lag." in lagging.content.decode()
