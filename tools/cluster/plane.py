"""The control plane on loopback: etcd, kube-apiserver (with the aggregation layer),
kube-controller-manager, kube-scheduler, KEDA's operator and KEDA's metrics API server,
each a local process with its log and pid under one state directory.

With node=True (the default) one node joins: a kubelet on the machine's containerd
(tools/cluster/node.py), tainted so that only the pods e2e overlay runs pods there.
Without it, controllers, HPAs and KEDA act on objects and replica counts only.
"""

import base64
import json
import logging
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from tools import commands, waiting
from tools.cluster import build, certs, node
from tools.cluster.api import Api, ApiError, condition
from tools.cluster.daemons import Daemons, Record
from tools.deploy import fetch
from tools.deploy.manifests import kubectl
from tools.ports import free_port

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_STATE = ROOT / "var" / "cluster"
LOOPBACK = certs.LOOPBACK

KEDA_NAMESPACE = "keda"
KEDA_METRICS_SERVICE = "keda-metrics-apiserver"
KEDA_OPERATOR_SERVICE = "keda-operator"
EXTERNAL_METRICS_APISERVICE = "v1beta1.external.metrics.k8s.io"

# Short enough for tests to watch scaling happen; a real cluster uses 15 s.
HPA_SYNC_PERIOD = "2s"
HPA_DOWNSCALE_STABILIZATION = "5s"


class ClusterError(RuntimeError):
    pass


@dataclass
class Ports:
    etcd: int
    etcd_peer: int
    apiserver: int
    controller_manager: int
    scheduler: int
    keda_metrics: int
    keda_probe: int
    keda_grpc: int
    adapter: int
    adapter_metrics: int

    @classmethod
    def free(cls) -> "Ports":
        return cls(**{f.name: free_port() for f in fields(cls)})


def wait_until(
    check: Callable[[], object], timeout: float, what: str, alive: Callable[[], None] = lambda: None
):
    """Poll check() until it returns something truthy, an OSError or ApiError counting
    as not yet (not listening, or not ready to answer); alive() raises if a daemon died."""
    last: list[Exception] = []

    def ready():
        last.clear()
        try:
            return check()
        except (OSError, ApiError) as exc:
            last.append(exc)
            return None

    def tick():
        alive()
        time.sleep(0.2)

    try:
        return waiting.wait_until(ready, timeout, what, tick=tick)
    except TimeoutError as exc:
        raise ClusterError(f"{exc} ({last[0] if last else 'not yet'})") from None


class Cluster:
    def __init__(self, state: Path = DEFAULT_STATE, tied: bool = False, with_node: bool = True):
        self.state = state
        self.daemons = Daemons(state, tied=tied)
        self.with_node = with_node
        self.node = node.Node(state, self.daemons)
        self.pki = state / "pki"
        self.kubeconfig = state / "admin.kubeconfig"
        self._ports: Ports | None = None

    # -- what is where -------------------------------------------------------

    @property
    def ports(self) -> Ports:
        if self._ports is None:
            saved = self.state / "ports.json"
            if not saved.exists():
                raise ClusterError(f"no cluster in {self.state}: run `python -m tools.cluster up`")
            self._ports = Ports(**json.loads(saved.read_text()))
        return self._ports

    @property
    def server(self) -> str:
        return f"https://{LOOPBACK}:{self.ports.apiserver}"

    def api(self) -> Api:
        return Api(
            LOOPBACK,
            self.ports.apiserver,
            ca=str(self.pki / "ca.crt"),
            cert=str(self.pki / "admin.crt"),
            key=str(self.pki / "admin.key"),
        )

    def kubectl(
        self, *args: str, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess:
        return commands.run(
            [kubectl(), "--kubeconfig", str(self.kubeconfig), *args],
            ClusterError,
            what=f"kubectl {' '.join(args[:3])}",
            check=check,
            input=stdin,
        )

    def running(self) -> list[Record]:
        return [r for r in self.daemons.records() if r.alive()]

    # -- up ------------------------------------------------------------------

    def up(self) -> None:
        if self.daemons.records():
            if all(r.alive() for r in self.daemons.records()):
                log.info("already up (state in %s)", self.state)
                return
            log.info("a previous cluster half runs: stopping it first")
            self.down()
        binaries = build.bin_dirs()
        self._ports = Ports.free()
        self.state.mkdir(parents=True, exist_ok=True)
        (self.state / "ports.json").write_text(json.dumps(asdict(self._ports)))
        pki = certs.ensure(self.pki, KEDA_NAMESPACE, (KEDA_METRICS_SERVICE, KEDA_OPERATOR_SERVICE))
        self._write_kubeconfig(pki)
        keda_certs = self._keda_cert_dir(pki)
        try:
            self._start_etcd(binaries["etcd"])
            self._start_apiserver(binaries["k8s"], pki)
            self._start_controllers(binaries["k8s"], pki)
            self._install_crds()
            self._start_keda(binaries["keda"], keda_certs)
            self._register_external_metrics(pki)
            if self.with_node:
                kubelet = binaries["k8s"] / "kubelet"
                self.node.up(
                    kubelet, self.server, self.pki, self.api(), wait_until, self._alive_check
                )
        except BaseException:
            self.down()
            raise

    def _alive_check(self, name: str) -> Callable[[], None]:
        def check():
            record = self.daemons.get(name)
            if record is None or not record.alive():
                tail = Path(record.log).read_text()[-3000:] if record else ""
                raise ClusterError(f"{name} exited:\n{tail}")

        return check

    def _start_etcd(self, bin_dir: Path) -> None:
        data = self.state / "etcd"
        shutil.rmtree(data, ignore_errors=True)  # every `up` is a fresh, empty cluster
        p = self.ports
        client, peer = f"http://{LOOPBACK}:{p.etcd}", f"http://{LOOPBACK}:{p.etcd_peer}"
        self.daemons.start(
            "etcd",
            [
                str(bin_dir / "etcd"),
                "--name=clapstream",
                f"--data-dir={data}",
                f"--listen-client-urls={client}",
                f"--advertise-client-urls={client}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=clapstream={peer}",
                "--unsafe-no-fsync",  # a throw-away store: speed over durability
                "--log-level=warn",
            ],
        )

        def healthy():
            with urllib.request.urlopen(f"{client}/health", timeout=2) as r:  # noqa: S310 - loopback
                return json.loads(r.read()).get("health") == "true"

        wait_until(healthy, 30, "etcd", self._alive_check("etcd"))

    def _start_apiserver(self, bin_dir: Path, pki: certs.ClusterCerts) -> None:
        p = self.ports
        self.daemons.start(
            "kube-apiserver",
            [
                str(bin_dir / "kube-apiserver"),
                f"--etcd-servers=http://{LOOPBACK}:{p.etcd}",
                f"--bind-address={LOOPBACK}",
                f"--advertise-address={LOOPBACK}",
                f"--secure-port={p.apiserver}",
                f"--cert-dir={self.state / 'apiserver'}",
                f"--tls-cert-file={pki.apiserver.cert}",
                f"--tls-private-key-file={pki.apiserver.key}",
                f"--client-ca-file={pki.ca.cert}",
                "--authorization-mode=Node,RBAC",
                "--allow-privileged=true",
                "--service-cluster-ip-range=10.96.0.0/16",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={pki.service_account_pub}",
                f"--service-account-signing-key-file={pki.service_account_key}",
                # The aggregation layer: requests proxied to extension API servers
                # (KEDA's metrics server) carry the user in headers, vouched for by
                # the front-proxy client certificate.
                f"--requestheader-client-ca-file={pki.front_proxy_ca.cert}",
                "--requestheader-allowed-names=front-proxy-client",
                "--requestheader-username-headers=X-Remote-User",
                "--requestheader-group-headers=X-Remote-Group",
                "--requestheader-extra-headers-prefix=X-Remote-Extra-",
                f"--proxy-client-cert-file={pki.front_proxy_client.cert}",
                f"--proxy-client-key-file={pki.front_proxy_client.key}",
                *node.apiserver_flags(self.pki),
            ],
        )
        api = self.api()
        wait_until(
            lambda: api.request("GET", "/readyz").get("raw", "").strip() == "ok",
            90,
            "kube-apiserver /readyz",
            self._alive_check("kube-apiserver"),
        )

    def _start_controllers(self, bin_dir: Path, pki: certs.ClusterCerts) -> None:
        p = self.ports
        kubeconfig = str(self.kubeconfig)
        common = [
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            f"--bind-address={LOOPBACK}",
            "--leader-elect=false",
        ]
        self.daemons.start(
            "kube-controller-manager",
            [
                str(bin_dir / "kube-controller-manager"),
                *common,
                f"--secure-port={p.controller_manager}",
                f"--cert-dir={self.state / 'controller-manager'}",
                f"--service-account-private-key-file={pki.service_account_key}",
                f"--root-ca-file={pki.ca.cert}",
                f"--cluster-signing-cert-file={pki.ca.cert}",
                f"--cluster-signing-key-file={pki.ca.key}",
                f"--horizontal-pod-autoscaler-sync-period={HPA_SYNC_PERIOD}",
                f"--horizontal-pod-autoscaler-downscale-stabilization={HPA_DOWNSCALE_STABILIZATION}",
            ],
        )
        self.daemons.start(
            "kube-scheduler",
            [
                str(bin_dir / "kube-scheduler"),
                *common,
                f"--secure-port={p.scheduler}",
                f"--cert-dir={self.state / 'scheduler'}",
            ],
        )
        for name, port in (
            ("kube-controller-manager", p.controller_manager),
            ("kube-scheduler", p.scheduler),
        ):
            wait_until(
                lambda port=port: _https_ok(port, "/healthz"),
                60,
                f"{name} /healthz",
                self._alive_check(name),
            )

    def _install_crds(self) -> None:
        apply = ["apply", "--server-side", "--force-conflicts", "-o", "name"]
        # KEDA's as its release installs them (config/crd, with its patches).
        keda = self.kubectl(*apply, "-k", str(fetch.keda_module() / "config" / "crd"))
        # Strimzi's of the newest release the deploy tests check (kafka.strimzi.io/v1).
        newest = fetch.strimzi_crds(fetch.STRIMZI_VERSIONS[-1])
        strimzi = self.kubectl(*apply, *(f"--filename={f}" for f in newest))
        # The prometheus-operator's, for the monitoring component's PodMonitors and rules.
        monitoring = fetch.prometheus_operator_crds()
        prometheus = self.kubectl(*apply, *(f"--filename={f}" for f in monitoring))
        printed = keda.stdout + strimzi.stdout + prometheus.stdout
        names = [line.split("/", 1)[1] for line in printed.split()]
        api = self.api()
        for name in names:
            path = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"
            wait_until(
                lambda path=path: condition(api.get(path), "Established") == "True",
                60,
                f"CRD {name} established",
            )

    def _keda_cert_dir(self, pki: certs.ClusterCerts) -> Path:
        """The layout KEDA reads its mutual-TLS material from (as a mounted Secret)."""
        directory = self.state / "keda-certs"
        directory.mkdir(parents=True, exist_ok=True)
        for name, source in (
            ("ca.crt", pki.ca.cert),
            ("tls.crt", pki.keda.cert),
            ("tls.key", pki.keda.key),
        ):
            shutil.copyfile(source, directory / name)
        return directory

    def _keda_env(self) -> dict[str, str]:
        return {
            "KUBECONFIG": str(self.kubeconfig),
            "WATCH_NAMESPACE": "",  # all namespaces
            "POD_NAMESPACE": KEDA_NAMESPACE,
            "KEDA_CLUSTER_OBJECT_NAMESPACE": KEDA_NAMESPACE,
        }

    def _start_keda(self, bin_dir: Path, cert_dir: Path) -> None:
        p = self.ports
        api = self.api()
        api.apply(
            f"/api/v1/namespaces/{KEDA_NAMESPACE}",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": KEDA_NAMESPACE}},
        )
        self.daemons.start(
            "keda-operator",
            [
                str(bin_dir / "keda-operator"),
                f"--metrics-bind-address={LOOPBACK}:{p.keda_metrics}",
                f"--health-probe-bind-address={LOOPBACK}:{p.keda_probe}",
                f"--metrics-service-bind-address={LOOPBACK}:{p.keda_grpc}",
                f"--cert-dir={cert_dir}",
                f"--ca-dir={cert_dir}",
                "--enable-cert-rotation=false",
                "--zap-log-level=info",
            ],
            self._keda_env(),
        )
        kubeconfig = str(self.kubeconfig)
        self.daemons.start(
            "keda-adapter",
            [
                str(bin_dir / "keda-adapter"),
                f"--bind-address={LOOPBACK}",
                f"--secure-port={p.adapter}",
                f"--cert-dir={cert_dir}",
                f"--tls-cert-file={cert_dir / 'tls.crt'}",
                f"--tls-private-key-file={cert_dir / 'tls.key'}",
                f"--metrics-service-address={LOOPBACK}:{p.keda_grpc}",
                # Its own Prometheus endpoint; KEDA binds it on every interface.
                f"--port={p.adapter_metrics}",
                f"--lister-kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                "--zap-log-level=info",
            ],
            self._keda_env(),
        )

        def operator_ready():
            url = f"http://{LOOPBACK}:{p.keda_probe}/readyz"
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.status == 200

        wait_until(operator_ready, 60, "keda-operator /readyz", self._alive_check("keda-operator"))

    def _register_external_metrics(self, pki: certs.ClusterCerts) -> None:
        """KEDA's metrics server as the external metrics API.

        The aggregator would reach a selector-less Service through its EndpointSlice,
        but the API refuses loopback addresses in EndpointSlices (and Endpoints), and
        with no kube-proxy no cluster IP leads anywhere. An ExternalName Service does:
        the aggregator dials its name (localhost) at the APIService's port, and still
        verifies the server certificate as <service>.<namespace>.svc.
        """
        p = self.ports
        api = self.api()
        api.apply(
            f"/api/v1/namespaces/{KEDA_NAMESPACE}/services/{KEDA_METRICS_SERVICE}",
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": KEDA_METRICS_SERVICE, "namespace": KEDA_NAMESPACE},
                "spec": {"type": "ExternalName", "externalName": "localhost"},
            },
        )
        api.apply(
            f"/apis/apiregistration.k8s.io/v1/apiservices/{EXTERNAL_METRICS_APISERVICE}",
            {
                "apiVersion": "apiregistration.k8s.io/v1",
                "kind": "APIService",
                "metadata": {"name": EXTERNAL_METRICS_APISERVICE},
                "spec": {
                    "group": "external.metrics.k8s.io",
                    "version": "v1beta1",
                    "service": {
                        "namespace": KEDA_NAMESPACE,
                        "name": KEDA_METRICS_SERVICE,
                        "port": p.adapter,
                    },
                    "caBundle": base64.b64encode(pki.ca.cert.read_bytes()).decode(),
                    "groupPriorityMinimum": 100,
                    "versionPriority": 100,
                },
            },
        )
        path = f"/apis/apiregistration.k8s.io/v1/apiservices/{EXTERNAL_METRICS_APISERVICE}"
        wait_until(
            lambda: condition(api.get(path), "Available") == "True",
            90,
            f"APIService {EXTERNAL_METRICS_APISERVICE} Available",
            self._alive_check("keda-adapter"),
        )

    def _write_kubeconfig(self, pki: certs.ClusterCerts) -> None:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "clapstream",
                    "cluster": {"server": self.server, "certificate-authority": str(pki.ca.cert)},
                }
            ],
            "users": [
                {
                    "name": "clapstream-admin",
                    "user": {
                        "client-certificate": str(pki.admin.cert),
                        "client-key": str(pki.admin.key),
                    },
                }
            ],
            "contexts": [
                {
                    "name": "clapstream",
                    "context": {"cluster": "clapstream", "user": "clapstream-admin"},
                }
            ],
            "current-context": "clapstream",
        }
        self.kubeconfig.write_text(json.dumps(config, indent=2))
        self.kubeconfig.chmod(0o600)

    # -- down and status -----------------------------------------------------

    def down(self) -> list[str]:
        # The node's containers first, then the kubelet and containerd.
        stopped = self.node.down() + self.daemons.stop_all()
        (self.state / "ports.json").unlink(missing_ok=True)
        self._ports = None
        return stopped

    def status(self) -> list[str]:
        records = self.daemons.records()
        if not records:
            return [f"no cluster running (state in {self.state})"]
        p = self.ports
        where = {
            "etcd": f"http://{LOOPBACK}:{p.etcd}",
            "kube-apiserver": self.server,
            "kube-controller-manager": f"https://{LOOPBACK}:{p.controller_manager}/healthz",
            "kube-scheduler": f"https://{LOOPBACK}:{p.scheduler}/healthz",
            "keda-operator": f"grpc {LOOPBACK}:{p.keda_grpc}, metrics http://{LOOPBACK}:{p.keda_metrics}/metrics",
            "keda-adapter": f"https://{LOOPBACK}:{p.adapter} ({EXTERNAL_METRICS_APISERVICE})",
            **self.node.where(),
        }
        lines = []
        for r in records:
            state = "running" if r.alive() else "EXITED"
            lines.append(f"{r.name:<24} {state:<8} pid {r.pid:<8} {where.get(r.name, '')}")
            lines.append(f"{'':<24} log {r.log}")
        lines.append(f"KUBECONFIG={self.kubeconfig}")
        return lines


def _https_ok(port: int, path: str) -> bool:
    """A component's own /healthz, served with a self-signed certificate."""
    import ssl

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    url = f"https://{LOOPBACK}:{port}{path}"
    with urllib.request.urlopen(url, timeout=2, context=context) as r:
        return r.status == 200
