"""`python -m tools.cluster build|up|down|status`: a Kubernetes control plane with KEDA
on loopback, built from the Go module proxy and cached per version."""

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from tools.cluster import build
from tools.cluster.plane import DEFAULT_STATE, Cluster


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.cluster", description=__doc__)
    parser.add_argument(
        "--state",
        type=Path,
        default=Path(os.environ.get("CLUSTER_STATE", DEFAULT_STATE)),
        help="directory of certificates, logs, pids and etcd data (default: var/cluster)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="build etcd, Kubernetes and KEDA unless cached")
    sub.add_parser("up", help="start a fresh cluster (building first if needed)")
    sub.add_parser("down", help="stop every process of the cluster")
    sub.add_parser("status", help="what runs where")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    cluster = Cluster(args.state)
    if args.command == "build":
        timings = build.build_all()
        print(json.dumps(timings, indent=2) if timings else "all binaries cached")
        for wrapper in build.wrappers():
            print(f"{wrapper.component} {wrapper.version}: {wrapper.bin_dir}")
    elif args.command == "up":
        cluster.up()
        print("\n".join(cluster.status()))
        print(f"\nexport KUBECONFIG={cluster.kubeconfig}")
    elif args.command == "down":
        stopped = cluster.down()
        print(f"stopped {', '.join(stopped)}" if stopped else "nothing was running")
    else:
        print("\n".join(cluster.status()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
