"""The handle the ``cluster`` fixture yields: which cluster, and kubectl against it.

The same tests run against the local control plane, a cluster the user names, or kind;
``local`` is the ``LocalCluster`` only in the first case, so tests that kill components
can skip (with a reason) elsewhere.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from localcluster import LocalCluster


class KubectlError(subprocess.CalledProcessError):
    """A failed kubectl call whose message includes what kubectl said."""

    def __str__(self) -> str:
        return f"{super().__str__()}\nstderr: {self.stderr}\nstdout: {self.stdout}"


@dataclass(frozen=True)
class ClusterHandle:
    kubeconfig: str
    local: LocalCluster | None
    bin_dir: Path | None
    kubectl_binary: Path | None

    def kubectl(
        self,
        *args: str,
        input: str | None = None,
        check: bool = True,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        """Run kubectl against this cluster; ``KubectlError`` on failure when ``check``."""
        if self.kubectl_binary is None:
            raise FileNotFoundError(
                "no kubectl: build the pinned binaries (make binaries) or put kubectl on PATH"
            )
        argv = [str(self.kubectl_binary), f"--kubeconfig={self.kubeconfig}", *args]
        result = subprocess.run(
            argv, input=input, capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and result.returncode != 0:
            raise KubectlError(result.returncode, argv, result.stdout, result.stderr)
        return result

    def service_account_kubeconfig(self, namespace: str, name: str, path: Path) -> str:
        """Create ServiceAccount `name` and write a kubeconfig that acts as it (a
        short-lived token, the cluster's own endpoint and CA); returns its path."""
        self.kubectl("create", "serviceaccount", name, "-n", namespace)
        token = self.kubectl("create", "token", name, "-n", namespace).stdout.strip()
        admin = json.loads(self.kubectl("config", "view", "--raw", "--minify", "-o", "json").stdout)
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "c", "cluster": admin["clusters"][0]["cluster"]}],
            "users": [{"name": name, "user": {"token": token}}],
            "contexts": [{"name": name, "context": {"cluster": "c", "user": name}}],
            "current-context": name,
        }
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        return str(path)
