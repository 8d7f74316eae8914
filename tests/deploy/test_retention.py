"""The prune CronJob: runs the retention command nightly, one at a time, with the
settings it reads, and may reach the database."""

import pytest

from tools.deploy.manifests import ALL_BUILDS, app_config, build_id, of_kind, one


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
        selector = policy["spec"]["podSelector"]
        if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
            continue
        expressions = selector.get("matchExpressions", [])
        if all(labels.get(e["key"]) in e["values"] for e in expressions if e["operator"] == "In"):
            ports = {
                p.get("port") for rule in policy["spec"]["egress"] for p in rule.get("ports", [])
            }
            reaching.append(5432 in ports)
    assert reaching and all(reaching)
