"""The control plane's key material, generated once per state directory.

Like kind or envtest: one cluster CA signs the serving certificates and the client
certificates (the admin is in system:masters), a separate front-proxy CA signs the
aggregator's client certificate (requestheader authentication of extension API
servers), and one RSA key pair signs and verifies service-account tokens.
"""

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=365)
# The first address of the service range: the `kubernetes` Service's cluster IP.
KUBERNETES_SERVICE_IP = "10.96.0.1"
APISERVER_NAMES = [
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
]
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Pair:
    cert: Path
    key: Path


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _write_key(key: rsa.RSAPrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _name(common_name: str, organization: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


def _builder(subject: x509.Name, issuer: x509.Name, public_key) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
    )


def _key_usage(ca: bool) -> x509.KeyUsage:
    """A CA signs certificates; a leaf signs handshakes and (RSA) enciphers keys."""
    return x509.KeyUsage(
        digital_signature=True,
        key_encipherment=not ca,
        key_cert_sign=ca,
        crl_sign=ca,
        content_commitment=False,
        data_encipherment=False,
        key_agreement=False,
        encipher_only=False,
        decipher_only=False,
    )


class Authority:
    """A self-signed CA that issues leaf certificates into a directory."""

    def __init__(self, directory: Path, name: str):
        self.directory = directory
        self.pair = Pair(directory / f"{name}.crt", directory / f"{name}.key")
        if self.pair.cert.exists() and self.pair.key.exists():
            self.key = serialization.load_pem_private_key(self.pair.key.read_bytes(), None)
            self.cert = x509.load_pem_x509_certificate(self.pair.cert.read_bytes())
            return
        self.key = _key()
        subject = _name(f"clapstream-{name}")
        self.cert = (
            _builder(subject, subject, self.key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False
            )
            .add_extension(_key_usage(ca=True), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        _write_key(self.key, self.pair.key)
        self.pair.cert.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(
        self,
        name: str,
        common_name: str,
        *,
        organization: str | None = None,
        dns: tuple[str, ...] = (),
        ips: tuple[str, ...] = (),
        server: bool = False,
        client: bool = False,
    ) -> Pair:
        pair = Pair(self.directory / f"{name}.crt", self.directory / f"{name}.key")
        if pair.cert.exists() and pair.key.exists():
            return pair
        key = _key()
        usages = [ExtendedKeyUsageOID.SERVER_AUTH] * server + [
            ExtendedKeyUsageOID.CLIENT_AUTH
        ] * client
        builder = (
            _builder(_name(common_name, organization), self.cert.subject, key.public_key())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(ca=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        )
        if dns or ips:
            names = [x509.DNSName(d) for d in dns] + [
                x509.IPAddress(ipaddress.ip_address(i)) for i in ips
            ]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        _write_key(key, pair.key)
        pair.cert.write_bytes(
            builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
        )
        return pair


@dataclass(frozen=True)
class ClusterCerts:
    ca: Pair
    apiserver: Pair
    admin: Pair
    front_proxy_ca: Pair
    front_proxy_client: Pair
    service_account_key: Path
    service_account_pub: Path
    keda: Pair  # KEDA's metrics API and its gRPC link to the operator (mutual TLS)


def service_account_keys(directory: Path) -> tuple[Path, Path]:
    private, public = directory / "sa.key", directory / "sa.pub"
    if not (private.exists() and public.exists()):
        key = _key()
        _write_key(key, private)
        public.write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    return private, public


def ensure(directory: Path, keda_namespace: str, keda_services: tuple[str, ...]) -> ClusterCerts:
    """Every certificate and key the cluster needs, created where missing."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = Authority(directory, "ca")
    front_proxy = Authority(directory, "front-proxy-ca")
    sa_key, sa_pub = service_account_keys(directory)
    keda_names = tuple(
        f"{service}.{keda_namespace}.{suffix}"
        for service in keda_services
        for suffix in ("svc", "svc.cluster.local")
    )
    return ClusterCerts(
        ca=ca.pair,
        apiserver=ca.issue(
            "apiserver",
            "kube-apiserver",
            dns=tuple(APISERVER_NAMES),
            ips=(LOOPBACK, KUBERNETES_SERVICE_IP),
            server=True,
        ),
        admin=ca.issue("admin", "clapstream-admin", organization="system:masters", client=True),
        front_proxy_ca=front_proxy.pair,
        front_proxy_client=front_proxy.issue(
            "front-proxy-client", "front-proxy-client", client=True
        ),
        service_account_key=sa_key,
        service_account_pub=sa_pub,
        keda=ca.issue(
            "keda",
            "keda",
            dns=("localhost", *keda_names),
            ips=(LOOPBACK,),
            server=True,
            client=True,
        ),
    )
