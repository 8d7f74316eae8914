"""`make spike-cluster`: the spike profile against the web pod of the local cluster.

    python -m tools.cluster.spike [--rate R] [--peak P] [--seconds S] [--base-seconds B]

Brings the local cluster up (with its node) unless it runs, starts a private broker,
deploys the system as pods (kustomize/tests/pods-e2e, on a throw-away PostgreSQL),
sends the loadgen spike profile to the web pod, and records every second the lag,
the HPA's desired replicas, the Deployment's replicas and the worker pods Ready, until
the workers are back to the minimum. Writes results.json and chart.png (loadgen) and
timeline.json and timeline.png (the scaling chain) into results/<timestamp>/, and
counts accepted against done. The defaults are sized for a two-core machine."""

import argparse
import json
import logging
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from streams.config import kafka_config
from streams.lag import OffsetReader
from tools.broker.process import LocalBroker
from tools.cluster import pods
from tools.cluster.plane import DEFAULT_STATE, Cluster
from tools.cluster.timeline import Timeline, run_stamp
from tools.loadgen.results import new_folder
from tools.ports import free_port
from tools.spike import loadgen_argv, profile_arguments
from tools.stamp import stamp

log = logging.getLogger(__name__)
SCALE_IN_TIMEOUT = 300


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.cluster.spike",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    profile_arguments(parser, rate=2.0, peak=30.0, base_seconds=20.0, users=50)
    parser.add_argument("--work-ms", type=int, default=200, help="per clap (CLAP_WORK_MS)")
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE)
    return parser


def main(argv: list[str] | None = None) -> None:
    o = arguments().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    folder = new_folder(o.results)
    cluster = Cluster(o.state)
    cluster.up()
    scratch = Path(tempfile.mkdtemp(prefix="clapstream-spike-cluster-"))
    broker = LocalBroker(data_dir=scratch / "broker", port=free_port(), controller_port=free_port())
    broker.start()
    try:
        os.environ["KAFKA_BOOTSTRAP_SERVERS"] = broker.bootstrap
        # Every simulated user comes from 127.0.0.1: no per-address limit in the way.
        with pods.running(
            cluster,
            kafka_config(),
            CLAP_SUBMIT_RATE="100000/min",
            CLAP_ADDRESS_RATE="",
            CLAP_WORK_MS=o.work_ms,
        ) as stack:
            print(stamp("began"))
            print(f"web pod at {stack.url}")
            print(
                f"watch: kubectl --kubeconfig {cluster.kubeconfig} -n {pods.NAMESPACE} "
                "get pods,hpa -w\n"
                f"       the Streams dashboard at {stack.url}/admin/streams/ (a staff user: "
                f"kubectl -n {pods.NAMESPACE} exec -it deploy/{pods.WEB} -- "
                "python manage.py createsuperuser)"
            )
            timeline, summary = spike(stack, o, folder)
    finally:
        broker.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    report(folder, timeline, summary, o)


def spike(stack: pods.Stack, o, folder: Path) -> tuple[Timeline, dict]:
    reader = OffsetReader(stack.kafka)

    timeline = Timeline(lambda: stack.sample(reader)).start()
    try:
        timeline.mark("spike profile starts")
        loadgen = loadgen_argv(stack.url, vars(o), folder)
        env = {**os.environ, "DEBUG": "true", **stack.env()}
        if subprocess.run(loadgen, env=env, check=False).returncode != 0:
            raise SystemExit("error: loadgen failed")
        timeline.mark("every job final")
        deadline = time.monotonic() + SCALE_IN_TIMEOUT
        minimum = stack.get("scaledobjects", pods.WORKER)["spec"]["minReplicaCount"]
        while len(stack.worker_pods()) > minimum and time.monotonic() < deadline:
            time.sleep(1)
        timeline.mark("workers back to the minimum")
        time.sleep(5)
    finally:
        timeline.stop()
        reader.close()
    summary = json.loads((folder / "results.json").read_text())["summary"]
    return timeline, summary


def report(folder: Path, timeline: Timeline, summary: dict, o) -> None:
    title = f"make spike-cluster: {o.peak:g} jobs/s for {o.seconds:g} s ({run_stamp()})"
    timeline.save(folder, "timeline", title)
    samples = timeline.samples
    peak_pods = max((s.get("worker_pods") or 0) for s in samples)
    peak_lag = max((s.get("lag") or 0) for s in samples)
    done = summary["outcomes"].get("done", 0)
    print(
        f"spike on the cluster: accepted {summary['accepted']}, done {done}, "
        f"unfinished {summary['unfinished']}; peak lag {peak_lag}, "
        f"at most {peak_pods} worker pods Ready"
    )
    print(stamp("ended"))
    print(f"results in {folder}/ (results.json, chart.png, timeline.json, timeline.png)")
    if done != summary["accepted"]:
        raise SystemExit(f"error: {summary['accepted'] - done} accepted jobs not done")


if __name__ == "__main__":
    main()
