"""LeaseElector against a real API server: one leader, fast handover, safe step-down.

Timings are short (lease 3 s, renew deadline 2 s, retry 0.5 s) and every test uses a
fresh namespace, so Leases never collide. A `Replicas` group runs the electors of a test
and checks, at every `on_started` and by sampling every few milliseconds, that no two of
them lead at once, and that each one's callbacks alternate started/stopped. Bounds on
time come from the configured durations: lower bounds are exact (a standby cannot have
seen a renewal before it was sent), upper bounds add generous slack.

The timing validation tests need no cluster and run under ``-m 'not cluster'``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import re
import secrets
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from kubernetes.aio import client as kclient
from kubernetes.aio import config as kconfig

from kron.k8s.api import KubeApi
from kron.k8s.leader import ACQUIRE_JITTER, LeaseElector
from kron.metrics import Metrics
from support.cluster import ClusterHandle
from support.wait import async_wait_until

pytestmark = pytest.mark.timeout(120)

LEASE = 3.0
RENEW = 2.0
RETRY = 0.5
TIMINGS = {"lease_duration": LEASE, "renew_deadline": RENEW, "retry_period": RETRY}
POLL = RETRY * (1 + ACQUIRE_JITTER)
"""The longest a standby waits between two looks at the Lease."""
SLACK = 1.0
"""Request latency and scheduling on a loaded machine, added to every upper bound."""
TICK = 0.25
"""How late past a deadline the event loop may wake us."""
MICRO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
LOGGER = "kron.k8s.leader"


# -- an API whose lease calls can be broken, and which records its lease writes --------


class SwitchableApi(KubeApi):
    """The real API server, until `outage` names another (dead) one to send requests to."""

    def __init__(self, api_client: kclient.ApiClient) -> None:
        super().__init__(api_client)
        self.outage: KubeApi | None = None
        self.writes: list[float] = []
        """When each successful Lease create/update was sent (monotonic clock)."""

    async def request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        if self.outage is not None:
            return await self.outage.request(method, path, **kwargs)
        sent = time.monotonic()
        result = await super().request(method, path, **kwargs)
        if method in ("POST", "PUT") and "/leases" in path:
            self.writes.append(sent)
        return result


@dataclass
class Replica:
    name: str
    elector: LeaseElector
    api: SwitchableApi
    metrics: Metrics
    events: list[tuple[str, float]] = field(default_factory=list)
    holder_at_stop: list[str | None] = field(default_factory=list)
    """The Lease holder this replica knew of as it stopped leading."""
    task: asyncio.Task[None] | None = None

    @property
    def leading(self) -> bool:
        return self.elector.leading

    def started_at(self, nth: int = 0) -> float:
        return [t for kind, t in self.events if kind == "started"][nth]

    def stopped_at(self, nth: int = 0) -> float:
        return [t for kind, t in self.events if kind == "stopped"][nth]


class Replicas:
    """The electors of one test, all on one Lease, and the one-leader invariant."""

    def __init__(self, configuration: kclient.Configuration, namespace: str) -> None:
        self.configuration = configuration
        self.namespace = namespace
        self.lease = f"kron-test-{secrets.token_hex(3)}"
        self.members: list[Replica] = []
        self.violations: list[str] = []
        self.observer = SwitchableApi(kclient.ApiClient(configuration))
        self._extra: list[KubeApi] = []
        self._sampler: asyncio.Task[None] | None = None

    def add(self, name: str, *, release_on_cancel: bool = True) -> Replica:
        api = SwitchableApi(kclient.ApiClient(self.configuration))
        metrics = Metrics()
        replica: Replica

        def started() -> None:
            others = [r.name for r in self.members if r is not replica and r.leading]
            if others:
                self.violations.append(f"{name} started leading while {others} lead")
            replica.events.append(("started", time.monotonic()))

        def stopped() -> None:
            replica.events.append(("stopped", time.monotonic()))
            replica.holder_at_stop.append(replica.elector.holder)

        elector = LeaseElector(
            api,
            namespace=self.namespace,
            name=self.lease,
            identity=name,
            on_started=started,
            on_stopped=stopped,
            metrics=metrics,
            release_on_cancel=release_on_cancel,
            **TIMINGS,
        )
        replica = Replica(name, elector, api, metrics)
        self.members.append(replica)
        return replica

    def start(self, *replicas: Replica) -> None:
        if self._sampler is None:
            self._sampler = asyncio.create_task(self._sample())
        for replica in replicas:
            replica.task = asyncio.create_task(replica.elector.run(), name=replica.name)

    async def stop(self, replica: Replica) -> float:
        """Cancel the replica's elector; return when the cancel was issued."""
        assert replica.task is not None
        cancelled_at = time.monotonic()
        replica.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await replica.task
        return cancelled_at

    def leaders(self) -> list[str]:
        return [r.name for r in self.members if r.leading]

    async def _sample(self) -> None:
        while True:
            leaders = self.leaders()
            if len(leaders) > 1:
                self.violations.append(f"two leaders at once: {leaders}")
            await asyncio.sleep(0.005)

    async def get_lease(self) -> dict[str, Any]:
        return await self.observer.get_lease(self.namespace, self.lease)

    def dead_api(self, host: str) -> KubeApi:
        configuration = copy.deepcopy(self.configuration)
        configuration.host = host
        api = KubeApi(kclient.ApiClient(configuration))
        self._extra.append(api)
        return api

    def check(self) -> None:
        """Never two leaders; every replica's callbacks alternate, starting with started."""
        assert not self.violations, self.violations
        for r in self.members:
            kinds = [kind for kind, _ in r.events]
            expected = ["started", "stopped"] * len(kinds)
            assert kinds == expected[: len(kinds)], f"{r.name}: callbacks {kinds}"

    async def close(self) -> None:
        for r in self.members:
            if r.task is not None and not r.task.done():
                r.api.outage = None
                await self.stop(r)
        if self._sampler is not None:
            self._sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sampler
        for api in [self.observer, *(r.api for r in self.members), *self._extra]:
            await api.close()


@pytest.fixture
async def replicas(cluster: ClusterHandle, namespace: str) -> AsyncIterator[Replicas]:
    configuration = kclient.Configuration()
    await kconfig.load_kube_config(
        config_file=cluster.kubeconfig, client_configuration=configuration
    )
    group = Replicas(configuration, namespace)
    try:
        yield group
    finally:
        await group.close()
    group.check()


def gauge(replica: Replica, sample: str) -> float | None:
    return replica.metrics.registry.get_sample_value(sample)


async def leads(replica: Replica, within: float) -> None:
    await async_wait_until(
        lambda: replica.leading, timeout=within, interval=0.01, message=f"{replica.name} leads"
    )


# -- acquiring ----------------------------------------------------------------------------


@pytest.mark.cluster
async def test_first_elector_creates_the_lease_and_leads(replicas: Replicas) -> None:
    a = replicas.add("a")
    replicas.start(a)
    await leads(a, within=POLL + SLACK)

    lease = await replicas.get_lease()
    spec = lease["spec"]
    assert spec["holderIdentity"] == "a"
    assert spec["leaseDurationSeconds"] == 3
    assert spec["leaseTransitions"] == 0
    assert MICRO_TIME.match(spec["acquireTime"]), spec["acquireTime"]
    assert MICRO_TIME.match(spec["renewTime"]), spec["renewTime"]
    assert a.elector.holder == "a"
    assert gauge(a, "kron_leader") == 1
    assert gauge(a, "kron_leader_transitions_total") == 1

    # It keeps renewing: renewTime moves, acquireTime and the transitions stay.
    async def renewed() -> dict[str, Any] | None:
        now = (await replicas.get_lease())["spec"]
        return now if now["renewTime"] != spec["renewTime"] else None

    later = await async_wait_until(renewed, timeout=RETRY + SLACK, message="renewTime moves")
    assert later["holderIdentity"] == "a"
    assert later["acquireTime"] == spec["acquireTime"]
    assert later["leaseTransitions"] == 0
    replicas.check()


@pytest.mark.cluster
async def test_electors_racing_for_a_missing_lease_elect_exactly_one(replicas: Replicas) -> None:
    racers = [replicas.add(name) for name in ("a", "b", "c")]
    replicas.start(*racers)
    leader = await async_wait_until(
        replicas.leaders, timeout=POLL + SLACK, interval=0.01, message="a leader"
    )
    (winner,) = leader
    for r in racers:
        await async_wait_until(
            lambda r=r: r.elector.holder == winner,
            timeout=POLL + SLACK,
            message=f"{r.name} sees {winner} as holder",
        )
    assert (await replicas.get_lease())["spec"]["holderIdentity"] == winner
    replicas.check()


@pytest.mark.cluster
async def test_standby_stays_standby_while_the_leader_renews(replicas: Replicas) -> None:
    a, b = replicas.add("a"), replicas.add("b")
    replicas.start(a)
    await leads(a, within=POLL + SLACK)
    replicas.start(b)
    await async_wait_until(
        lambda: b.elector.holder == "a", timeout=POLL + SLACK, message="b sees a as holder"
    )
    before = (await replicas.get_lease())["spec"]

    # Long enough for b to take over if it misjudged a's renewals as expiry: a whole
    # lease duration and two polls past b's first look, measured in a's renewals.
    since = len(a.api.writes)
    needed = int((LEASE + 2 * POLL) / RETRY) + 1
    await async_wait_until(
        lambda: len(a.api.writes) - since >= needed,
        timeout=needed * RETRY + 2 * SLACK,
        message=f"a renews {needed} times",
    )

    assert not b.leading
    assert b.events == []
    assert [kind for kind, _ in a.events] == ["started"]
    after = (await replicas.get_lease())["spec"]
    assert after["holderIdentity"] == "a"
    assert after["leaseTransitions"] == before["leaseTransitions"] == 0
    assert after["acquireTime"] == before["acquireTime"]
    assert gauge(b, "kron_leader") == 0
    replicas.check()


# -- handing over -------------------------------------------------------------------------


async def leader_and_standby(
    replicas: Replicas, *, release_on_cancel: bool = True
) -> tuple[Replica, Replica]:
    a = replicas.add("a", release_on_cancel=release_on_cancel)
    b = replicas.add("b")
    replicas.start(a)
    await leads(a, within=POLL + SLACK)
    replicas.start(b)
    await async_wait_until(
        lambda: b.elector.holder == "a", timeout=POLL + SLACK, message="b sees a as holder"
    )
    return a, b


@pytest.mark.cluster
async def test_graceful_stop_hands_over_within_a_poll(replicas: Replicas) -> None:
    a, b = await leader_and_standby(replicas)
    stopped = await replicas.stop(a)
    await leads(b, within=LEASE + 2 * POLL + SLACK)
    took = b.started_at() - stopped
    print(f"graceful takeover after {took:.3f}s")

    # Released, so b's next poll takes it: a lease expiry would take >= LEASE - RETRY.
    assert took < POLL + SLACK
    assert took < LEASE - RETRY
    assert a.stopped_at() <= b.started_at()
    # a stopped leading before it released the Lease, not after: no overlap with b.
    assert a.holder_at_stop == ["a"]
    assert a.elector.holder is None
    assert gauge(a, "kron_leader") == 0
    assert gauge(a, "kron_leader_transitions_total") == 2
    spec = (await replicas.get_lease())["spec"]
    assert spec["holderIdentity"] == "b"
    assert spec["leaseTransitions"] == 1
    assert spec["leaseDurationSeconds"] == 3
    replicas.check()


@pytest.mark.cluster
async def test_crashed_leader_is_replaced_only_after_the_lease_expires(
    replicas: Replicas,
) -> None:
    a, b = await leader_and_standby(replicas, release_on_cancel=False)
    crashed = await replicas.stop(a)
    last_renewal_sent = a.api.writes[-1]
    await leads(b, within=LEASE + 2 * POLL + SLACK)
    took = b.started_at() - crashed
    print(f"takeover after a crash: {took:.3f}s")

    # b cannot have seen a's last renewal before it was sent, and waits a whole lease
    # duration after seeing it.
    assert b.started_at() >= last_renewal_sent + LEASE
    assert took < LEASE + 2 * POLL + SLACK
    spec = (await replicas.get_lease())["spec"]
    assert spec["holderIdentity"] == "b"
    assert spec["leaseTransitions"] == 1
    replicas.check()


@pytest.mark.cluster
async def test_lease_transitions_count_each_handover(replicas: Replicas) -> None:
    a = replicas.add("a")
    b = replicas.add("b", release_on_cancel=False)  # it will crash
    replicas.start(a)
    await leads(a, within=POLL + SLACK)
    replicas.start(b)
    await async_wait_until(
        lambda: b.elector.holder == "a", timeout=POLL + SLACK, message="b sees a as holder"
    )
    assert (await replicas.get_lease())["spec"]["leaseTransitions"] == 0

    await replicas.stop(a)  # graceful
    await leads(b, within=POLL + SLACK)
    assert (await replicas.get_lease())["spec"]["leaseTransitions"] == 1

    c = replicas.add("c")
    replicas.start(c)
    await async_wait_until(
        lambda: c.elector.holder == "b", timeout=POLL + SLACK, message="c sees b as holder"
    )
    await replicas.stop(b)  # a crash: no release
    await leads(c, within=LEASE + 2 * POLL + SLACK)
    spec = (await replicas.get_lease())["spec"]
    assert (spec["holderIdentity"], spec["leaseTransitions"]) == ("c", 2)

    assert [gauge(r, "kron_leader_transitions_total") for r in (a, b, c)] == [2, 2, 1]
    assert [gauge(r, "kron_leader") for r in (a, b, c)] == [0, 0, 1]
    replicas.check()


# -- judging expiry -----------------------------------------------------------------------


@pytest.mark.cluster
@pytest.mark.parametrize(
    "renew_time",
    ["2001-01-01T00:00:00.000000Z", "2100-01-01T00:00:00.000000Z"],
    ids=["renewTime-long-past", "renewTime-far-future"],
)
async def test_expiry_is_judged_by_local_observation_not_by_renew_time(
    replicas: Replicas, renew_time: str
) -> None:
    """An abandoned Lease is taken one lease duration after this replica first saw it,
    whatever its renewTime says: the writer's clock is not ours."""
    await replicas.observer.create_lease(
        replicas.namespace,
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": replicas.lease, "namespace": replicas.namespace},
            "spec": {
                "holderIdentity": "ghost",
                "leaseDurationSeconds": 3,
                "acquireTime": renew_time,
                "renewTime": renew_time,
                "leaseTransitions": 7,
            },
        },
    )
    a = replicas.add("a")
    started = time.monotonic()
    replicas.start(a)
    await async_wait_until(
        lambda: a.elector.holder == "ghost", timeout=SLACK, message="a sees the ghost"
    )
    await leads(a, within=LEASE + 2 * POLL + SLACK)

    took = a.started_at() - started
    assert LEASE <= took < LEASE + 2 * POLL + SLACK
    spec = (await replicas.get_lease())["spec"]
    assert spec["holderIdentity"] == "a"
    assert spec["leaseTransitions"] == 8
    assert spec["acquireTime"] != renew_time
    replicas.check()


# -- losing the API server ----------------------------------------------------------------


@contextlib.asynccontextmanager
async def unreachable_host(mode: str) -> AsyncIterator[str]:
    """An https URL nobody answers: 'refused' (nothing listens) or 'hanging' (a listener
    that accepts connections and never says a word)."""
    if mode == "refused":
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        yield f"https://127.0.0.1:{port}"
        return
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        await reader.read()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        server.close()
        for writer in held:
            writer.close()
        await server.wait_closed()


@pytest.mark.cluster
@pytest.mark.parametrize("mode", ["refused", "hanging"])
async def test_leader_that_cannot_reach_the_api_steps_down_within_the_renew_deadline(
    replicas: Replicas, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    a, b = await leader_and_standby(replicas)
    async with unreachable_host(mode) as host:
        caplog.clear()
        broke = time.monotonic()
        a.api.outage = replicas.dead_api(host)
        last_renewal_sent = a.api.writes[-1]
        await async_wait_until(
            lambda: not a.leading, timeout=RENEW + SLACK, interval=0.01, message="a steps down"
        )
        gave_up = a.stopped_at() - broke
        print(f"{mode}: stepped down {gave_up:.3f}s after the API went away")

        # Within the renew deadline of its last renewal, so before b may take over.
        assert a.stopped_at() <= last_renewal_sent + RENEW + TICK
        assert a.stopped_at() < last_renewal_sent + LEASE
        assert gauge(a, "kron_leader") == 0

        await leads(b, within=LEASE + 2 * POLL + SLACK)
        assert b.started_at() >= last_renewal_sent + LEASE
        assert b.started_at() > a.stopped_at()

        # One warning for the whole streak of failures, however long, no stack traces.
        def failures() -> list[logging.LogRecord]:
            return [r for r in caplog.records if "API call failed" in r.getMessage()]

        await async_wait_until(
            lambda: len(failures()) >= 3,
            timeout=3 * RENEW + SLACK,  # a hanging call is given up after RENEW
            message="a fails three times",
        )
        warnings = [r for r in failures() if r.levelno >= logging.WARNING]
        assert len(warnings) == 1, [r.getMessage() for r in warnings]
        assert not any(r.exc_info for r in caplog.records if r.name == LOGGER)

    # Back on the network, a is a standby that sees b lead.
    a.api.outage = None
    await async_wait_until(
        lambda: a.elector.holder == "b", timeout=POLL + SLACK, message="a sees b as holder"
    )
    assert any("answers again" in r.getMessage() for r in caplog.records)
    assert not a.leading
    assert [kind for kind, _ in a.events] == ["started", "stopped"]
    replicas.check()


# -- configuration (no cluster) -----------------------------------------------------------


def elector(**timings: float) -> LeaseElector:
    return LeaseElector(
        KubeApi.__new__(KubeApi),  # never called: __init__ only validates and stores
        namespace="ns",
        name="lease",
        identity="me",
        on_started=lambda: None,
        on_stopped=lambda: None,
        **timings,
    )


@pytest.mark.parametrize(
    ("timings", "complaint"),
    [
        ({"lease_duration": 10, "renew_deadline": 10, "retry_period": 2}, "lease_duration"),
        ({"lease_duration": 5, "renew_deadline": 10, "retry_period": 2}, "lease_duration"),
        ({"lease_duration": 15, "renew_deadline": 2, "retry_period": 2}, "renew_deadline"),
        ({"lease_duration": 15, "renew_deadline": 1, "retry_period": 2}, "renew_deadline"),
        ({"lease_duration": 15, "renew_deadline": 10, "retry_period": 0}, "retry_period"),
        ({"lease_duration": 15, "renew_deadline": 10, "retry_period": -1}, "retry_period"),
    ],
)
def test_timings_that_could_give_two_leaders_are_refused(
    timings: dict[str, float], complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        elector(**timings)


@pytest.mark.parametrize(
    "timings",
    [
        {},  # client-go's defaults: 15 / 10 / 2
        {"lease_duration": 3, "renew_deadline": 2, "retry_period": 0.5},
        {"lease_duration": 1.5, "renew_deadline": 1, "retry_period": 0.2},
    ],
)
def test_sound_timings_are_accepted(timings: dict[str, float]) -> None:
    e = elector(**timings)
    assert not e.leading
    assert e.holder is None


def test_empty_names_are_refused() -> None:
    with pytest.raises(ValueError, match="identity"):
        LeaseElector(
            KubeApi.__new__(KubeApi),
            namespace="ns",
            name="lease",
            identity="",
            on_started=lambda: None,
            on_stopped=lambda: None,
        )


async def test_a_second_concurrent_run_is_refused() -> None:
    e = elector()
    e._running = True  # as if run() were already going
    with pytest.raises(RuntimeError, match="already running"):
        await e.run()
