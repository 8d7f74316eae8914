"""python -m tools.broker start|stop|status|fetch [--data-dir D] [--port P]

The development broker of `make run`: 127.0.0.1:19092 (LOCAL_KAFKA_PORT) with its data
in the cache (LOCAL_KAFKA_DATA), kept between runs."""

import argparse
import sys
import time
from pathlib import Path

from tools.broker import BrokerError
from tools.broker.jars import fetch_jars, kafka_version
from tools.broker.process import dev_broker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.broker",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=["start", "stop", "status", "fetch"])
    parser.add_argument("--data-dir", type=Path, help="broker data (default: the dev broker's)")
    parser.add_argument("--port", type=int, help="client port; the controller uses port + 1")
    args = parser.parse_args(argv)
    broker = dev_broker()
    if args.data_dir:
        broker.data_dir = args.data_dir
    if args.port:
        broker.port, broker.controller_port = args.port, args.port + 1
    try:
        if args.action == "fetch":
            print(f"Kafka {kafka_version()} jars in {fetch_jars()}")
        elif args.action == "start":
            began = time.monotonic()
            if broker.start():
                print(
                    f"started Kafka {kafka_version()} at {broker.bootstrap} in "
                    f"{time.monotonic() - began:.1f} s (pid {broker.running_pid()}, "
                    f"log {broker.log_file})"
                )
            else:
                print(
                    f"reusing the broker already started at {broker.bootstrap} "
                    f"(pid {broker.running_pid()})"
                )
        elif args.action == "stop":
            print("stopped the broker" if broker.stop() else "no broker was running")
        else:
            pid = broker.running_pid()
            print(f"running at {broker.bootstrap} (pid {pid})" if pid else "not running")
            return 0 if pid else 3
    except BrokerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
