"""The generated PKI: chains that verify for the names the components are reached by."""

import datetime
import ipaddress

from cryptography import x509
from cryptography.x509 import verification
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tools.cluster import certs


def load(path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def server_verifier(ca: x509.Certificate, name: x509.GeneralName):
    store = verification.Store([ca])
    now = datetime.datetime.now(datetime.UTC)
    return verification.PolicyBuilder().store(store).time(now).build_server_verifier(name)


def test_serving_certificates_verify_for_their_names(tmp_path):
    pki = certs.ensure(tmp_path, "keda", ("keda-metrics-apiserver",))
    ca = load(pki.ca.cert)
    for cert, name in [
        (pki.apiserver, x509.IPAddress(ipaddress.ip_address("127.0.0.1"))),
        (pki.apiserver, x509.DNSName("kubernetes.default.svc")),
        (pki.keda, x509.DNSName("keda-metrics-apiserver.keda.svc")),
    ]:
        server_verifier(ca, name).verify(load(cert.cert), [])


def test_the_admin_is_a_cluster_admin_client(tmp_path):
    pki = certs.ensure(tmp_path, "keda", ())
    admin = load(pki.admin.cert)
    assert admin.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == (
        "system:masters"
    )
    usages = admin.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    front = load(pki.front_proxy_client.cert)
    assert front.issuer == load(pki.front_proxy_ca.cert).subject != admin.issuer


def test_existing_material_is_kept(tmp_path):
    first = certs.ensure(tmp_path, "keda", ())
    before = {p: p.read_bytes() for p in tmp_path.iterdir()}
    second = certs.ensure(tmp_path, "keda", ())
    assert first == second
    assert {p: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert oct(first.admin.key.stat().st_mode & 0o777) == "0o600"
