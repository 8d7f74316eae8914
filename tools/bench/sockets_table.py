"""One web process's job sockets: how many it holds while their jobs report progress,
the delay of that progress, and memory per socket."""

from django.conf import settings

from tools.bench.sockets import SocketBench
from tools.bench.stats import percentile, table
from tools.broker.process import broker_unless_configured


def add_arguments(parser) -> None:
    parser.add_argument("--sockets", default="500,2000", help="comma-separated counts")
    parser.add_argument("--rate", type=float, default=200.0, help="events/s in total")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each run")
    parser.add_argument("--per-session", type=int, default=20, help="sockets per session")


def run(sockets, rate, seconds, per_session, **_) -> None:
    rows = []
    with broker_unless_configured(print) as bootstrap:
        base = settings.KAFKA.__class__(
            **{**settings.KAFKA.__dict__, "bootstrap_servers": bootstrap}
        )
        for count in [int(n) for n in sockets.split(",")]:
            print(f"{count} sockets, {rate:g} events/s for {seconds:g} s...")
            with SocketBench(base, count, per_session) as bench:
                run = bench.run(rate, seconds)
            delays = run.delays or [float("nan")]
            rows.append(
                [
                    f"{run.opened}/{run.requested}",
                    run.still_open,
                    f"{run.sent:,}",
                    f"{len(run.delays):,}",
                    *(f"{1000 * percentile(delays, p):.0f} ms" for p in (50, 99)),
                    f"{1000 * max(delays):.0f} ms",
                    f"{run.rss_before_kib / 1024:.0f} MiB",
                    f"{run.rss_after_kib / 1024:.0f} MiB",
                    f"{run.kib_per_socket:.1f} KiB",
                    f"{100 * run.cpu_seconds / run.seconds:.0f} %",
                ]
            )
    headers = [
        "sockets open",
        "open at end",
        "events sent",
        "received",
        "p50 delay",
        "p99 delay",
        "max",
        "RSS before",
        "RSS with sockets",
        "per socket",
        "web CPU",
    ]
    print(table(headers, rows))
