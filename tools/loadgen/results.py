"""A run's results folder: results.json (plan, summary, timelines, every request) and
chart.png."""

import dataclasses
import json
import math
from datetime import datetime
from pathlib import Path

from tools.loadgen.chart import draw
from tools.loadgen.runner import LoadRun
from tools.loadgen.summary import per_second, summarise


def new_folder(root: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for n in range(1, 100):
        folder = root / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            folder.mkdir(parents=True)
            return folder
        except FileExistsError:
            continue
    raise FileExistsError(f"no free results folder under {root}")


def _finite(value):
    return None if isinstance(value, float) and math.isnan(value) else value


def save(run: LoadRun, folder: Path, extra: dict | None = None) -> dict:
    """Write the run's results into folder; returns the summary."""
    folder.mkdir(parents=True, exist_ok=True)
    summary = summarise(run.requests)
    seconds = per_second(run.requests, run.began)
    samples = [{**s, "second": s["at"] - run.began} for s in run.samples]
    plan = dataclasses.asdict(run.plan)
    data = {
        "plan": plan,
        **(extra or {}),
        "began": run.began,
        "summary": summary,
        "per_second": {k: [_finite(v) for v in vs] for k, vs in seconds.items()},
        "samples": samples,
        "requests": [dataclasses.asdict(r) for r in run.requests],
    }
    (folder / "results.json").write_text(json.dumps(data, indent=1))
    profile = run.plan.profile
    draw(
        folder / "chart.png",
        f"{profile.name} load, {run.plan.claps} clap(s) per job: "
        f"{summary.get('accepted', 0)} accepted, {summary.get('done', 0)} done",
        seconds,
        samples,
    )
    return summary
