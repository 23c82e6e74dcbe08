"""The state file: which ports, binaries, settings and processes make up a cluster.

It lets ``up`` reuse a running cluster, lets a component be restarted on its old ports
from another process (a test run, the reliability suite), and lets ``down`` find what to
stop. Written atomically; a missing or unreadable file means "no cluster".
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localcluster.components import Ports, Settings
from localcluster.process import ProcessRef

FORMAT = 1


@dataclass
class State:
    bin_dir: Path
    ports: Ports
    settings: Settings
    processes: dict[str, ProcessRef] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "bin_dir": str(self.bin_dir),
            "ports": self.ports.to_json(),
            "settings": self.settings.to_json(),
            "processes": {name: ref.to_json() for name, ref in self.processes.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> State:
        if data.get("format") != FORMAT:
            raise ValueError(f"unsupported state format {data.get('format')!r}")
        return cls(
            bin_dir=Path(data["bin_dir"]),
            ports=Ports.from_json(data["ports"]),
            settings=Settings.from_json(data["settings"]),
            processes={k: ProcessRef.from_json(v) for k, v in data["processes"].items()},
        )


def load(path: Path) -> State | None:
    try:
        return State.from_json(json.loads(path.read_text()))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        # A state file from another version or a half-written one: treat as no cluster;
        # ``down`` still finds the processes by their command lines.
        return None


def save(path: Path, state: State) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state.to_json(), indent=2) + "\n")
    tmp.replace(path)
