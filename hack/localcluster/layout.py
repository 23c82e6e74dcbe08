"""Where the local cluster keeps its files.

One directory (``.local-cluster/`` in the repository root by default) holds everything a
running cluster needs, so ``down`` can remove it in one step and nothing leaks into the
user's home. This module only names paths; it creates nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ROOT = REPO_ROOT / ".local-cluster"


@dataclass(frozen=True)
class Layout:
    """The file layout under one cluster root directory."""

    root: Path

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def etcd_data(self) -> Path:
        return self.root / "etcd"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def bin_links(self) -> Path:
        """``kubectl`` and ``helm`` symlinks for people typing commands by hand."""
        return self.root / "bin"

    @property
    def kubeconfig(self) -> Path:
        """The admin kubeconfig handed to users and tests (group system:masters)."""
        return self.root / "kubeconfig"

    @property
    def component_kubeconfigs(self) -> Path:
        return self.root / "kubeconfigs"

    @property
    def kwok_home(self) -> Path:
        """HOME for kwok, so a stray ~/.kwok/kwok.yaml cannot add stages of its own."""
        return self.root / "kwok-home"

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def lock_file(self) -> Path:
        return self.root / ".lock"

    def log(self, component: str) -> Path:
        return self.logs / f"{component}.log"

    def component_kubeconfig(self, user: str) -> Path:
        return self.component_kubeconfigs / f"{user}.kubeconfig"
