"""``LocalCluster``: bring the local control plane up and down, and poke single components.

The reliability tests need what no ready-made tool gives together: kill -9 the API server
or etcd, start it again on the same ports with the same data, and know when it is healthy.
Everything here works across processes: the state file records ports and process
identities, so ``make cluster-up`` can start the cluster and a test run can restart one of
its components.
"""

from __future__ import annotations

import fcntl
import logging
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from localcluster import binaries, bootstrap, kubeconfig, ports, process
from localcluster.components import (
    APISERVER,
    COMPONENTS,
    CONTROLLER_MANAGER,
    ETCD,
    KWOK,
    SCHEDULER,
    Context,
    Ports,
    Settings,
    command,
    environment,
)
from localcluster.health import probe
from localcluster.layout import DEFAULT_ROOT, Layout
from localcluster.pki import ADMIN, ClientIdentity, Pki, ensure_pki
from localcluster.pki import CONTROLLER_MANAGER as KCM_USER
from localcluster.pki import SCHEDULER as SCHED_USER
from localcluster.state import State, load, save

log = logging.getLogger("localcluster")

# Which settings a component is started with; changing one restarts that component.
_SETTINGS_OF = {
    CONTROLLER_MANAGER: ("kcm_qps", "kcm_burst"),
    SCHEDULER: ("scheduler_qps", "scheduler_burst"),
}
_PORT_RELEASE_TIMEOUT = 15.0
_STOP_GRACE = 10.0
_LOG_TAIL_LINES = 15


class ClusterError(RuntimeError):
    """The local cluster cannot do what was asked; the message says why and what to do."""


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


class LocalCluster:
    """A Kubernetes control plane of local processes under ``root``.

    ``bin_dir`` overrides where the binaries come from; by default the running cluster's
    (from its state file) or the pinned build's (``hack/build-binaries.sh``, which builds
    them on first use and honours ``KRON_BIN_DIR`` and ``KUBEBUILDER_ASSETS``).
    """

    def __init__(self, root: Path = DEFAULT_ROOT, bin_dir: Path | None = None) -> None:
        self.root = Path(root).absolute()
        self.layout = Layout(self.root)
        self._bin_dir = Path(bin_dir).absolute() if bin_dir is not None else None

    def __repr__(self) -> str:
        return f"LocalCluster(root={str(self.root)!r})"

    # -- public surface -------------------------------------------------------------

    @property
    def kubeconfig(self) -> Path:
        """Admin kubeconfig (user kron-admin, group system:masters)."""
        return self.layout.kubeconfig

    @property
    def bin_dir(self) -> Path:
        """Directory of the binaries. May build them (minutes) if nothing says otherwise."""
        if self._bin_dir is None:
            state = load(self.layout.state_file)
            self._bin_dir = state.bin_dir if state else binaries.resolve()
        return self._bin_dir

    def up(self, *, timeout: float = 300.0) -> None:
        """Start whatever is not running and wait until the whole cluster is healthy.

        Idempotent: running components are reused (same ports, same data) and only the
        simulated Nodes are re-applied. Settings given through the environment
        (``KRON_KCM_QPS``...) that differ from the running cluster's restart the affected
        component, and so does any other change to a component's command line (a
        controller added to the list, a new flag).
        """
        deadline = time.monotonic() + timeout
        with self._locked():
            state = load(self.layout.state_file)
            if state is None:
                self._stop_orphans()
            wanted = Settings.from_env(base=state.settings if state else None)
            if state and all(self.is_running(n, state) for n in COMPONENTS):
                log.info("reusing the running cluster at %s", self.root)
            changed = self._changed_components(state.settings, wanted) if state else set()
            state = self._prepare(state, wanted)
            context = self._context(state)
            for name in COMPONENTS:
                ref = state.processes.get(name)
                # A process recorded before commands were kept has argv () (unknown).
                stale = ref is not None and bool(ref.argv)
                stale = stale and ref is not None and ref.argv != tuple(command(name, context))
                if (name in changed or stale) and ref and process.is_alive(ref):
                    log.info("restarting %s with a new command line", name)
                    process.terminate(ref, grace=_STOP_GRACE)
                if not self.is_running(name, state):
                    self._start(state, name)
                if name in (ETCD, APISERVER):
                    # Everything after these needs them; the rest start in parallel.
                    self._wait_healthy(state, name, deadline)
            for name in (CONTROLLER_MANAGER, SCHEDULER, KWOK):
                self._wait_healthy(state, name, deadline)
            self._bootstrap(state, deadline)
            self._link_tools(state.bin_dir)
            log.info("cluster is up: kubectl --kubeconfig %s get nodes", self.kubeconfig)

    def down(self) -> None:
        """Stop every component and remove all state (PKI, etcd data, logs)."""
        with self._locked():
            state = load(self.layout.state_file)
            refs = []
            if state:
                refs = [state.processes[n] for n in reversed(COMPONENTS) if n in state.processes]
            refs += [r for r in self._orphans() if r not in refs]
            for ref in refs:
                process.terminate(ref, grace=_STOP_GRACE)
            if self.root.exists():
                shutil.rmtree(self.root)
        log.info("cluster at %s is down and its state removed", self.root)

    def status(self) -> dict[str, Any]:
        """What runs: ``{"up": bool, "components": {name: {...}}, ...}``; never raises."""
        state = load(self.layout.state_file)
        components: dict[str, Any] = {}
        for name in COMPONENTS:
            ref = state.processes.get(name) if state else None
            running = bool(state and self.is_running(name, state))
            detail = probe(name, self._context(state)) if state and running else None
            components[name] = {
                "pid": ref.pid if ref and running else None,
                "running": running,
                "healthy": bool(detail and detail.healthy),
                "ports": state.ports.of(name) if state else [],
                "detail": detail.detail if detail else ("not running" if state else "no cluster"),
                "log": str(self.layout.log(name)),
            }
        return {
            "root": str(self.root),
            "up": bool(state) and all(c["healthy"] for c in components.values()),
            "kubeconfig": str(self.kubeconfig),
            "server": self._context(state).server if state else None,
            "bin_dir": str(state.bin_dir) if state else None,
            "settings": state.settings.to_json() if state else None,
            "components": components,
        }

    def is_running(self, name: str, _state: State | None = None) -> bool:
        """Is the component's recorded process alive (not necessarily healthy yet)?"""
        state = _state or load(self.layout.state_file)
        ref = state.processes.get(self._known(name)) if state else None
        return ref is not None and process.is_alive(ref)

    def stop(self, name: str, *, grace: float = _STOP_GRACE) -> None:
        """SIGTERM the component, SIGKILL after ``grace`` seconds. Its data stays."""
        with self._locked():
            state = self._require_state()
            ref = state.processes.get(self._known(name))
            if ref:
                process.terminate(ref, grace=grace)

    def kill(self, name: str) -> None:
        """SIGKILL the component (a crash, as far as it and its clients can tell)."""
        with self._locked():
            state = self._require_state()
            ref = state.processes.get(self._known(name))
            if ref:
                process.kill(ref)

    def start(self, name: str, *, wait: bool = True, timeout: float = 120.0) -> None:
        """Start a stopped component on its old ports with its old data; by default wait
        until it is healthy. Does nothing to a running component."""
        deadline = time.monotonic() + timeout
        with self._locked():
            state = self._require_state()
            if not self.is_running(name, state):
                self._start(state, name)
        if wait:
            self._wait_healthy(state, name, deadline)

    def restart(self, name: str, *, timeout: float = 120.0) -> None:
        self.stop(name)
        self.start(name, timeout=timeout)

    def wait_healthy(self, name: str, timeout: float = 120.0) -> None:
        """Block until the component answers its health check; ``ClusterError`` if its
        process dies or ``timeout`` passes (with the tail of its log)."""
        self._wait_healthy(self._require_state(), self._known(name), time.monotonic() + timeout)

    # -- internals ------------------------------------------------------------------

    @staticmethod
    def _known(name: str) -> str:
        if name not in COMPONENTS:
            raise ValueError(f"unknown component {name!r}; one of {', '.join(COMPONENTS)}")
        return name

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise cluster changes across processes (make, pytest, benchmarks)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self.layout.lock_file.open("a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def _require_state(self) -> State:
        state = load(self.layout.state_file)
        if state is None:
            raise ClusterError(f"no local cluster at {self.root}: run `make cluster-up` first")
        return state

    def _context(self, state: State) -> Context:
        return Context(
            bin_dir=state.bin_dir,
            layout=self.layout,
            pki=Pki(self.layout.pki),
            ports=state.ports,
            settings=state.settings,
        )

    @staticmethod
    def _changed_components(running: Settings, wanted: Settings) -> set[str]:
        return {
            name
            for name, fields in _SETTINGS_OF.items()
            if any(getattr(running, f) != getattr(wanted, f) for f in fields)
        }

    def _prepare(self, state: State | None, settings: Settings) -> State:
        """Binaries, PKI, ports and kubeconfigs for a (re)started cluster; saved."""
        bin_dir = self._bin_dir or (state.bin_dir if state else None) or binaries.resolve()
        missing = [b for b in (*COMPONENTS, "kubectl") if not (bin_dir / b).exists()]
        if missing:
            raise ClusterError(f"{bin_dir} lacks {', '.join(missing)}")
        self._bin_dir = bin_dir
        pki = ensure_pki(self.layout.pki)
        if state is None:
            allocated = ports.free_ports(6)
            state = State(bin_dir=bin_dir, ports=Ports(*allocated), settings=settings)
        else:
            state = replace(state, bin_dir=bin_dir, settings=settings)
        server = self._context(state).server
        users: list[tuple[Path, ClientIdentity]] = [
            (self.layout.kubeconfig, ADMIN),
            (self.layout.component_kubeconfig(CONTROLLER_MANAGER), KCM_USER),
            (self.layout.component_kubeconfig(SCHEDULER), SCHED_USER),
        ]
        for path, who in users:
            kubeconfig.write(
                path,
                kubeconfig.render(
                    server=server,
                    ca_cert=pki.ca_cert,
                    client_cert=pki.client_cert(who),
                    client_key=pki.client_key(who),
                    user=who.user,
                ),
            )
        save(self.layout.state_file, state)
        return state

    def _start(self, state: State, name: str) -> None:
        for port in state.ports.of(name):
            if not ports.wait_free(port, _PORT_RELEASE_TIMEOUT):
                raise ClusterError(
                    f"cannot start {name}: port {port} is taken by another process; "
                    "`make cluster-down` and `make cluster-up` pick new ports"
                )
        context = self._context(state)
        argv = command(name, context)
        ref = process.spawn_detached(
            argv, log=self.layout.log(name), env=environment(name, context), cwd=self.root
        )
        state.processes[name] = replace(ref, argv=tuple(argv))
        save(self.layout.state_file, state)
        log.info("started %s (pid %d)", name, ref.pid)

    def _wait_healthy(self, state: State, name: str, deadline: float) -> None:
        context = self._context(state)
        started = time.monotonic()
        while True:
            if not self.is_running(name, state):
                raise ClusterError(
                    f"{name} is not running; last lines of {self.layout.log(name)}:\n"
                    + _tail(self.layout.log(name))
                )
            result = probe(name, context)
            if result.healthy:
                log.info("%s is healthy (%.1fs)", name, time.monotonic() - started)
                return
            if time.monotonic() >= deadline:
                raise ClusterError(
                    f"{name} not healthy in time ({result.detail}); last lines of "
                    f"{self.layout.log(name)}:\n" + _tail(self.layout.log(name))
                )
            time.sleep(0.2)

    def _bootstrap(self, state: State, deadline: float) -> None:
        kubectl = bootstrap.Kubectl(state.bin_dir / "kubectl", self.kubeconfig)
        try:
            bootstrap.create_nodes(kubectl, state.settings.nodes)
            remaining = max(deadline - time.monotonic(), 10.0)
            bootstrap.wait_nodes_ready(kubectl, state.settings.nodes, timeout=remaining)
            remaining = max(deadline - time.monotonic(), 10.0)
            bootstrap.wait_default_service_account(kubectl, timeout=remaining)
        except bootstrap.BootstrapError as exc:
            raise ClusterError(f"{exc} (kwok log: {self.layout.log(KWOK)})") from exc

    def _link_tools(self, bin_dir: Path) -> None:
        self.layout.bin_links.mkdir(parents=True, exist_ok=True)
        for tool in ("kubectl", "helm"):
            link = self.layout.bin_links / tool
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(bin_dir / tool)

    def _orphans(self) -> list[process.ProcessRef]:
        """Our components still running without a state file that names them."""
        return process.find_by_argument(f"{self.root}/", COMPONENTS)

    def _stop_orphans(self) -> None:
        for ref in self._orphans():
            log.warning("stopping pid %d left over from a lost state file", ref.pid)
            process.terminate(ref, grace=_STOP_GRACE)
