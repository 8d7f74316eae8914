"""`python -m worker` processes in a group: sharing, crashing, and stopping."""

import signal
from collections import Counter
from urllib.request import urlopen

import pytest

from streams.heartbeat import check
from streams.messages import DONE, PROGRESS, RUNNING
from tests.support.workers import fast_group, group_members, job, produce
from tools.ports import free_port
from tools.waiting import wait_until

pytestmark = pytest.mark.kafka


@pytest.mark.parametrize("protocol", ["consumer", "classic"])
def test_two_workers_do_every_job_exactly_once(config, outputs, processes, tmp_path, protocol):
    jobs = [job(claps=1 + i % 3) for i in range(200)]
    produce(config, *jobs)
    wanted = {j.id for j in jobs}

    def done(count):
        def enough():
            outputs.poll()
            return len(wanted & {e.job for e in outputs.events if e.type == DONE}) >= count

        return enough

    def running_on(worker):
        def seen():
            outputs.poll()
            return any(e.worker == worker for e in outputs.events if e.type == RUNNING)

        return seen

    port, alive = free_port(), tmp_path / "w1.alive"
    # The first worker alone would take about 20 s: the second one joins well before
    # the jobs run out, even when a busy machine makes the rebalance slow.
    protocol_env = {"WORKER_GROUP_PROTOCOL": protocol}
    w1_env = {"WORKER_METRICS_PORT": str(port), "WORKER_HEARTBEAT_FILE": str(alive)}
    processes.start("w1", CLAP_WORK_MS="50", **w1_env, **protocol_env)
    wait_until(done(10), 20, "the first worker under way")
    processes.start("w2", CLAP_WORK_MS="15", **protocol_env)  # joins mid-way
    wait_until(running_on("w2"), 20, "partitions moving to the second worker")
    assert check(alive, max_age=5)[0]
    metrics = urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert "clapstream_worker_jobs_done_total" in metrics
    wait_until(done(200), 45, "200 jobs done")

    outputs.read_to_end()
    done = Counter(e.job for e in outputs.events if e.type == DONE)
    assert set(done) == wanted and set(done.values()) == {1}
    assert not outputs.dead_letters


def test_a_job_of_a_killed_worker_is_redone_by_another(config, outputs, processes):
    if not fast_group(config):
        pytest.skip("the broker does not allow a short session timeout for the group")
    long = job(claps=30)
    first = processes.start("doomed", CLAP_WORK_MS="100")
    produce(config, long)

    def progressing():
        outputs.poll()
        return PROGRESS in outputs.types(long.id)

    wait_until(progressing, 20, "the job under way")
    first.kill()
    first.wait(10)
    processes.start("heir", CLAP_WORK_MS="5")

    def done():
        outputs.poll()
        return outputs.final(long.id)

    final = wait_until(done, 30, "the job redone")
    assert (final.type, final.worker) == (DONE, "heir")
    runs = [e for e in outputs.of(long.id) if e.type == RUNNING]
    assert [e.worker for e in runs] == ["doomed", "heir"]
    assert runs[0].offset == runs[1].offset
    seqs = [e.seq for e in outputs.of(long.id)]
    assert seqs == sorted(set(seqs))  # the heir's events supersede the dead worker's


def test_sigterm_stops_promptly_leaves_the_group_and_the_job_is_redelivered(
    config, outputs, processes
):
    long = job(claps=40)
    worker = processes.start("stopping", CLAP_WORK_MS="100")
    produce(config, long)

    def progressing():
        outputs.poll()
        return PROGRESS in outputs.types(long.id)

    wait_until(progressing, 20, "the job under way")
    wait_until(lambda: group_members(config), 10, "the worker in the group")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(10) == 0, processes.log("stopping")
    assert group_members(config) == []  # left at once, not after a session timeout
    outputs.read_to_end()  # what the stopped worker wrote before it exited
    assert outputs.final(long.id) is None  # stopped between claps, not after the job

    processes.start("successor", CLAP_WORK_MS="5")

    def done():
        outputs.poll()
        return outputs.final(long.id)

    assert wait_until(done, 30, "the job finished").worker == "successor"
    runs = [e for e in outputs.of(long.id) if e.type == RUNNING]
    assert [e.worker for e in runs] == ["stopping", "successor"]
    assert runs[0].offset == runs[1].offset  # not stored, so delivered again


def test_a_static_member_keeps_its_place_across_a_restart(config, outputs, processes):
    first, second = job(claps=1), job(claps=1)

    def done(j):
        def seen():
            outputs.poll()
            return outputs.final(j.id)

        return seen

    worker = processes.start("pod-a", WORKER_INSTANCE_ID="pod-a")
    produce(config, first)
    wait_until(done(first), 20, "the first job")
    [member] = group_members(config)
    assert member.group_instance_id == "pod-a"

    worker.send_signal(signal.SIGTERM)
    assert worker.wait(10) == 0
    # A static member does not leave on shutdown: its partitions wait for it.
    assert [m.group_instance_id for m in group_members(config)] == ["pod-a"]

    processes.start("pod-a-again", WORKER_INSTANCE_ID="pod-a")
    produce(config, second)
    assert wait_until(done(second), 20, "a job after the restart").worker == "pod-a-again"
