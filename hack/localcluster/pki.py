"""The cluster's certificates and keys, made with the ``openssl`` command.

Why openssl: it is on every Debian machine (``.ci/run`` installs it when missing), whereas
Python's ``cryptography`` is not among kron's dependencies. Keys are ECDSA P-256: quick to
generate and accepted everywhere Kubernetes takes a key (serving, client, service-account
token signing).

What is made, once per cluster (reused while the files exist):
- one CA (``ca.crt``/``ca.key``);
- the API server's serving certificate, valid for localhost, 127.0.0.1, the first service
  IP and every ``kubernetes.default...`` name an in-cluster client could use;
- client certificates: ``admin`` (group system:masters, for users, tests and kwok),
  ``system:kube-controller-manager`` and ``system:kube-scheduler`` (the users the API
  server's bootstrap RBAC policy grants to those components);
- the service-account token signing key pair (``sa.key``/``sa.pub``).
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# First address of the service range handed to the API server (see components.py).
SERVICE_CLUSTER_IP_RANGE = "10.96.0.0/12"
KUBERNETES_SERVICE_IP = "10.96.0.1"
SERVING_DNS_NAMES = (
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)
SERVING_IPS = ("127.0.0.1", KUBERNETES_SERVICE_IP)
VALIDITY_DAYS = 3650


@dataclass(frozen=True)
class ClientIdentity:
    """A client certificate's file stem, user name (CN) and groups (O)."""

    stem: str
    user: str
    groups: tuple[str, ...] = ()


ADMIN = ClientIdentity("admin", "kron-admin", ("system:masters",))
CONTROLLER_MANAGER = ClientIdentity("kube-controller-manager", "system:kube-controller-manager")
SCHEDULER = ClientIdentity("kube-scheduler", "system:kube-scheduler")
CLIENTS = (ADMIN, CONTROLLER_MANAGER, SCHEDULER)


@dataclass(frozen=True)
class Pki:
    """Paths of the PKI files under one directory."""

    dir: Path

    @property
    def ca_cert(self) -> Path:
        return self.dir / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.dir / "ca.key"

    @property
    def serving_cert(self) -> Path:
        return self.dir / "kube-apiserver.crt"

    @property
    def serving_key(self) -> Path:
        return self.dir / "kube-apiserver.key"

    @property
    def sa_key(self) -> Path:
        return self.dir / "sa.key"

    @property
    def sa_pub(self) -> Path:
        return self.dir / "sa.pub"

    def client_cert(self, who: ClientIdentity) -> Path:
        return self.dir / f"{who.stem}.crt"

    def client_key(self, who: ClientIdentity) -> Path:
        return self.dir / f"{who.stem}.key"

    def all_files(self) -> list[Path]:
        files = [
            self.ca_cert,
            self.ca_key,
            self.serving_cert,
            self.serving_key,
            self.sa_key,
            self.sa_pub,
        ]
        for who in CLIENTS:
            files += [self.client_cert(who), self.client_key(who)]
        return files


class PkiError(RuntimeError):
    pass


def _openssl(*args: str | Path) -> None:
    if shutil.which("openssl") is None:
        raise PkiError("the openssl command is needed to make the cluster's certificates")
    result = subprocess.run(
        ["openssl", *map(str, args)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise PkiError(f"openssl {args[0]} failed: {result.stderr.strip()}")


def _new_key(path: Path) -> None:
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path)
    path.chmod(0o600)


def _subject(common_name: str, organizations: tuple[str, ...] = ()) -> str:
    return "".join(f"/O={o}" for o in organizations) + f"/CN={common_name}"


def _make_ca(pki: Pki, work: Path) -> None:
    # An explicit config, so the host's openssl.cnf cannot add or clash with extensions.
    config = work / "ca.cnf"
    config.write_text(
        "[req]\ndistinguished_name = dn\n[dn]\n"
        "[v3_ca]\n"
        "basicConstraints = critical,CA:TRUE\n"
        "keyUsage = critical,keyCertSign,cRLSign,digitalSignature\n"
        "subjectKeyIdentifier = hash\n"
    )
    _new_key(pki.ca_key)
    _openssl(
        "req", "-x509", "-new", "-config", config, "-extensions", "v3_ca",
        "-key", pki.ca_key, "-subj", _subject("kron-local-ca"),
        "-days", str(VALIDITY_DAYS), "-sha256", "-out", pki.ca_cert,
    )  # fmt: skip


def _issue(
    pki: Pki, work: Path, *, cert: Path, key: Path, subject: str, usage: str, sans: str = ""
) -> None:
    extensions = work / f"{cert.stem}.ext"
    extensions.write_text(
        "basicConstraints = critical,CA:FALSE\n"
        "keyUsage = critical,digitalSignature,keyEncipherment\n"
        f"extendedKeyUsage = {usage}\n"
        "authorityKeyIdentifier = keyid\n" + (f"subjectAltName = {sans}\n" if sans else "")
    )
    csr = work / f"{cert.stem}.csr"
    config = work / "req.cnf"
    config.write_text("[req]\ndistinguished_name = dn\n[dn]\n")
    _new_key(key)
    _openssl("req", "-new", "-config", config, "-key", key, "-subj", subject, "-out", csr)
    _openssl(
        "x509", "-req", "-in", csr, "-CA", pki.ca_cert, "-CAkey", pki.ca_key,
        "-set_serial", f"0x{secrets.token_hex(16)}", "-days", str(VALIDITY_DAYS),
        "-sha256", "-extfile", extensions, "-out", cert,
    )  # fmt: skip


def ensure_pki(directory: Path) -> Pki:
    """Create the PKI under ``directory`` unless a complete one is already there."""
    pki = Pki(directory)
    if all(p.exists() for p in pki.all_files()):
        return pki
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    with tempfile.TemporaryDirectory(prefix="kron-pki-") as tmp:
        work = Path(tmp)
        _make_ca(pki, work)
        sans = ",".join(
            [f"DNS:{n}" for n in SERVING_DNS_NAMES] + [f"IP:{ip}" for ip in SERVING_IPS]
        )
        _issue(
            pki, work, cert=pki.serving_cert, key=pki.serving_key,
            subject=_subject("kube-apiserver"), usage="serverAuth", sans=sans,
        )  # fmt: skip
        for who in CLIENTS:
            _issue(
                pki, work, cert=pki.client_cert(who), key=pki.client_key(who),
                subject=_subject(who.user, who.groups), usage="clientAuth",
            )  # fmt: skip
    _new_key(pki.sa_key)
    _openssl("pkey", "-in", pki.sa_key, "-pubout", "-out", pki.sa_pub)
    return pki
