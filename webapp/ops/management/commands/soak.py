import dataclasses
import json
import signal

from django.core.management.base import BaseCommand, CommandError

from webapp.ops.soak.postgres import PostgresError
from webapp.ops.soak.run import SHORT, Plan, run


class Command(BaseCommand):
    help = (
        "Soak a fresh local stack (its own broker, PostgreSQL, web, recorder and workers): "
        "submit jobs over HTTP while workers are killed, the web and the broker restart "
        "and the recorder loses its database; report lost, stuck and doubly completed jobs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--short", action="store_true", help=f"{SHORT.jobs} jobs, as in CI")
        for f in dataclasses.fields(Plan):
            if f.type in (int, float, "int", "float"):
                parser.add_argument(
                    f"--{f.name.replace('_', '-')}",
                    type=float if f.type in (float, "float") else int,
                    help=f"default {f.default} (short: {getattr(SHORT, f.name)})",
                )
        parser.add_argument("--json", help="also write the report to this file")
        parser.add_argument("--keep", action="store_true", help="keep logs and data")

    def handle(self, *args, short, json: str | None, keep, **options):
        # SIGTERM (a CI timeout, kill) unwinds like Ctrl-C: the stack is stopped.
        signal.signal(signal.SIGTERM, _interrupt)
        base = SHORT if short else Plan()
        chosen = {
            f.name: options[f.name]
            for f in dataclasses.fields(Plan)
            if options.get(f.name) is not None
        }
        plan = dataclasses.replace(base, **chosen)
        try:
            report = run(plan, say=self.stdout.write, keep=keep)
        except PostgresError as exc:
            raise CommandError(str(exc)) from exc
        except KeyboardInterrupt:
            raise CommandError("interrupted; the stack was stopped") from None
        for line in report.lines():
            self.stdout.write(line)
        if json:
            with open(json, "w") as out:
                out.write(_dumps(report.as_dict()))
        if not report.ok:
            raise CommandError("the soak lost, stuck or doubly completed jobs (see above)")
        self.stdout.write(self.style.SUCCESS("soak passed: 0 lost, 0 stuck, 0 completed twice"))


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def _dumps(data: dict) -> str:
    return json.dumps(data, indent=2, default=str)
