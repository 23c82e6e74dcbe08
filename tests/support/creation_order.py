"""The order in which the API server created objects, from one watch across namespaces.

A watch delivers events in resourceVersion order, which is the order etcd committed
the writes: the ADDED events of a cluster-wide watch are the creation order of the
objects, across namespaces, with no clock involved. `CreationOrder` runs
`kubectl get --watch` in the background and keeps the ADDED events it sees.

`kubectl get --watch` lists first and then watches from the list's resourceVersion,
so nothing created after the list is missed; a `sentinel` object created beforehand
shows up in the list, which is how `start()` knows the watch is in place.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from support.cluster import ClusterHandle
from support.wait import wait_until

FORMAT = '{.type} {.object.metadata.namespace}/{.object.metadata.name}{"\\n"}'


@dataclass
class CreationOrder:
    cluster: ClusterHandle
    resource: str
    selector: str
    sentinel: str
    """`namespace/name` of an object matching `selector` that exists before `start()`."""
    added: list[str] = field(default_factory=list)
    """`namespace/name` of each object ADDED after the sentinel, in creation order."""
    _process: subprocess.Popen[str] | None = None
    _seen_sentinel: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, timeout: float = 30) -> CreationOrder:
        self._process = kubectl_watch(
            self.cluster,
            [self.resource, "--all-namespaces", "--selector", self.selector],
            FORMAT,
            self._read,
        )
        wait_until(
            self._seen_sentinel.is_set,
            timeout=timeout,
            message=f"the watch on {self.resource} listed {self.sentinel}",
        )
        return self

    def _read(self, line: str) -> None:
        kind, _, name = line.partition(" ")
        if name == self.sentinel:
            self._seen_sentinel.set()
        elif kind == "ADDED" and self._seen_sentinel.is_set():
            with self._lock:
                self.added.append(name)

    def snapshot(self) -> list[str]:
        with self._lock:
            return list(self.added)

    def stop(self) -> None:
        stop(self._process)


@dataclass
class FieldHistory:
    """Every state one object passes through, as `kubectl get NAME --watch` sees them:
    each event's `jsonpath` fields (of `.object`), in the order etcd committed them,
    so no write between two polls goes unseen."""

    cluster: ClusterHandle
    resource: str
    namespace: str
    name: str
    fields: tuple[str, ...]
    """jsonpaths inside the object, e.g. `.status.lastScheduleTime`."""
    values: list[tuple[str, ...]] = field(default_factory=list)
    _process: subprocess.Popen[str] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, timeout: float = 30) -> FieldHistory:
        paths = "\t".join("{.object" + f + "}" for f in self.fields)
        self._process = kubectl_watch(
            self.cluster,
            [self.resource, self.name, "--namespace", self.namespace],
            paths + '{"\\n"}',
            self._read,
        )
        wait_until(self.snapshot, timeout=timeout, message=f"the watch on {self.name} listed it")
        return self

    def _read(self, line: str) -> None:
        with self._lock:
            self.values.append(tuple(line.split("\t")))

    def snapshot(self) -> list[tuple[str, ...]]:
        with self._lock:
            return list(self.values)

    def stop(self) -> None:
        stop(self._process)


def kubectl_watch(
    cluster: ClusterHandle, args: list[str], jsonpath: str, on_line: Callable[[str], None]
) -> subprocess.Popen[str]:
    """`kubectl get ARGS --watch --output-watch-events`, each line (stripped) handed to
    `on_line` from a reader thread."""
    assert cluster.kubectl_binary is not None, "no kubectl"
    process = subprocess.Popen(
        [
            str(cluster.kubectl_binary),
            f"--kubeconfig={cluster.kubeconfig}",
            "get",
            *args,
            "--watch",
            "--output-watch-events",
            "--output",
            f"jsonpath={jsonpath}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            on_line(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    return process


def stop(process: subprocess.Popen[str] | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        process.wait(timeout=10)
