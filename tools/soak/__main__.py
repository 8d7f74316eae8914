"""`make soak`: a fresh local stack (its own broker, PostgreSQL, web, recorder and
workers) under load while workers are killed, the web and the broker restart and the
recorder loses its database; reports lost, stuck and doubly completed jobs.

    python -m tools.soak [--short] [--jobs N] [--json FILE] [--keep] ...
"""

import argparse
import dataclasses
import json
import signal
import sys

from tools.djangoenv import setup_django


def arguments(plan_type, short) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.soak",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--short", action="store_true", help=f"{short.jobs} jobs, as in CI")
    for f in dataclasses.fields(plan_type):
        if f.type in (int, float, "int", "float"):
            parser.add_argument(
                f"--{f.name.replace('_', '-')}",
                type=float if f.type in (float, "float") else int,
                help=f"default {f.default} (short: {getattr(short, f.name)})",
            )
    parser.add_argument("--json", help="also write the report to this file")
    parser.add_argument("--keep", action="store_true", help="keep logs and data")
    return parser


def main(argv: list[str] | None = None) -> None:
    setup_django()  # the soak reads its database through the ORM
    # Imported once Django is set up: the soak's modules use the models.
    from tools.postgres import PostgresError
    from tools.soak.run import SHORT, Plan, run

    options = vars(arguments(Plan, SHORT).parse_args(argv))
    # SIGTERM (a CI timeout, kill) unwinds like Ctrl-C: the stack is stopped.
    signal.signal(signal.SIGTERM, _interrupt)
    base = SHORT if options["short"] else Plan()
    chosen = {
        f.name: options[f.name] for f in dataclasses.fields(Plan) if options.get(f.name) is not None
    }
    plan = dataclasses.replace(base, **chosen)
    try:
        report = run(plan, say=lambda line: print(line, flush=True), keep=options["keep"])
    except PostgresError as exc:
        raise SystemExit(f"error: {exc}") from exc
    except KeyboardInterrupt:
        raise SystemExit("error: interrupted; the stack was stopped") from None
    for line in report.lines():
        print(line)
    if options["json"]:
        with open(options["json"], "w") as out:
            out.write(json.dumps(report.as_dict(), indent=2, default=str))
    if not report.ok:
        sys.exit("error: the soak lost, stuck or doubly completed jobs (see above)")
    print("soak passed: 0 lost, 0 stuck, 0 completed twice")


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    main()
