"""The Ingress, Django's host and TLS settings, and WebSockets agree."""

import pytest
from django.http.request import split_domain_port, validate_host

from tools.deploy.manifests import DEPLOYABLE, app_config, build_id, container_env, one


@pytest.mark.parametrize("path", DEPLOYABLE, ids=build_id)
def test_ingress_serves_allowed_hosts_with_websocket_timeouts(path, objects):
    settings = app_config(objects)
    ingress = one(objects, "Ingress", "clapstream-web")
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "3600"
    assert annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"] == "3600"
    hosts = {rule["host"] for rule in ingress["spec"]["rules"]}
    assert hosts <= set(settings["ALLOWED_HOSTS"].split(","))
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    service = one(objects, "Service", backend["name"])
    assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}


@pytest.mark.parametrize("path", DEPLOYABLE, ids=build_id)
def test_tls_settings_follow_the_ingress(path, objects):
    """Django redirects to https and sets secure cookies only behind TLS: a plain-HTTP
    ingress with BEHIND_TLS on would redirect every request into nothing."""
    settings = app_config(objects)
    ingress = one(objects, "Ingress", "clapstream-web")
    tls_hosts = {h for tls in ingress["spec"].get("tls", []) for h in tls["hosts"]}
    hosts = {rule["host"] for rule in ingress["spec"]["rules"]}
    behind_tls = settings["BEHIND_TLS"] == "true"
    assert behind_tls == (tls_hosts == hosts)
    scheme = "https" if behind_tls else "http"
    assert settings["CSRF_TRUSTED_ORIGINS"].split(",") == [f"{scheme}://{h}" for h in sorted(hosts)]
    assert settings["DEBUG"] == "false"


@pytest.mark.parametrize("path", DEPLOYABLE, ids=build_id)
@pytest.mark.parametrize(
    ("pod_ip", "host"), [("10.244.1.17", "10.244.1.17:8000"), ("fd00::5", "[fd00::5]:8000")]
)
def test_django_accepts_the_probes_and_the_scrapes(path, objects, pod_ip, host):
    """The kubelet and Prometheus call the pod by IP (an IPv6 one in brackets): a Host
    Django must allow, or every probe gets a 400 and no web pod ever becomes ready."""
    (web,) = one(objects, "Deployment", "clapstream-web")["spec"]["template"]["spec"]["containers"]
    env = container_env(web, objects, fields={"status.podIP": pod_ip})
    allowed = env["ALLOWED_HOSTS"].split(",")
    port = web["readinessProbe"]["httpGet"]["port"]
    assert port == "http" and web["ports"][0]["containerPort"] == 8000
    for name in (host, *app_config(objects)["ALLOWED_HOSTS"].split(",")):
        domain, _ = split_domain_port(name)
        assert validate_host(domain, allowed), name
    assert not validate_host("evil.example.org", allowed)
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert "httpHeaders" not in web[probe]["httpGet"]  # the Host is the pod IP
