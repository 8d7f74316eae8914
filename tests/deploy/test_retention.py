"""The prune CronJob: runs the retention command nightly, one at a time, with the
settings it reads, and may reach the database."""

import pytest

from tools.deploy.manifests import (
    ALL_BUILDS,
    app_config,
    build_id,
    container_env,
    containers,
    name_of,
    of_kind,
    one,
    selects,
    workloads,
)


@pytest.mark.parametrize("path", ALL_BUILDS, ids=build_id)
def test_prune_runs_nightly_one_at_a_time(path, objects):
    cron = one(objects, "CronJob", "clapstream-prune")
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert len(cron["spec"]["schedule"].split()) == 5
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == ["python", "manage.py", "prune_jobs"]
    assert pod["restartPolicy"] == "Never"
    config = app_config(objects)
    assert int(config["JOB_RETENTION_DAYS"]) >= 1
    assert int(config["DEAD_LETTER_RETENTION_DAYS"]) >= 1


@pytest.mark.parametrize("path", ALL_BUILDS, ids=build_id)
def test_prune_may_reach_the_database(path, objects):
    labels = one(objects, "CronJob", "clapstream-prune")["spec"]["jobTemplate"]["spec"]["template"][
        "metadata"
    ]["labels"]
    reaching = []
    for policy in of_kind(objects, "NetworkPolicy"):
        if selects(policy["spec"]["podSelector"], labels):
            ports = {
                p.get("port") for rule in policy["spec"]["egress"] for p in rule.get("ports", [])
            }
            reaching.append(5432 in ports)
    assert reaching and all(reaching)


def test_the_in_cluster_database_admits_every_pod_given_its_url(built_all):
    """Where a build runs PostgreSQL itself, its policy lets in every pod that has a
    database URL: one it turns away fails at its first query (the prune did, in dev)."""
    guarded, problems = [], []
    for build, objects in built_all.items():
        guards = [
            p
            for p in of_kind(objects, "NetworkPolicy")
            if p["metadata"]["name"] == "clapstream-postgres"
        ]
        for guard, (obj, template) in ((g, w) for g in guards for w in workloads(objects)):
            pod = template["spec"]
            if not any("DATABASE_URL_FILE" in container_env(c, objects) for c in containers(pod)):
                continue
            guarded.append(f"{build}: {name_of(obj)}")
            admitted = any(
                5432 in {p.get("port") for p in rule.get("ports", [])}
                and selects(peer["podSelector"], template["metadata"]["labels"])
                for rule in guard["spec"]["ingress"]
                for peer in rule.get("from", [])
                if "podSelector" in peer
            )
            if not admitted:
                problems.append(f"{build}: {name_of(obj)} is turned away by {name_of(guard)}")
    assert guarded, "no build runs its own database"
    assert not problems, "\n".join(problems)
