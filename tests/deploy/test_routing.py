"""The Ingress, Django's host and TLS settings, and WebSockets agree."""

import pytest

from tests.deploy.manifests import DEPLOYABLE, app_config, build_id, one


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
