from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from streams.broker import broker_unless_configured
from webapp.ops.bench.sockets import SocketBench
from webapp.ops.bench.stats import percentile, table


class Command(BaseCommand):
    help = (
        "Measure one web process's job sockets: how many it holds while their jobs "
        "report progress, the delay of that progress, and memory per socket."
    )

    def add_arguments(self, parser):
        parser.add_argument("--sockets", default="500,2000", help="comma-separated counts")
        parser.add_argument("--rate", type=float, default=200.0, help="events/s in total")
        parser.add_argument("--seconds", type=float, default=20.0, help="length of each run")
        parser.add_argument("--per-session", type=int, default=20, help="sockets per session")

    def handle(self, *args, sockets, rate, seconds, per_session, **options):
        rows = []
        with broker_unless_configured(self.stdout.write) as bootstrap:
            call_command("migrate", verbosity=0)
            base = settings.KAFKA.__class__(
                **{**settings.KAFKA.__dict__, "bootstrap_servers": bootstrap}
            )
            for count in [int(n) for n in sockets.split(",")]:
                self.stdout.write(f"{count} sockets, {rate:g} events/s for {seconds:g} s...")
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
        self.stdout.write(table(headers, rows))
