"""Find the pinned Kubernetes, etcd, kwok and helm binaries (building them if needed).

``hack/build-binaries.sh`` is the single place that knows versions, the cache layout and
the user overrides (``KRON_BIN_DIR``, ``KUBEBUILDER_ASSETS``); this module only runs it
and reads the directory it prints, so Make, CI and Python always agree.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from localcluster.layout import REPO_ROOT

BUILD_SCRIPT = REPO_ROOT / "hack" / "build-binaries.sh"
ALL = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kwok")
NOT_BUILT = 3  # the script's exit code for --no-build when something is missing


class BinariesError(RuntimeError):
    pass


def resolve(*, build: bool = True) -> Path:
    """The directory holding every pinned binary.

    With ``build=False`` nothing is compiled: ``BinariesError`` if they are not there yet.
    The script's progress and errors go straight to stderr (a cold build takes a while).
    """
    argv = ["bash", str(BUILD_SCRIPT)] + ([] if build else ["--no-build"])
    # Building streams progress to our stderr; a lookup keeps quiet unless it fails.
    stderr = None if build else subprocess.PIPE
    result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=stderr, text=True, check=False)
    if result.returncode != 0:
        what = "are not built yet" if result.returncode == NOT_BUILT else "could not be built"
        said = (result.stderr or "").strip() or "its message is above"
        raise BinariesError(f"the pinned binaries {what}: {said}")
    lines = result.stdout.strip().splitlines()
    if not lines:
        raise BinariesError(f"{BUILD_SCRIPT.name} printed no directory")
    return Path(lines[-1])


def kubectl_for_external_cluster() -> Path | None:
    """A kubectl for talking to a cluster we did not start: ours if already built (or
    brought by the user), else the one on PATH. Never triggers a build."""
    try:
        return resolve(build=False) / "kubectl"
    except BinariesError:
        found = shutil.which("kubectl")
        return Path(found) if found else None
