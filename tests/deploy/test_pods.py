"""Every pod is hardened, probed and sized; every image is pinned; the processes with
special needs (web, workers, single writers) get them."""

import re

import pytest

from tools.deploy.manifests import (
    ALL_BUILDS,
    DEPLOYABLE,
    PODS_E2E,
    VERSION_LABEL,
    build_id,
    container_env,
    containers,
    environment,
    job,
    name_of,
    of_kind,
    one,
    selects,
    workloads,
)
from tools.web import ASGI_APP, DAPHNE_OPTIONS

APP_UID = 10001


@pytest.mark.parametrize("path", ALL_BUILDS, ids=build_id)
def test_pods_are_hardened(path, objects):
    problems = []
    for obj, template in workloads(objects):
        pod = template["spec"]
        ctx = pod.get("securityContext", {})
        if not (ctx.get("runAsNonRoot") is True and ctx.get("runAsUser", 0) > 0):
            problems.append(f"{name_of(obj)}: pod may run as root")
        if ctx.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            problems.append(f"{name_of(obj)}: pod seccompProfile is not RuntimeDefault")
        if pod.get("automountServiceAccountToken") is not False:
            problems.append(f"{name_of(obj)}: a service account token is mounted")
        # Only the pods e2e overlay keeps every packet on the machine's loopback.
        host_network = pod.get("hostNetwork") and path != PODS_E2E
        if host_network or pod.get("hostPID") or pod.get("hostIPC"):
            problems.append(f"{name_of(obj)}: shares a host namespace")
        for c in containers(pod):
            sc = c.get("securityContext", {})
            where = f"{name_of(obj)}/{c['name']}"
            expected = {
                "runAsNonRoot": True,
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
            }
            for key, value in expected.items():
                if sc.get(key) is not value:
                    problems.append(f"{where}: securityContext.{key} is not {value}")
            if sc.get("capabilities", {}).get("drop") != ["ALL"] or sc["capabilities"].get("add"):
                problems.append(f"{where}: capabilities are not exactly drop [ALL]")
            if sc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
                problems.append(f"{where}: seccompProfile is not RuntimeDefault")
            if sc.get("privileged"):
                problems.append(f"{where}: privileged")
    assert not problems


@pytest.mark.parametrize("path", ALL_BUILDS, ids=build_id)
def test_app_pods_run_as_the_images_user(path, objects):
    for obj, template in workloads(objects):
        if template["metadata"]["labels"]["app.kubernetes.io/name"] != "clapstream":
            continue
        assert template["spec"]["securityContext"]["runAsUser"] == APP_UID, name_of(obj)
        assert template["spec"]["serviceAccountName"] == "clapstream"
        for c in containers(template["spec"]):
            assert c["securityContext"]["runAsUser"] == APP_UID, name_of(obj)


@pytest.mark.parametrize("path", ALL_BUILDS, ids=build_id)
def test_containers_have_requests_limits_and_probes(path, objects):
    problems = []
    for obj, template in workloads(objects):
        for c in containers(template["spec"]):
            where = f"{name_of(obj)}/{c['name']}"
            resources = c.get("resources", {})
            for kind in ("requests", "limits"):
                for res in ("cpu", "memory"):
                    if res not in resources.get(kind, {}):
                        problems.append(f"{where}: no {res} {kind[:-1]}")
            if obj["kind"] in {"Job", "CronJob"}:
                continue  # run to completion: nothing to probe
            for probe in ("readinessProbe", "livenessProbe"):
                if probe not in c:
                    problems.append(f"{where}: no {probe}")
    assert not problems


@pytest.mark.parametrize("path", ALL_BUILDS, ids=build_id)
def test_writable_paths_are_mounted_volumes(path, objects):
    """The root file system is read-only: /tmp must be a volume for Python and the
    worker's heartbeat."""
    for obj, template in workloads(objects):
        for c in containers(template["spec"]):
            mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
            assert "/tmp" in mounts, f"{name_of(obj)}/{c['name']} has no /tmp volume"


IMAGE = re.compile(
    r"^(?P<repo>[^@]+?)(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)


def test_prod_reserves_the_memory_each_process_may_use(built_all):
    """Memory request = limit in prod, for every process, the Jobs too: a node under
    pressure evicts first the pods that use more than they asked for."""
    objects = built_all["kustomize/overlays/prod"]
    sizes = {
        name_of(obj): {c["resources"]["requests"]["memory"] for c in containers(t["spec"])}
        | {c["resources"]["limits"]["memory"] for c in containers(t["spec"])}
        for obj, t in workloads(objects)
    }
    assert {name: len(size) for name, size in sizes.items()} == dict.fromkeys(sizes, 1)
    assert {"Deployment", "Job", "CronJob"} <= {name.split("/")[0] for name in sizes}


def test_every_pod_of_the_pods_e2e_build_runs_on_the_node(built_all):
    """The node is tainted for these pods and pulls nothing; they reach the broker and
    PostgreSQL on its loopback, so a pod template the patch misses never runs there."""
    objects = built_all[build_id(PODS_E2E)]
    placed = []
    for obj, template in workloads(objects):
        pod = template["spec"]
        assert pod.get("hostNetwork") is True, name_of(obj)
        assert {t["key"] for t in pod.get("tolerations", [])} == {"clapstream.dev/pods"}
        assert {c["imagePullPolicy"] for c in containers(pod)} == {"Never"}, name_of(obj)
        placed.append(obj["kind"])
    assert {"Deployment", "Job", "CronJob"} <= set(placed)


@pytest.mark.parametrize("path", DEPLOYABLE, ids=build_id)
def test_images_are_pinned(path, objects):
    app_images = set()
    for obj, template in workloads(objects):
        for c in containers(template["spec"]):
            match = IMAGE.match(c["image"])
            assert match, f"{name_of(obj)}: malformed image {c['image']}"
            assert match["tag"] or match["digest"], f"{name_of(obj)}: {c['image']} is not pinned"
            assert match["tag"] != "latest", f"{name_of(obj)}: {c['image']} uses :latest"
            if template["metadata"]["labels"]["app.kubernetes.io/name"] == "clapstream":
                app_images.add(c["image"])
    # One image for every process, and the version label names it.
    (image,) = app_images
    tag = IMAGE.match(image)["tag"]
    versions = {o["metadata"]["labels"][VERSION_LABEL] for o in objects}
    assert versions == {tag} or IMAGE.match(image)["digest"]


@pytest.mark.parametrize("path", ALL_BUILDS, ids=build_id)
def test_each_process_runs_its_command(path, objects):
    commands = {
        (
            "Deployment",
            "clapstream-web",
        ): f"python -m webapp.server -b 0.0.0.0 -p 8000 --proxy-headers "
        f"{' '.join(DAPHNE_OPTIONS)} {ASGI_APP}",
        ("Deployment", "clapstream-worker"): "python -m worker",
        ("Deployment", "clapstream-recorder"): "python manage.py record_events",
        ("Deployment", "clapstream-sampler"): "python manage.py sample_streams",
        ("Job", "clapstream-migrate"): "python manage.py migrate --noinput",
        ("Job", "clapstream-topics"): "python manage.py ensure_topics",
    }
    for (kind, name), command in commands.items():
        obj = job(objects, name) if kind == "Job" else one(objects, kind, name)
        (container,) = obj["spec"]["template"]["spec"]["containers"]
        assert " ".join(container["command"]) == command


@pytest.mark.parametrize("path", ALL_BUILDS, ids=build_id)
def test_web_probes_and_graceful_stop(path, objects):
    web = one(objects, "Deployment", "clapstream-web")["spec"]["template"]["spec"]
    (container,) = web["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz?check=database"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    sleep = container["lifecycle"]["preStop"]["exec"]["command"]
    assert sleep[0] == "sleep" and int(sleep[1]) < web["terminationGracePeriodSeconds"]
    # The secrets arrive as files.
    env = container_env(container, objects)
    for name in ("SECRET_KEY", "DATABASE_URL", "METRICS_TOKEN"):
        assert env[f"{name}_FILE"].startswith("/var/run/secrets/"), name
        mounts = [m["mountPath"] for m in container["volumeMounts"]]
        assert any(env[f"{name}_FILE"].startswith(m + "/") for m in mounts), name


@pytest.mark.parametrize("path", ALL_BUILDS, ids=build_id)
def test_worker_leaves_the_group_before_it_is_killed(path, objects):
    pod = one(objects, "Deployment", "clapstream-worker")["spec"]["template"]["spec"]
    (worker,) = pod["containers"]
    env = container_env(worker, objects)
    # The worker's id comes from the pod name; no static membership, so a stopping
    # pod leaves the group at once instead of stranding its partitions.
    (var,) = [e for e in worker["env"] if e["name"] == "WORKER_ID"]
    assert var["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert "WORKER_INSTANCE_ID" not in env
    grace = int(env["WORKER_GRACE_SECONDS"])
    assert grace == 20
    assert pod["terminationGracePeriodSeconds"] >= grace + 10
    # Liveness: the heartbeat the worker touches only while a live group member.
    assert worker["livenessProbe"]["exec"]["command"] == ["python", "-m", "worker.liveness"]
    heartbeat = env["WORKER_HEARTBEAT_FILE"]
    tmp = next(m for m in worker["volumeMounts"] if heartbeat.startswith(m["mountPath"] + "/"))
    volume = next(v for v in pod["volumes"] if v["name"] == tmp["name"])
    assert "emptyDir" in volume
    # Metrics on the configured port, and nothing else open; on the host's network
    # (pods e2e) several workers would claim the same port: none at all.
    if path == PODS_E2E:
        assert "ports" not in worker and env["WORKER_METRICS_PORT"] == "0"
    else:
        (port,) = worker["ports"]
        assert port["containerPort"] == int(env["WORKER_METRICS_PORT"]) == 9102


@pytest.mark.parametrize("path", ALL_BUILDS, ids=build_id)
def test_single_writers_never_overlap(path, objects):
    """The sampler samples once; recorders are a consumer group (each member the one
    writer of its partitions), so their count is a setting within the partitions."""
    spec = one(objects, "Deployment", "clapstream-sampler")["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"]["type"] == "Recreate"
    recorders = one(objects, "Deployment", "clapstream-recorder")["spec"]["replicas"]
    assert 1 <= recorders <= 12  # partitions of clap.events


@pytest.mark.parametrize("path", ALL_BUILDS, ids=build_id)
def test_every_pod_is_fenced_by_a_network_policy(path, objects):
    policies = of_kind(objects, "NetworkPolicy")
    for obj, template in workloads(objects):
        labels = template["metadata"]["labels"]
        mine = [p for p in policies if selects(p["spec"]["podSelector"], labels)]
        assert mine, f"{name_of(obj)} is selected by no NetworkPolicy"
        types = {t for p in mine for t in p["spec"]["policyTypes"]}
        assert types == {"Ingress", "Egress"}, name_of(obj)


@pytest.mark.parametrize("path", ALL_BUILDS, ids=build_id)
def test_network_policies_open_only_the_served_ports(path, objects):
    def ingress_ports(component):
        policy = one(objects, "NetworkPolicy", f"clapstream-{component}")
        return {p["port"] for rule in policy["spec"].get("ingress", []) for p in rule["ports"]}

    assert ingress_ports("web") == {8000}
    assert ingress_ports("worker") == {9102}
    assert ingress_ports("recorder") == {9102}
    assert ingress_ports("backend") == set()
    web = one(objects, "NetworkPolicy", "clapstream-web")["spec"]["ingress"][0]["from"]
    controller = web[0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
    assert controller == environment(path).get("ingressControllerNamespace", "ingress-nginx")
