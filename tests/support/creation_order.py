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
        assert self.cluster.kubectl_binary is not None, "no kubectl"
        self._process = subprocess.Popen(
            [
                str(self.cluster.kubectl_binary),
                f"--kubeconfig={self.cluster.kubeconfig}",
                "get",
                self.resource,
                "--all-namespaces",
                "--selector",
                self.selector,
                "--watch",
                "--output-watch-events",
                "--output",
                f"jsonpath={FORMAT}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        wait_until(
            self._seen_sentinel.is_set,
            timeout=timeout,
            message=f"the watch on {self.resource} listed {self.sentinel}",
        )
        return self

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            kind, _, name = line.strip().partition(" ")
            if name == self.sentinel:
                self._seen_sentinel.set()
            elif kind == "ADDED" and self._seen_sentinel.is_set():
                with self._lock:
                    self.added.append(name)

    def snapshot(self) -> list[str]:
        with self._lock:
            return list(self.added)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)
