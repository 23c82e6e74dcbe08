"""Helm and rendered-manifest helpers for the chart tests.

The chart is tested the way a user meets it: rendered by the pinned `helm` binary and
sent to a real API server. These helpers run helm, turn its output into objects, and
pick objects out of a rendering.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "kron"

Obj = dict[str, Any]


class HelmError(subprocess.CalledProcessError):
    def __str__(self) -> str:
        return f"{super().__str__()}\nstderr: {self.stderr}\nstdout: {self.stdout[-2000:]}"


@dataclass(frozen=True)
class Helm:
    binary: Path
    kubeconfig: str | None = None

    def run(
        self, *args: str, check: bool = True, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        argv = [str(self.binary), *args]
        if self.kubeconfig:
            argv.append(f"--kubeconfig={self.kubeconfig}")
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise HelmError(result.returncode, argv, result.stdout, result.stderr)
        return result

    def template(
        self,
        values: Mapping[str, Any] | None = None,
        *,
        release: str = "kron",
        namespace: str = "kron-system",
        check: bool = True,
        extra: tuple[str, ...] = (),
    ) -> subprocess.CompletedProcess[str]:
        """`helm template` with `values` given as a values file (types are kept exactly);
        ``extra``: more flags."""
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            yaml.safe_dump(dict(values or {}), f)
            path = f.name
        try:
            return self.run(
                "template", release, str(CHART), "--namespace", namespace, "-f", path, *extra,
                check=check,
            )  # fmt: skip
        finally:
            Path(path).unlink()

    def render(self, values: Mapping[str, Any] | None = None, **kwargs: Any) -> list[Obj]:
        return parse(self.template(values, **kwargs).stdout)


def parse(text: str) -> list[Obj]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def dump(objects: Iterable[Obj]) -> str:
    return yaml.safe_dump_all(list(objects), sort_keys=False)


def of_kind(objects: Iterable[Obj], *kinds: str) -> list[Obj]:
    return [o for o in objects if o["kind"] in kinds]


def one(objects: Iterable[Obj], kind: str, name: str | None = None) -> Obj:
    found = [o for o in of_kind(objects, kind) if name is None or o["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def container(deployment: Obj) -> Obj:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, [c["name"] for c in containers]
    return dict(containers[0])


def resolved_env(deployment: Obj, pod_name: str) -> dict[str, str]:
    """The container's environment as the kubelet would give it to a Pod named
    `pod_name` in the Deployment's namespace (the downward-API fields the chart uses)."""
    fields = {
        "metadata.namespace": deployment["metadata"]["namespace"],
        "metadata.name": pod_name,
    }
    env: dict[str, str] = {}
    for item in container(deployment).get("env", []):
        if "value" in item:
            env[item["name"]] = str(item["value"])
        else:
            path = item["valueFrom"]["fieldRef"]["fieldPath"]
            assert path in fields, f"{item['name']}: unexpected fieldRef {path}"
            env[item["name"]] = fields[path]
    return env


def as_json(obj: Any) -> str:
    return json.dumps(obj)
